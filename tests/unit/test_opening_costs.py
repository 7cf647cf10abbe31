"""What opening a file keeps and works out once (issue 7: memory and blocking while a series loads)."""

from __future__ import annotations

import io
import sys

import numpy as np
import pydicom
import pytest

from corpus import corpus_file
from dicomview.decode import read_dataset, stored_frame
from dicomview.series import series_key, stack_order
from dicomview.session import Session
from synthetic import image_dataset, write_dicom


def bare_dataset_bytes() -> bytes:
    """A dataset without preamble or file meta: read_dataset's second (forced) parse."""
    ds = image_dataset(np.arange(64, dtype=np.uint16).reshape(8, 8))
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, implicit_vr=True, little_endian=True)
    return buffer.getvalue()


@pytest.mark.parametrize("data", [corpus_file("CT_small.dcm").read_bytes(), bare_dataset_bytes()],
                         ids=["part10", "bare"])
def test_the_dataset_does_not_keep_the_file_bytes(data: bytes) -> None:
    """pydicom's FileDataset keeps the buffer it read; dicomview drops it, and the pixels stay readable."""
    references = sys.getrefcount(data)
    ds = read_dataset(data)
    assert sys.getrefcount(data) == references
    reference = pydicom.dcmread(io.BytesIO(data), force=True)  # pydicom itself, with the file kept
    reference.file_meta.TransferSyntaxUID = ds.file_meta.TransferSyntaxUID  # the bare one has none
    expected = reference.pixel_array
    assert np.array_equal(stored_frame(ds, 0), expected)


def test_series_and_stack_order_are_worked_out_when_the_image_is_opened() -> None:
    session = Session()
    for z in (3.0, 1.0, 2.0):
        pixels = np.full((4, 4), int(z), dtype=np.uint16)
        data = write_dicom(image_dataset(pixels, SeriesInstanceUID="1.2.3", StudyInstanceUID="1.2",
                                         ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
                                         ImagePositionPatient=[0, 0, z]))
        session.open_file(f"slice{z:g}.dcm", data)
    session.arrange()
    for image in session.images:
        assert image.series == series_key(image.dataset)
        assert image.stack_key == stack_order(image.dataset, image.file_name)
    assert [image.file_name for image in session.images] == ["slice1.dcm", "slice2.dcm", "slice3.dcm"]
