"""Pixel Data left in its file until a frame is shown, and given back once it is decoded.

A 300-slice CT holds 150 MiB of stored pixels; kept in Python's heap they make the tab ~1.8 times their
size (issue 7 asks for 1.3). A file read from a seekable source (in the browser, the user's File read in
place by the worker; under CPython, an open file) is parsed with pydicom's deferred reading (PS3.10
files, `dcmread(defer_size=...)`): an element longer than DEFER_BYTES is skipped and read from the same
source when first used. decode.read_dataset reads every other element at once, so only the Pixel Data
stays behind. Once a single-frame image is decoded, `release` puts the unread element back and the
bytes go with their last reference; showing the image again reads them again (1-3 ms for a
512x512 slice in the browser). A multi-frame object keeps its Pixel Data once read: every frame would read it all.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import BinaryIO

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

DEFER_BYTES = 64 * 1024
"""Elements longer than this stay in the file at first (a 256x256 16-bit image is 128 KiB)."""
READ_AHEAD_BYTES = 16 * 1024
"""A read shorter than this fetches this much: one read holds a CT or MR header (pydicom reads it in
pieces of a few bytes)."""
PIXEL_DATA_TAG = 0x7FE00010
PIXEL_TAGS = (0x7FE00008, 0x7FE00009, PIXEL_DATA_TAG)  # Float, Double Float and Pixel Data (PS3.3 C.7.6.3)
UNDEFINED_LENGTH = 0xFFFFFFFF
_KEPT = "_dicomview_unread"  # the dataset attribute holding its unread pixel elements


class SourceUnreadable(OSError):
    """A file read in place can no longer be read (moved, deleted or changed since it was chosen); what
    `read_range` raises. Apart from pydicom's own OSError for malformed data."""


def unread_element(ds: Dataset, tag: int) -> RawDataElement | None:
    """The element if its value is still in the file (read on first use), else None."""
    element = ds.get_item(tag, keep_deferred=True) if tag in ds else None
    if isinstance(element, RawDataElement) and element.value is None and element.length != 0:
        return element
    return None


def remember_unread(ds: Dataset) -> None:
    """Keep the unread pixel elements of a dataset just read, to put back after a decode (`release`)."""
    kept = {tag: element for tag in PIXEL_TAGS if (element := unread_element(ds, tag)) is not None}
    if kept:
        object.__setattr__(ds, _KEPT, kept)
    if isinstance(getattr(ds, "buffer", None), RangeReader):
        ds.buffer.forget_read_ahead()  # its last read-ahead: the first bytes of the Pixel Data


def is_deferred(ds: Dataset) -> bool:
    """Whether the dataset's pixels come from its file when used (rather than from memory)."""
    return bool(getattr(ds, _KEPT, None))


def value_length(ds: Dataset, tag: int) -> int:
    """The element's value length in bytes, without reading an unread value of defined length (one of
    undefined length, encapsulated, is read to count it: the checks that ask meet it only in broken files)."""
    unread = unread_element(ds, tag)
    return len(ds[tag].value) if unread is None or unread.length == UNDEFINED_LENGTH else unread.length


def size_of(data: bytes | BinaryIO) -> int:
    """The length of a file given as its bytes or as a seekable source."""
    return len(data) if isinstance(data, bytes | bytearray) else data.seek(0, 2)


def source_size(ds: Dataset) -> int | None:
    """The size of the file a dataset was read from: its source, or the file on disk that pydicom
    reopens by name for a deferred read (it does so for a file opened with open()); None if neither."""
    if getattr(ds, "buffer", None) is not None:
        return size_of(ds.buffer)
    filename = getattr(ds, "filename", None)
    return os.path.getsize(filename) if isinstance(filename, str) and os.path.isfile(filename) else None


def release(ds: Dataset) -> None:
    """After a single-frame image is decoded, its pixel bytes go back to the file: the unread elements
    replace the values read (what else still uses those bytes keeps them, e.g. a volume's slice view)."""
    kept = getattr(ds, _KEPT, None)
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        return
    if not kept or frames > 1:
        return
    for tag, element in kept.items():
        ds[tag] = element


class RangeReader(io.BufferedIOBase):
    """A seekable binary file over `read_range(start, end) -> bytes` (the browser: a File slice read by
    FileReaderSync), for pydicom. Not an io.BufferedReader: pydicom takes one for a file on disk and
    reopens it by name for a deferred read, where this must be read again."""

    def __init__(self, size: int, read_range: Callable[[int, int], bytes]) -> None:
        super().__init__()
        self._size = size
        self._read_range = read_range
        self._position = 0
        self._ahead_start, self._ahead = 0, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        bases = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}
        if whence not in bases or bases[whence] + offset < 0:
            raise ValueError(f"invalid seek ({offset}, whence {whence})")
        self._position = bases[whence] + offset
        return self._position

    def forget_read_ahead(self) -> None:
        self._ahead_start, self._ahead = 0, b""

    def read(self, size: int | None = -1) -> bytes:
        start = self._position
        end = self._size if size is None or size < 0 else min(start + size, self._size)
        if end <= start:
            return b""
        ahead_end = self._ahead_start + len(self._ahead)
        if not (self._ahead_start <= start and end <= ahead_end):
            if end - start >= READ_AHEAD_BYTES:
                data = self._read_range(start, end)
                self._position = end
                return data
            self._ahead = b""
            self._ahead = self._read_range(start, min(start + READ_AHEAD_BYTES, self._size))
            self._ahead_start = start
        self._position = end
        return self._ahead[start - self._ahead_start:end - self._ahead_start]

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)
