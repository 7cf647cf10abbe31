"""WebAssembly codecs from npm, vendored into site/vendor/codecs/, as pydicom decoder plugins.

Pyodide has no decoder for JPEG-LS, JPEG 2000 or 12-bit JPEG (its Pillow reads 8-bit JPEG only, and
upsamples 4:2:2 chroma unlike libjpeg-turbo and DCMTK), so the page loads the Emscripten builds of the
reference C/C++ codecs and registers them with pydicom's decoder plugin
API (`Decoder.add_plugin`): pydicom still parses the dataset, splits the frames and applies
photometric and bit-depth handling; the codec only turns one frame's bytes into pixels. They load
after the page is ready, so they never delay start-up; opening files waits for them.

This module is also pydicom's plugin module: it provides `is_available` and
`DECODER_DEPENDENCIES`, as pydicom's own plugins do.
"""

from __future__ import annotations

from dataclasses import dataclass

from js import URL, Object
from pydicom import uid
from pydicom.pixels import decoders
from pydicom.pixels.decoders.base import DecodeRunner
from pyodide.ffi import JsException, create_proxy, to_js

from dicomview import jpeg_dct
from dicomview.web.host import document, import_module

CODECS_FOLDER = "vendor/codecs/"


@dataclass(frozen=True)
class Codec:
    """One vendored Emscripten module: its script, the global factory it defines, what it decodes."""

    name: str
    script: str
    # the Emscripten factory the script defines; "" for an ES module (loaded by import()) or a
    # standalone WASI module (a .wasm file, instantiated by instantiate_wasi)
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
    Codec("openjph", "openjph/openjphjs.js", "Module",  # OpenJPH's Emscripten glue keeps the default name
          (uid.HTJ2KLossless, uid.HTJ2KLosslessRPCL, uid.HTJ2K),
          ("HTJ2KLosslessDecoder", "HTJ2KLosslessRPCLDecoder", "HTJ2KDecoder"), "decode_htj2k"),
    Codec("jpeg-lossless", "jpeg-lossless/lossless.js", "",
          (uid.JPEGLossless, uid.JPEGLosslessSV1),
          ("JPEGLosslessDecoder", "JPEGLosslessSV1Decoder"), "decode_jpeg_lossless"),
    Codec("dcmjs-codecs", "dcmjs/dcmjs-native-codecs.wasm", "",  # DCMTK's IJG 8/12-bit codecs (jpeg_dct)
          (uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit),
          ("JPEGBaseline8BitDecoder", "JPEGExtended12BitDecoder"), "decode_jpeg_dct"),
)
DECODER_DEPENDENCIES = {
    syntax: (f"the {codec.name} WebAssembly codec",) for codec in CODECS for syntax in codec.syntaxes
}
_loaded: dict[str, object] = {}  # codec name -> instantiated Emscripten module


def is_available(transfer_syntax: str) -> bool:
    """pydicom's plugin check: is the codec for this transfer syntax loaded?"""
    return any(transfer_syntax in codec.syntaxes and codec.name in _loaded for codec in CODECS)


async def classic_script_global(url: str, name: str):
    """Run a classic script (Emscripten glue that defines a global factory) in this worker and return its
    global `name`: its text, run as a function (a worker has no <script>, and a module worker no
    importScripts)."""
    import js

    response = await js.fetch(url)
    if not response.ok:
        raise OSError(f"cannot load {url} (HTTP {response.status})")
    return js.Function.new(f"{await response.text()}\n;return {name};")()


async def load(codec: Codec) -> None:
    """Load, instantiate and register one codec with pydicom."""
    base = URL.new(CODECS_FOLDER, document.baseURI).href
    script = base + codec.script

    if codec.script.endswith(".wasm"):
        _loaded[codec.name] = await instantiate_wasi(script)
    elif not codec.factory:  # an ES module: its exports are the codec
        _loaded[codec.name] = await import_module(script)
    else:
        factory = await classic_script_global(script, codec.factory)
        folder = script.rsplit("/", 1)[0] + "/"
        options = to_js({"locateFile": create_proxy(lambda path, prefix: folder + path)},
                        dict_converter=Object.fromEntries)
        _loaded[codec.name] = await factory(options)
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
            if codec.name == "dcmjs-codecs":
                await load_pillow_fallback()
    return failures


async def load_pillow_fallback() -> None:
    """Pyodide's Pillow, for 8-bit JPEG baseline where DCMTK's IJG codec could not load. Only then: at every
    start it cost a 1 MB download, its loading and pydicom's import of it (tests/bench/README.md, "Pillow").
    pydicom decided at import that its Pillow plugin was unavailable: reload it and register it again."""
    import importlib
    import sys

    import pyodide_js
    from pydicom.pixels.decoders import pillow

    await pyodide_js.loadPackage("pillow")
    importlib.invalidate_caches()  # the import system listed site-packages before Pillow was there
    for name in [name for name in sys.modules if name == "PIL" or name.startswith("PIL.")]:
        del sys.modules[name]  # PIL/ held only the bytecode wheel's .pyc: a namespace package until now
    importlib.reload(pillow)
    for decoder in (decoders.JPEGBaseline8BitDecoder, decoders.JPEGExtended12BitDecoder):
        decoder.remove_plugin("pillow")
        decoder.add_plugin("pillow", ("pydicom.pixels.decoders.pillow", "_decode_frame"))


async def instantiate_wasi(url: str):
    """Instantiate a standalone WebAssembly module built for WASI (dcmjs-codecs' codecs) and return its
    exports. It asks the host only for stderr, the environment and the clock, which are stubbed
    here; its `onCodecsException` import turns a codec error into a ValueError with the codec's text."""
    import js

    response = await js.fetch(url)
    if not response.ok:
        raise OSError(f"cannot load {url} (HTTP {response.status})")
    module: dict[str, object] = {}

    def view():
        return js.DataView.new(module["exports"].memory.buffer)

    def text(pointer: int, length: int) -> str:
        return js.Uint8Array.new(module["exports"].memory.buffer, pointer, length).to_bytes().decode("latin-1")

    def no_environment(count_at: int, size_at: int) -> int:
        view().setUint32(count_at, 0, True)
        view().setUint32(size_at, 0, True)
        return 0

    def discard_output(fd: int, iovecs: int, count: int, written_at: int) -> int:
        memory = view()
        total = sum(memory.getUint32(iovecs + 8 * i + 4, True) for i in range(count))
        memory.setUint32(written_at, total, True)
        return 0

    def codec_error(pointer: int, length: int) -> None:
        raise ValueError(text(pointer, length))

    def exits(code: int) -> None:
        raise RuntimeError(f"the WebAssembly module exited with status {code}")

    def succeed(*args) -> int:
        return 0

    def ignore(*args) -> None:
        return None

    imports = {
        "wasi_snapshot_preview1": {
            "environ_get": succeed, "environ_sizes_get": no_environment, "proc_exit": exits,
            "clock_time_get": succeed, "fd_write": discard_output, "fd_seek": succeed, "fd_close": succeed,
        },
        "env": {"emscripten_notify_memory_growth": ignore, "onCodecsInfo": ignore, "onCodecsTrace": ignore,
                "onCodecsException": codec_error},
    }
    imports = {space: {name: create_proxy(function) for name, function in functions.items()}
               for space, functions in imports.items()}
    result = await js.WebAssembly.instantiate(await response.arrayBuffer(),
                                              to_js(imports, dict_converter=Object.fromEntries))
    module["exports"] = result.instance.exports
    return result.instance.exports


def decode_with(codec: str, decoder_class: str, src: bytes, read):
    """Run one Emscripten decoder on a frame; `read(decoder)` takes what is needed before it is freed."""
    decoder = getattr(_loaded[codec], decoder_class).new()
    try:
        decoder.getEncodedBuffer(len(src)).assign(src)
        decoder.decode()
        return read(decoder)
    except JsException as exc:
        raise ValueError(f"{codec} could not decode the frame ({exc})") from exc
    finally:
        decoder.delete()


def set_jpeg2000_options(runner: DecodeRunner) -> None:
    """What pydicom's pylibjpeg plugin sets for JPEG 2000 and HTJ2K: the codec inverts ICT/RCT, so
    YBR_ICT/YBR_RCT come out as RGB; containers are sized by the codestream precision."""
    if runner.photometric_interpretation in ("YBR_ICT", "YBR_RCT"):
        runner.set_option("photometric_interpretation", "RGB")
    precision = runner.get_option("j2k_precision", runner.bits_stored)
    runner.set_option("bits_allocated", 8 if precision <= 8 else 16 if precision <= 16 else 32)


def decode_jpegls(src: bytes, runner: DecodeRunner) -> bytearray:
    """One JPEG-LS frame (ISO 14495-1) through CharLS; options as pydicom's pyjpegls plugin sets them."""
    info, interleave, pixels = decode_with(
        "charls", "JpegLSDecoder", src,
        lambda d: (d.getFrameInfo(), d.getInterleaveMode(), d.getDecodedBuffer().to_bytes()))
    if info.componentCount > 1:  # interleave mode 0 is colour-by-plane
        runner.set_option("planar_configuration", 1 if interleave == 0 else 0)
    runner.set_option("bits_allocated", 8 if info.bitsPerSample <= 8 else 16)
    return bytearray(pixels)


def decode_jpeg_lossless(src: bytes, runner: DecodeRunner) -> bytearray:
    """One JPEG Lossless frame (ISO 10918-1 process 14) through jpeg-lossless-decoder-js: samples come
    colour-by-pixel in 1- or 2-byte containers (little endian), as pydicom's pylibjpeg plugin has them."""
    decoder = _loaded["jpeg-lossless"].Decoder.new()
    try:
        pixels = decoder.decompress(to_js(src).buffer).to_bytes()
    except JsException as exc:
        raise ValueError(f"jpeg-lossless could not decode the frame ({exc})") from exc
    runner.set_option("bits_allocated", 8 if decoder.numBytes == 1 else 16)
    if decoder.numComp > 1:
        runner.set_option("planar_configuration", 0)
    return bytearray(pixels)


def decode_jpeg2000(src: bytes, runner: DecodeRunner) -> bytearray:
    """One JPEG 2000 frame (ISO 15444-1) through OpenJPEG: colour-by-pixel samples (set_jpeg2000_options)."""
    pixels = decode_with("openjpeg", "J2KDecoder", src, lambda d: d.getDecodedBuffer().to_bytes())
    set_jpeg2000_options(runner)
    return bytearray(pixels)


def decode_htj2k(src: bytes, runner: DecodeRunner) -> bytearray:
    """One High-Throughput JPEG 2000 frame (ISO 15444-15) through OpenJPH; options as pydicom's pylibjpeg
    plugin sets them for HTJ2K, the same as for JPEG 2000 (decode_jpeg2000): colour-by-pixel samples in
    containers sized by the codestream precision, YBR_ICT/YBR_RCT returned as RGB (the codec inverts
    the component transform).

    Where this build of OpenJPH differs from OpenJPEG (pylibjpeg-openjpeg), the result is brought back
    to what OpenJPEG returns: colour without a component transform comes out with the lines of the
    three planes laid one after the other over the interleaved buffer (it pulls planar lines but
    writes them as if interleaved), which is undone here; lossy samples are clamped only to their 8-
    or 16-bit container, so a lower precision is clamped here to its own range. It clamps signed
    samples of 8 bits or fewer to 0..255 and has no container above 16 bits: those frames are refused."""
    import numpy as np

    info, pixels = decode_with("openjph", "HTJ2KDecoder", src,
                               lambda d: (d.getFrameInfo(), d.getDecodedBuffer().to_bytes()))
    rows, columns, components = info.height, info.width, info.componentCount
    if (rows, columns, components) != (runner.rows, runner.columns, runner.samples_per_pixel):
        raise ValueError(f"the HTJ2K frame has {rows} x {columns} pixels of {components} component(s), the "
                         f"dataset says {runner.rows} x {runner.columns} of {runner.samples_per_pixel}")
    bits, signed = info.bitsPerSample, bool(info.isSigned)
    if bits > 16 or (signed and bits <= 8):
        raise ValueError(f"OpenJPH's WebAssembly build cannot return {'signed ' if signed else ''}{bits}-bit samples")
    set_jpeg2000_options(runner)
    samples = np.frombuffer(pixels, ("<i2" if signed else "<u2") if bits > 8 else "u1")
    if components > 1 and not info.isUsingColorTransform:  # planes' lines in pull order -> by pixel
        lines = samples.reshape(rows, columns, components).transpose(0, 2, 1).reshape(components, rows, columns)
        samples = lines.transpose(1, 2, 0)
    if bits not in (8, 16):
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        samples = np.clip(samples, low, high)
    return bytearray(samples.tobytes())


def decode_jpeg_dct(src: bytes, runner: DecodeRunner) -> bytearray:
    """One JPEG baseline or 12-bit extended frame (ISO 10918-1 processes 1, 2, 4) through DCMTK's IJG
    codecs (dcmjs-codecs): samples as stored, converted to RGB only where an Adobe marker says so
    (jpeg_dct), so the result is libjpeg-turbo's under CPython, bit for bit."""
    import js

    header = jpeg_dct.frame_header(src)
    api = _loaded["dcmjs-codecs"]
    context, parameters = api.CreateCodecsContext(), api.CreateDecoderParameters()
    try:
        api.SetColumns(context, header.columns)
        api.SetRows(context, header.rows)
        api.SetBitsAllocated(context, jpeg_dct.container_bits(header))
        api.SetBitsStored(context, header.precision)
        api.SetSamplesPerPixel(context, header.components)
        api.SetPixelRepresentation(context, 0)
        api.SetPlanarConfiguration(context, 0)
        api.SetEncodedBufferSize(context, len(src))
        js.Uint8Array.new(api.memory.buffer, api.GetEncodedBuffer(context), len(src)).assign(src)
        api.SetConvertColorspaceToRgb(parameters, header.adobe)
        try:
            api.DecodeJpeg(context, parameters)
        except JsException as exc:
            raise ValueError(f"dcmjs-codecs could not decode the frame ({exc})") from exc
        size = api.GetDecodedBufferSize(context)
        pixels = js.Uint8Array.new(api.memory.buffer, api.GetDecodedBuffer(context), size).to_bytes()
    finally:
        api.ReleaseDecoderParameters(parameters)
        api.ReleaseCodecsContext(context)
    runner.set_option("bits_allocated", jpeg_dct.container_bits(header))
    return bytearray(pixels)
