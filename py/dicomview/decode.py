"""A file to a pydicom Dataset and to the stored values of one frame, with a reason for every failure.

Every failure becomes `UnreadableFile` with a sentence a user can act on ("not a DICOM file",
"truncated: …", "no pixel data", "transfer syntax … is not supported yet"), so the page can name
the file and the reason and carry on with the rest of the batch.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import get_decoder
from pydicom.pixels import pixel_array as pydicom_pixel_array
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import UID

from dicomview import deferred
from dicomview.deferred import PIXEL_DATA_TAG

# Without a preamble a file may still be a bare DICOM dataset (ACR-NEMA style, old exports); after a
# forced read we accept it only if it holds at least one of these image-level attributes.
IMAGE_EVIDENCE = ("SOPClassUID", "PixelData", "Rows", "FloatPixelData", "DoubleFloatPixelData")
PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


class UnreadableFile(Exception):
    """A file that cannot be shown; str() is the reason, without the file name."""


@dataclass(frozen=True)
class Limits:
    """Bounds checked from the header before any pixel buffer is allocated.

    A crafted header (60000 x 60000 x 1000 frames) must be refused with a reason, not take the tab
    down. The defaults admit a 1000-frame 512x512 cine and a 16384x16384 slide tile.
    """

    max_samples: int = 1 << 30  # Rows x Columns x Frames x Samples per Pixel of one file
    max_frame_samples: int = 1 << 28  # Rows x Columns x Samples per Pixel of one decoded frame


DEFAULT_LIMITS = Limits()
VALID_BITS_ALLOCATED = (1, 8, 16, 32, 64)


def read_dataset(data: bytes | BinaryIO) -> Dataset:
    """Parse a DICOM file (Part 10, or a bare dataset): its bytes, or a seekable binary source from which
    the Pixel Data is read only when a frame is decoded (dicomview.deferred)."""
    if deferred.size_of(data) == 0:
        raise UnreadableFile("the file is empty")
    try:
        return with_frame_count(with_transfer_syntax(_parse(data, force=False)))
    except InvalidDicomError:
        pass
    try:
        ds = _parse(data, force=True)
    except UnreadableFile:
        raise UnreadableFile("not a DICOM file (no DICM header, and not a readable DICOM dataset)") from None
    if not any(keyword in ds for keyword in IMAGE_EVIDENCE):
        raise UnreadableFile("not a DICOM file (no DICM header, and no image attributes)")
    return with_frame_count(with_transfer_syntax(ds))


def with_transfer_syntax(ds: Dataset) -> Dataset:
    """pydicom decodes only with a Transfer Syntax UID in the file meta: record the one the reader
    inferred for files without it (bare datasets, old exports)."""
    if "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = transfer_syntax(ds)
    return ds


def with_frame_count(ds: Dataset) -> Dataset:
    """A Number of Frames that is not a number (an IS value such as '1A', PS3.5 6.2) is replaced by the
    count the native Pixel Data holds (PS3.5 8.1.1: frames x Rows x Columns x samples x Bits Allocated),
    when it holds a whole number of frames: DCMTK shows such a file too. Otherwise frame_count refuses it."""
    try:
        int(ds.get("NumberOfFrames", 1) or 1)
        return ds
    except (TypeError, ValueError):
        pass
    try:
        frame_bytes = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * int(ds.BitsAllocated) // 8
        pixel_bytes = pixel_data_length(ds) if not transfer_syntax(ds).is_compressed else 0
    except (AttributeError, TypeError, ValueError):
        return ds
    if int(ds.BitsAllocated) % 8 == 0 and frame_bytes > 0 and pixel_bytes and pixel_bytes % frame_bytes == 0:
        ds.NumberOfFrames = pixel_bytes // frame_bytes
    return ds


def _parse(data: bytes | BinaryIO, force: bool) -> Dataset:
    in_memory = isinstance(data, bytes | bytearray)

    def read(**options) -> Dataset:
        source = io.BytesIO(data) if in_memory else data
        source.seek(0)
        return pydicom.dcmread(source, force=force, defer_size=None if in_memory else deferred.DEFER_BYTES,
                               **options)

    try:
        ds = read()
        cut = truncation(ds)
        if cut and not ds._dict and read(stop_before_pixels=True)._dict:
            # pydicom keeps no element at all when encapsulated Pixel Data ends before its delimiter
            cut = "the encapsulated pixel data is truncated (the file ends before its sequence delimiter)"
        if cut:
            raise UnreadableFile(cut)
        for tag in list(ds.keys()):  # values are converted lazily: convert them so errors surface here
            if tag in deferred.PIXEL_TAGS and deferred.unread_element(ds, tag) is not None:
                continue  # left in the file until a frame is decoded
            element = ds[tag]
            element.value  # noqa: B018 (decoding each value is the check)
            for item in element.value if element.VR == "SQ" else ():
                for nested in item.iterall():
                    nested.value  # noqa: B018 (decoding each value is the check)
    except (InvalidDicomError, UnreadableFile):
        raise
    except (EOFError, BufferError) as exc:
        raise UnreadableFile(f"the file is truncated ({exc})") from exc
    except deferred.SourceUnreadable as exc:  # a file read in place: moved or changed since it was chosen
        raise UnreadableFile(f"could not be read ({exc})") from exc
    except Exception as exc:  # pydicom raises many types for malformed input
        raise UnreadableFile(f"malformed DICOM ({type(exc).__name__}: {exc})") from exc
    if in_memory:
        # pydicom keeps the BytesIO it read, for deferred values (none here: all were read above); it holds
        # the whole file's bytes next to the Pixel Data copied out of them, twice the memory (issue 7).
        ds.buffer = None
    else:
        deferred.remember_unread(ds)
    return ds


def truncation(ds: Dataset) -> str | None:
    """pydicom stops quietly at the end of the data; a last element shorter than declared means a cut."""
    elements = list(ds._dict.values())  # raw elements: their values are still the bytes read
    if not elements:
        meta = getattr(ds, "file_meta", None)
        return "the file ends after its header, before any data (truncated?)" if meta is not None else None
    last = elements[-1]
    length, value = getattr(last, "length", None), getattr(last, "value", None)
    if isinstance(value, bytes):
        present = len(value)
    elif value is None and length and (size := deferred.source_size(ds)) is not None:  # left in the file
        present = max(size - last.value_tell, 0)  # (dicomview.deferred)
    else:
        return None
    if length is None or length == 0xFFFFFFFF or present >= length:
        return None
    if last.tag == PIXEL_DATA_TAG:
        return f"the pixel data is truncated ({present} of {length} bytes)"
    return f"the file is truncated inside element {last.tag} ({present} of {length} bytes)"


def transfer_syntax(ds: Dataset) -> UID:
    """The dataset's transfer syntax, or the one pydicom inferred for a file without meta."""
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if uid is None:
        little = getattr(ds, "is_little_endian", True) is not False
        implicit = getattr(ds, "is_implicit_VR", True) is not False
        uid = pydicom.uid.ImplicitVRLittleEndian if implicit and little else (
            pydicom.uid.ExplicitVRLittleEndian if little else pydicom.uid.ExplicitVRBigEndian
        )
    if isinstance(uid, list | tuple) or not isinstance(uid, str):  # a mutated or multi-valued element
        raise UnreadableFile(f"the Transfer Syntax UID is malformed ({uid!r})")
    return UID(uid)


def describe_syntax(uid: UID) -> str:
    return f"{uid.name} ({uid})" if uid.is_transfer_syntax else f"{uid} (a private or unknown transfer syntax)"


def check_pixels(ds: Dataset, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise UnreadableFile unless this dataset has pixel data we can decode here, within limits."""
    if not any(keyword in ds for keyword in PIXEL_KEYWORDS):
        if "Rows" in ds or "BitsAllocated" in ds:
            raise UnreadableFile("the file ends before its pixel data (truncated?)")
        raise UnreadableFile("no pixel data (not an image)")
    for keyword in ("Rows", "Columns", "BitsAllocated"):
        if keyword not in ds:
            raise UnreadableFile(f"the image attribute {keyword} is missing")
    check_geometry(ds, limits)
    uid = transfer_syntax(ds)
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        raise UnreadableFile(f"transfer syntax {describe_syntax(uid)} is not supported") from None
    if not decoder.is_available:
        raise UnreadableFile(f"transfer syntax {describe_syntax(uid)} is not supported yet (no decoder here)")
    if not uid.is_compressed and "PixelData" in ds:
        expected, present = native_pixel_bytes(ds), pixel_data_length(ds)
        if expected is not None and present < expected:
            raise UnreadableFile(f"the pixel data is truncated ({present} of {expected} bytes)")


def image_attribute(ds: Dataset, keyword: str, default: int | None = None) -> int:
    value = ds.get(keyword, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UnreadableFile(f"the image attribute {keyword} is not a number ({value!r})") from None


def check_geometry(ds: Dataset, limits: Limits) -> None:
    """Sane image attributes, and a size within the limits (PS3.3 C.7.6.3)."""
    rows, columns = image_attribute(ds, "Rows"), image_attribute(ds, "Columns")
    samples = image_attribute(ds, "SamplesPerPixel", 1)
    bits = image_attribute(ds, "BitsAllocated")
    frames = frame_count(ds)
    if rows < 1 or columns < 1:
        raise UnreadableFile(f"the image has no pixels ({rows} rows × {columns} columns)")
    if samples not in (1, 3):
        raise UnreadableFile(f"Samples per Pixel must be 1 or 3, not {samples}")
    if bits not in VALID_BITS_ALLOCATED:
        raise UnreadableFile(f"Bits Allocated must be one of {VALID_BITS_ALLOCATED}, not {bits}")
    frame_samples = rows * columns * samples
    if frame_samples > limits.max_frame_samples or frame_samples * frames > limits.max_samples:
        raise UnreadableFile(
            f"the image is too large to open: {rows} × {columns} × {frames} frame(s) × {samples} sample(s) "
            f"= {frame_samples * frames:,} samples; the limits are {limits.max_frame_samples:,} per frame "
            f"and {limits.max_samples:,} per file"
        )


def native_pixel_bytes(ds: Dataset) -> int | None:
    """Bytes an uncompressed Pixel Data element must hold (PS3.5 8.1.1), or None if unknown."""
    try:
        return int(get_expected_length(ds, unit="bytes"))
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def frame_count(ds: Dataset) -> int:
    """Number of Frames (PS3.3 C.7.6.6), 1 when absent; a value that is not a number is an error."""
    value = ds.get("NumberOfFrames", 1)
    try:
        return max(int(value or 1), 1)
    except (TypeError, ValueError):
        raise UnreadableFile(f"Number of Frames is not a number ({value!r})") from None


# JPEG with DCT decodes with an IJG-compatible decoder (jpeg_dct): the browser's WebAssembly build of
# DCMTK's IJG codecs, else libjpeg-turbo (imagecodecs for 12-bit, Pillow for 8-bit) under CPython. Not
# pylibjpeg-libjpeg, which is not IJG-based: its IDCT and chroma upsampling differ by a level or more.
DCT_PLUGINS = ("dcmjs-codecs-wasm", "imagecodecs", "pillow")
with contextlib.suppress(ValueError):  # already registered (the module was imported again)
    get_decoder(pydicom.uid.JPEGExtended12Bit).add_plugin("imagecodecs", ("dicomview.jpeg_dct", "decode_frame"))


def preferred_plugin(ds: Dataset) -> str:
    """The first of DCT_PLUGINS that can decode this JPEG DCT dataset; "" lets pydicom choose."""
    uid = transfer_syntax(ds)
    if uid in (pydicom.uid.JPEGBaseline8Bit, pydicom.uid.JPEGExtended12Bit):
        available = get_decoder(uid).available_plugins
        wanted = DCT_PLUGINS if int(ds.get("BitsStored", 8)) <= 8 else DCT_PLUGINS[:-1]  # Pillow: 8-bit only
        return next((name for name in wanted if name in available), "")
    return ""


def stored_frame(ds: Dataset, index: int, limits: Limits = DEFAULT_LIMITS) -> np.ndarray:
    """Decode one frame's stored values (no LUT applied); colour comes back as RGB."""
    check_pixels(ds, limits)
    pixel_data = f"the {describe_syntax(transfer_syntax(ds))} pixel data"  # every failure names the syntax
    load_pixel_data(ds)
    try:
        return pydicom_pixel_array(ds, index=index, decoding_plugin=preferred_plugin(ds))
    except (ValueError, EOFError) as exc:
        text = one_line(str(exc))
        if "length" in text.lower() or isinstance(exc, EOFError):
            raise UnreadableFile(f"{pixel_data} is truncated ({text})") from exc
        raise UnreadableFile(f"{pixel_data} cannot be decoded ({text})") from exc
    except Exception as exc:
        raise UnreadableFile(f"{pixel_data} cannot be decoded ({type(exc).__name__}: {one_line(str(exc))})") from exc
    finally:
        deferred.release(ds)


def pixel_data_length(ds: Dataset) -> int:
    """Bytes in the Pixel Data element, without reading what a file read in place left there, unless it
    is of undefined length (encapsulated: only broken native files make the checks ask)."""
    unread = deferred.unread_element(ds, PIXEL_DATA_TAG)
    if unread is not None and unread.length == deferred.UNDEFINED_LENGTH:
        load_pixel_data(ds)
    return deferred.value_length(ds, PIXEL_DATA_TAG)


def load_pixel_data(ds: Dataset) -> None:
    """Read the pixel data a file read in place left there (dicomview.deferred) before decoding: a failure
    here is the file's (gone, changed, too large), not the decoder's."""
    try:
        for keyword in PIXEL_KEYWORDS:
            ds.get(keyword)
    except MemoryError:
        raise UnreadableFile("the pixel data is too large to read in this browser tab") from None
    except Exception as exc:  # missing, unreadable, or another file now (pydicom checks tag and VR)
        raise UnreadableFile(f"the file can no longer be read (moved or changed since it was opened: "
                             f"{type(exc).__name__}: {one_line(str(exc))})") from exc


def one_line(text: str, limit: int = 300) -> str:
    """Decoder errors can be multi-line lists of plugins: a #messages line needs one short line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
