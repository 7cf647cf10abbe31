"""DICOM files written by the tests with pydicom, for cases the real corpora do not hold."""

from __future__ import annotations

import io

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def write_dicom(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def base_dataset(**attributes) -> Dataset:
    """A Secondary Capture instance with file meta and the given attributes."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    for name, value in attributes.items():
        setattr(ds, name, value)
    return ds


def image_dataset(pixels: np.ndarray, **attributes) -> Dataset:
    """An unsigned 16-bit MONOCHROME2 image of `pixels`; attributes override the image module."""
    image = dict(Rows=pixels.shape[0], Columns=pixels.shape[1], SamplesPerPixel=1,
                 PhotometricInterpretation="MONOCHROME2", BitsAllocated=16, BitsStored=16, HighBit=15,
                 PixelRepresentation=0)
    ds = base_dataset(**(image | attributes))
    ds.PixelData = pixels.astype("<u2").tobytes()
    return ds


def claiming(**attributes) -> bytes:
    """A 2x2 image file whose header claims other attributes (absurd sizes, impossible values)."""
    return write_dicom(image_dataset(np.zeros((2, 2)), **attributes))


def encapsulated(transfer_syntax: str) -> bytes:
    """A 2x2 image whose Pixel Data is encapsulated under `transfer_syntax` (a syntax with no decoder
    anywhere, such as MPEG-2 video, gives a stable "not supported" case)."""
    from pydicom.encaps import encapsulate

    ds = image_dataset(np.zeros((2, 2)), BitsAllocated=8, BitsStored=8, HighBit=7)
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.PixelData = encapsulate([b"\x00" * 16])
    ds["PixelData"].VR = "OB"
    return write_dicom(ds)
