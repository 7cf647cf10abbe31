"""JPEG with DCT (ISO 10918-1 processes 1, 2 and 4: JPEG Baseline and 12-bit JPEG Extended), one decoder
semantics for the browser and CPython.

The browser decodes these with DCMTK's IJG 6b codecs built as WebAssembly (npm dcmjs-codecs,
web/codecs.py); CPython with libjpeg-turbo 3 through PyPI imagecodecs for 12-bit samples (PyPI Pillow,
also libjpeg-turbo, for 8-bit). Both use the same integer IDCT and "fancy" chroma upsampling, so they
agree bit for bit with each other and with DCMTK's dcmdjpeg on every DCT file of the corpora.

Colour follows pydicom's Pillow plugin, so that `raw` means the same with every decoder: samples are
returned as stored in the codestream (YCbCr stays YCbCr, pydicom converts it in numpy) unless an Adobe
APP14 marker says how they were transformed, in which case the codec converts them to RGB as libjpeg does.
This module is also a pydicom decoder plugin module (is_available, DECODER_DEPENDENCIES, decode_frame)
for imagecodecs under CPython.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib.util import find_spec

from pydicom import uid
from pydicom.pixels.decoders.base import DecodeRunner

SYNTAXES = (uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit)
DECODER_DEPENDENCIES = {uid.JPEGExtended12Bit: ("imagecodecs",)}
# start-of-frame markers of the DCT processes (ISO 10918-1 Table B.1): baseline, extended, progressive
_DCT_FRAME_MARKERS = {0xC0, 0xC1, 0xC2}
_STANDALONE_MARKERS = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


@dataclass(frozen=True)
class FrameHeader:
    """What the codestream says about its samples (ISO 10918-1 B.2.2), and whether it has an Adobe
    APP14 marker (the one thing that makes libjpeg, and so Pillow, convert colour)."""

    precision: int
    rows: int
    columns: int
    components: int
    adobe: bool


def frame_header(src: bytes) -> FrameHeader:
    """Walk the marker segments up to the frame header; a ValueError names what is wrong."""
    if src[:2] != b"\xff\xd8":
        raise ValueError("the frame does not start with a JPEG SOI marker")
    adobe, at = False, 2
    while at + 4 <= len(src):
        if src[at] != 0xFF:
            raise ValueError(f"no JPEG marker at byte {at}")
        marker = src[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE_MARKERS:
            at += 2
            continue
        (length,) = struct.unpack(">H", src[at + 2:at + 4])
        segment = src[at + 4:at + 2 + length]
        if marker == 0xEE and segment[:5] == b"Adobe" and len(segment) >= 12:  # as Pillow reads it
            adobe = True
        if marker in _DCT_FRAME_MARKERS and len(segment) >= 6:
            precision, rows, columns, components = struct.unpack(">BHHB", segment[:6])
            return FrameHeader(precision, rows, columns, components, adobe)
        if marker == 0xDA:
            break
        at += 2 + length
    raise ValueError("the JPEG frame has no DCT frame header (SOF0, SOF1 or SOF2)")


def container_bits(header: FrameHeader) -> int:
    """Bits Allocated of the decoded samples: 8 for 8-bit precision, 16 for 12-bit."""
    return 8 if header.precision <= 8 else 16


def is_available(transfer_syntax: str) -> bool:
    """pydicom's plugin check (CPython): imagecodecs is installed; only 12-bit JPEG is registered."""
    return transfer_syntax in DECODER_DEPENDENCIES and find_spec("imagecodecs") is not None


def decode_frame(src: bytes, runner: DecodeRunner) -> bytes:
    """One JPEG DCT frame through libjpeg-turbo (imagecodecs), colour as described in the module."""
    import imagecodecs

    header = frame_header(src)
    raw = {} if header.adobe or header.components != 3 else {"colorspace": "YCbCr", "outcolorspace": "YCbCr"}
    runner.set_option("bits_allocated", container_bits(header))
    return imagecodecs.jpeg8_decode(src, **raw).tobytes()
