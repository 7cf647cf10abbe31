"""A File the user chose, read in place by Python's worker: the seekable source that pydicom's deferred
reading needs (dicomview.deferred), so a series' Pixel Data stays on disk until a frame is shown.

FileReaderSync reads a slice of a File synchronously; browsers offer it only in workers, which is where
Python runs (issue 7). A read costs ~0.1 ms plus the bytes: a header needs one, a 512x512 slice's pixels
one more when shown.
"""

from __future__ import annotations

from functools import partial

import js
from pyodide.ffi import JsException

from dicomview.deferred import RangeReader, SourceUnreadable

_reader = None


def read_range(file, start: int, end: int) -> bytes:
    """Bytes [start, end) of a File; SourceUnreadable when it can no longer be read (moved or changed)."""
    global _reader
    _reader = _reader or js.FileReaderSync.new()
    try:
        return _reader.readAsArrayBuffer(file.slice(start, end)).to_bytes()
    except JsException as exc:  # NotReadableError, NotFoundError
        raise SourceUnreadable(str(exc)) from exc


def open_local_file(file) -> RangeReader:
    """A worker File as a seekable binary file for decode.read_dataset."""
    return RangeReader(int(file.size), partial(read_range, file))
