"""Pixel Data left in its file until a frame is shown (dicomview.deferred), on real files nobody here wrote.

A file read in place must open, decode and fail exactly as the same bytes read into memory; its Pixel
Data must stay unread until a frame is decoded, and a single frame's go back to the file afterwards.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from corpus import all_dicom_files, corpus_file
from dicomview import deferred
from dicomview.decode import PIXEL_DATA_TAG, UnreadableFile, frame_count, read_dataset, stored_frame
from dicomview.opening import Batch, Entry
from dicomview.session import Session
from dicomview.tags import tag_rows
from dicomview.volume import Volume, build_volume
from synthetic import phantom_series

SINGLE_FRAME = "examples_overlay.dcm"  # MR, 484x300, 16-bit native: 290 400 bytes of Pixel Data
MULTI_FRAME = "emri_small.dcm"  # MR, 10 frames of 64x64, native
ENCAPSULATED = "JPEG-LL.dcm"  # one JPEG lossless frame, 116 KB


def in_place(path: Path) -> deferred.RangeReader:
    """The file read in place, as the page reads a File (a byte range at a time)."""
    data = path.read_bytes()
    return deferred.RangeReader(len(data), lambda start, end: data[start:end])


def outcome(source, frames: int = 2) -> list:
    """What opening a file gives: its error, or its tag table and each of its first frames (or that
    frame's error)."""
    try:
        ds = read_dataset(source)
    except UnreadableFile as exc:
        return [f"unreadable: {exc}"]
    try:
        results: list = [tag_rows(ds)]
    except Exception as exc:
        results = [f"tags: {type(exc).__name__}: {exc}"]
    try:
        count = frame_count(ds)
    except UnreadableFile as exc:
        return [f"frames: {exc}"]
    for index in range(min(count, frames)):
        try:
            results.append(stored_frame(ds, index))
        except UnreadableFile as exc:
            results.append(f"frame {index}: {exc}")
    return results


def reader_of(data: bytes) -> deferred.RangeReader:
    return deferred.RangeReader(len(data), lambda start, end: data[start:end])


def assert_same(from_memory: list, from_file: list) -> None:
    assert len(from_file) == len(from_memory)
    for expected, got in zip(from_memory, from_file, strict=True):
        if isinstance(expected, np.ndarray):
            assert isinstance(got, np.ndarray) and got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)
        else:
            assert got == expected


@pytest.mark.parametrize("path", all_dicom_files(), ids=lambda path: path.name)
def test_a_file_read_in_place_opens_shows_its_tags_decodes_and_fails_as_its_bytes_do(path):
    data = path.read_bytes()
    assert_same(outcome(data), outcome(reader_of(data)))
    cut = data[: len(data) * 3 // 5]  # cut short: the same reason either way
    assert_same(outcome(cut), outcome(reader_of(cut)))


def test_pydicoms_own_oserror_for_malformed_data_is_not_taken_for_a_file_gone():
    data = corpus_file("UN_sequence.dcm").read_bytes()[:400]
    with pytest.raises(UnreadableFile) as in_memory:
        read_dataset(data)
    with pytest.raises(UnreadableFile) as from_file:
        read_dataset(reader_of(data))
    assert str(from_file.value) == str(in_memory.value)
    assert str(in_memory.value).startswith("malformed DICOM (OSError: No tag to read")


def test_encapsulated_pixel_data_under_a_native_syntax_is_named_as_from_memory():
    """JPEG-LL.dcm relabelled Explicit VR Little Endian: its undefined-length Pixel Data is read to count."""
    data = corpus_file(ENCAPSULATED).read_bytes()
    native = data.replace(b"1.2.840.10008.1.2.4.70", b"1.2.840.10008.1.2.1\x00\x00\x00", 1)
    assert native != data
    assert_same(outcome(native), outcome(reader_of(native)))
    assert outcome(native)[1] == "frame 0: the pixel data is truncated (116076 of 524288 bytes)"


def test_a_single_frame_leaves_its_pixels_in_the_file_until_shown_and_gives_them_back():
    ds = read_dataset(in_place(corpus_file(SINGLE_FRAME)))
    assert deferred.is_deferred(ds) and deferred.unread_element(ds, PIXEL_DATA_TAG) is not None
    expected = stored_frame(read_dataset(corpus_file(SINGLE_FRAME).read_bytes()), 0)
    np.testing.assert_array_equal(stored_frame(ds, 0), expected)
    assert deferred.unread_element(ds, PIXEL_DATA_TAG) is not None  # read again when shown again
    np.testing.assert_array_equal(stored_frame(ds, 0), expected)


def test_an_encapsulated_frame_is_read_when_decoded_and_given_back():
    ds = read_dataset(in_place(corpus_file(ENCAPSULATED)))
    assert deferred.unread_element(ds, PIXEL_DATA_TAG) is not None
    stored_frame(ds, 0)
    assert deferred.unread_element(ds, PIXEL_DATA_TAG) is not None


def test_a_multi_frame_object_keeps_its_pixels_once_read():
    """Every frame would otherwise read all of them again."""
    ds = read_dataset(in_place(corpus_file(MULTI_FRAME)))
    assert deferred.unread_element(ds, PIXEL_DATA_TAG) is not None
    stored_frame(ds, 3)
    assert deferred.unread_element(ds, PIXEL_DATA_TAG) is None


def test_a_file_in_memory_is_not_deferred():
    ds = read_dataset(corpus_file(SINGLE_FRAME).read_bytes())
    assert not deferred.is_deferred(ds) and ds.buffer is None


def test_the_tag_table_does_not_read_the_pixels():
    path = corpus_file(SINGLE_FRAME)
    ds = read_dataset(in_place(path))
    rows = tag_rows(ds)
    assert deferred.unread_element(ds, PIXEL_DATA_TAG) is not None
    pixel_row = next(row for row in rows if row.tag == "(7FE0,0010)" and row.depth == 0)
    assert (pixel_row.keyword, pixel_row.vr, pixel_row.value) == ("PixelData", "OW", "<binary, 290400 bytes>")
    assert rows == tag_rows(read_dataset(path.read_bytes()))  # the same table as from memory


def test_pixels_cut_short_in_a_file_read_in_place_are_reported_as_from_memory():
    data = corpus_file(SINGLE_FRAME).read_bytes()[:-1000]
    with pytest.raises(UnreadableFile) as in_memory:
        read_dataset(data)
    with pytest.raises(UnreadableFile) as from_file:
        read_dataset(deferred.RangeReader(len(data), lambda start, end: data[start:end]))
    assert str(from_file.value) == str(in_memory.value) == "the pixel data is truncated (289400 of 290400 bytes)"


def test_a_file_opened_by_name_is_read_in_place_too(tmp_path):
    """pydicom reopens such a file by its name for a deferred read; a cut is still found from its size."""
    path = tmp_path / SINGLE_FRAME
    shutil.copy(corpus_file(SINGLE_FRAME), path)
    with path.open("rb") as file:
        ds = read_dataset(file)
    assert deferred.unread_element(ds, PIXEL_DATA_TAG) is not None
    np.testing.assert_array_equal(stored_frame(ds, 0), stored_frame(read_dataset(path.read_bytes()), 0))
    path.write_bytes(path.read_bytes()[:-1000])
    with path.open("rb") as file, pytest.raises(UnreadableFile, match=r"^the pixel data is truncated \(289400 of"):
        read_dataset(file)


def test_a_file_gone_since_it_was_opened_names_the_reason_when_shown():
    data = corpus_file(SINGLE_FRAME).read_bytes()
    gone = False

    def read_range(start: int, end: int) -> bytes:
        if gone:
            raise deferred.SourceUnreadable("NotReadableError: the file was moved or changed")
        return data[start:end]

    ds = read_dataset(deferred.RangeReader(len(data), read_range))
    gone = True
    with pytest.raises(UnreadableFile, match=r"^the file can no longer be read \(moved or changed since it "
                                             r"was opened: SourceUnreadable: NotReadableError: the file was "
                                             r"moved or changed\)$"):
        stored_frame(ds, 0)
    assert tag_rows(ds)[-1].value.startswith("<binary, 290400 bytes>")  # the table needs no pixels


def test_a_file_replaced_since_it_was_opened_or_too_large_to_read_names_the_reason():
    data = corpus_file(SINGLE_FRAME).read_bytes()
    now: dict = {"data": data}

    def read_range(start: int, end: int) -> bytes:
        if isinstance(now["data"], BaseException):
            raise now["data"]
        return now["data"][start:end]

    replaced, large = (read_dataset(deferred.RangeReader(len(data), read_range)) for _ in range(2))
    now["data"] = bytes(len(data))  # another file of the same size: pydicom finds no Pixel Data tag there
    with pytest.raises(UnreadableFile, match=r"^the file can no longer be read \(moved or changed since it "
                                             r"was opened: ValueError: Deferred read VR None does not match"):
        stored_frame(replaced, 0)
    now["data"] = MemoryError()
    with pytest.raises(UnreadableFile, match=r"^the pixel data is too large to read in this browser tab$"):
        stored_frame(large, 0)


def test_a_file_gone_before_it_is_read_is_one_line_and_the_batch_goes_on():
    batch = Batch(Session())
    batch.add([Entry("gone.dcm", chosen=True, handle=None), Entry(SINGLE_FRAME, chosen=True,
                                                                     handle=corpus_file(SINGLE_FRAME))])

    def gone(start: int, end: int) -> bytes:
        raise deferred.SourceUnreadable("NotFoundError: A requested file or directory could not be found")

    problems = batch.run(lambda entry: in_place(entry.handle) if entry.handle else deferred.RangeReader(10, gone))
    assert [str(problem) for problem in problems] == [
        "gone.dcm: could not be read (NotFoundError: A requested file or directory could not be found)"]
    assert [image.file_name for image in batch.session.images] == [SINGLE_FRAME]


def test_a_batch_read_in_place_opens_its_images_with_their_pixels_in_the_files(tmp_path):
    for name in (SINGLE_FRAME, ENCAPSULATED, "CT_small.dcm"):
        shutil.copy(corpus_file(name), tmp_path / name)
    batch = Batch(Session())
    batch.add(Entry(path.name, chosen=True, handle=path) for path in sorted(tmp_path.iterdir()))
    assert batch.run(lambda entry: in_place(entry.handle)) == []
    images = {image.file_name: image.dataset for image in batch.session.images}
    assert sorted(images) == sorted([SINGLE_FRAME, ENCAPSULATED, "CT_small.dcm"])
    assert deferred.unread_element(images[SINGLE_FRAME], PIXEL_DATA_TAG) is not None
    assert deferred.unread_element(images["CT_small.dcm"], PIXEL_DATA_TAG) is None  # 32 KiB: read at once


def test_the_range_reader_reads_ahead_for_small_reads_and_straight_through_for_large_ones():
    data = bytes(range(256)) * 1000
    asked: list[tuple[int, int]] = []

    def read_range(start: int, end: int) -> bytes:
        asked.append((start, end))
        return data[start:end]

    reader = deferred.RangeReader(len(data), read_range)
    assert reader.read(4) == data[:4] and reader.read(8) == data[4:12]
    assert asked == [(0, deferred.READ_AHEAD_BYTES)]  # the second read came from the first
    reader.seek(100_000)
    assert reader.read(50_000) == data[100_000:150_000] and asked[-1] == (100_000, 150_000)
    assert reader.seek(-10, io.SEEK_END) == len(data) - 10 and reader.read() == data[-10:]
    assert reader.read(5) == b"" and reader.tell() == len(data)


def test_a_volume_of_files_read_in_place_holds_each_slice_once_and_leaves_the_files_unread():
    """MPR reads every slice: from files read in place it keeps the decoded arrays (the only copy), and
    the datasets go back to reading their pixels from the files."""
    voxels = np.fromfunction(lambda k, i, j: k * 1000 + i * 3 + j, (4, 200, 180), dtype=int).astype(np.int16)
    files = phantom_series(voxels, (2.0, 0.5, 0.5))
    images = [(name, read_dataset(deferred.RangeReader(len(data), lambda s, e, d=data: d[s:e])))
              for name, data in files]
    volume = build_volume(images)
    assert isinstance(volume, Volume), volume
    np.testing.assert_array_equal(np.asarray(volume.voxels), voxels)
    assert all(deferred.unread_element(ds, PIXEL_DATA_TAG) is not None for _, ds in images)
