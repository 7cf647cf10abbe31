"""WebAssembly codecs from npm, vendored into site/vendor/codecs/, as pydicom decoder plugins.

Pyodide has no decoder for JPEG-LS or JPEG 2000 (its Pillow reads JPEG baseline only), so the page loads the
Emscripten builds of the reference C/C++ codecs and registers them with pydicom's decoder plugin
API (`Decoder.add_plugin`): pydicom still parses the dataset, splits the frames and applies
photometric and bit-depth handling; the codec only turns one frame's bytes into pixels. They load
after the page is ready, so they never delay start-up; opening files waits for them.

This module is also pydicom's plugin module: it provides `is_available` and
`DECODER_DEPENDENCIES`, as pydicom's own plugins do.
"""

from __future__ import annotations

from dataclasses import dataclass

from js import URL, Object, Promise, document
from pydicom import uid
from pydicom.pixels import decoders
from pydicom.pixels.decoders.base import DecodeRunner
from pyodide.ffi import JsException, create_proxy, to_js

CODECS_FOLDER = "vendor/codecs/"


@dataclass(frozen=True)
class Codec:
    """One vendored Emscripten module: its script, the global factory it defines, what it decodes."""

    name: str
    script: str
    factory: str
    syntaxes: tuple[str, ...]
    decoders: tuple[str, ...]  # names of pydicom's Decoder instances in pydicom.pixels.decoders
    function: str  # this module's function pydicom calls for one frame


CODECS = (
    Codec("charls", "charls/charlswasm_decode.js", "CharLSWASM",
          (uid.JPEGLSLossless, uid.JPEGLSNearLossless),
          ("JPEGLSLosslessDecoder", "JPEGLSNearLosslessDecoder"), "decode_jpegls"),
    Codec("openjpeg", "openjpeg/openjpegwasm_decode.js", "OpenJPEGWASM",
          (uid.JPEG2000Lossless, uid.JPEG2000),
          ("JPEG2000LosslessDecoder", "JPEG2000Decoder"), "decode_jpeg2000"),
)
DECODER_DEPENDENCIES = {
    syntax: (f"the {codec.name} WebAssembly codec",) for codec in CODECS for syntax in codec.syntaxes
}
_loaded: dict[str, object] = {}  # codec name -> instantiated Emscripten module


def is_available(transfer_syntax: str) -> bool:
    """pydicom's plugin check: is the codec for this transfer syntax loaded?"""
    return any(transfer_syntax in codec.syntaxes and codec.name in _loaded for codec in CODECS)


def load_script(url: str):
    """A promise that a classic <script> (the Emscripten glue defines a global factory) has run."""

    def executor(resolve, reject):
        script = document.createElement("script")
        script.onload = create_proxy(lambda event: resolve(None))
        script.onerror = create_proxy(lambda event: reject(f"cannot load {url}"))
        script.src = url
        document.head.append(script)

    return Promise.new(create_proxy(executor))


async def load(codec: Codec) -> None:
    """Load, instantiate and register one codec with pydicom."""
    base = URL.new(CODECS_FOLDER, document.baseURI).href
    script = base + codec.script
    await load_script(script)
    folder = script.rsplit("/", 1)[0] + "/"
    options = to_js({"locateFile": create_proxy(lambda path, prefix: folder + path)},
                    dict_converter=Object.fromEntries)
    import js

    _loaded[codec.name] = await getattr(js, codec.factory)(options)
    for decoder_name in codec.decoders:
        getattr(decoders, decoder_name).add_plugin(f"{codec.name}-wasm", (__name__, codec.function))


async def load_all() -> list[str]:
    """Load every codec; returns one line per codec that failed (the page reports them)."""
    failures = []
    for codec in CODECS:
        try:
            await load(codec)
        except Exception as exc:  # a missing or broken codec only disables its transfer syntaxes
            failures.append(f"{codec.name}: {exc}")
    return failures


def decode_jpegls(src: bytes, runner: DecodeRunner) -> bytearray:
    """One JPEG-LS frame (ISO 14495-1) through CharLS; options as pydicom's pyjpegls plugin sets them."""
    decoder = _loaded["charls"].JpegLSDecoder.new()
    try:
        decoder.getEncodedBuffer(len(src)).assign(src)
        decoder.decode()
        info = decoder.getFrameInfo()
        interleave = decoder.getInterleaveMode()
        pixels = decoder.getDecodedBuffer().to_bytes()
    except JsException as exc:
        raise ValueError(f"CharLS could not decode the frame ({exc})") from exc
    finally:
        decoder.delete()
    if info.componentCount > 1:  # interleave mode 0 is colour-by-plane
        runner.set_option("planar_configuration", 1 if interleave == 0 else 0)
    runner.set_option("bits_allocated", 8 if info.bitsPerSample <= 8 else 16)
    return bytearray(pixels)


def decode_jpeg2000(src: bytes, runner: DecodeRunner) -> bytearray:
    """One JPEG 2000 frame (ISO 15444-1) through OpenJPEG; options as pydicom's pylibjpeg plugin sets
    them: samples come colour-by-pixel in containers sized by the codestream precision, and an
    inverse ICT/RCT is applied by the codec, so YBR_ICT/YBR_RCT come out as RGB."""
    decoder = _loaded["openjpeg"].J2KDecoder.new()
    try:
        decoder.getEncodedBuffer(len(src)).assign(src)
        decoder.decode()
        pixels = decoder.getDecodedBuffer().to_bytes()
    except JsException as exc:
        raise ValueError(f"OpenJPEG could not decode the frame ({exc})") from exc
    finally:
        decoder.delete()
    if runner.photometric_interpretation in ("YBR_ICT", "YBR_RCT"):
        runner.set_option("photometric_interpretation", "RGB")
    precision = runner.get_option("j2k_precision", runner.bits_stored)
    runner.set_option("bits_allocated", 8 if precision <= 8 else 16 if precision <= 16 else 32)
    return bytearray(pixels)
