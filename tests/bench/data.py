"""Synthetic benchmark data written with pydicom into the bench cache (never committed).

A 512x512 CT slice, a 1760x1760 radiograph-sized image and a 300-slice 512x512 CT series whose
slices carry Image Position/Orientation (Patient) (PS3.3 C.7.6.2) so both viewers can order them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.uid import generate_uid

from synthetic import image_dataset, write_dicom

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SERIES_SLICES = 300
SERIES_PIXEL_BYTES = SERIES_SLICES * 512 * 512 * 2  # what the stored pixels of the series need


def phantom(size: int, z: float = 0.0) -> np.ndarray:
    """Stored values of a water disc with a bone ring and a soft gradient, slowly changing with z."""
    y, x = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    radius = np.hypot(x, y * (1.0 + 0.1 * np.sin(z)))
    hu = np.where(radius < 0.8, 40.0 + 200.0 * x, -1000.0)
    hu = np.where((radius > 0.7) & (radius < 0.75), 1200.0, hu)
    return np.clip(hu + 1024.0, 0, 4095).astype(np.uint16)


def ct_slice(pixels: np.ndarray, *, study: str, series: str, number: int, z: float, spacing: float = 0.7) -> bytes:
    ds = image_dataset(
        pixels, BitsStored=12, HighBit=11, Modality="CT", PatientName="Bench^Phantom", PatientID="BENCH",
        StudyInstanceUID=study, SeriesInstanceUID=series, SeriesNumber=1, InstanceNumber=number,
        ImagePositionPatient=[-spacing * pixels.shape[1] / 2, -spacing * pixels.shape[0] / 2, z],
        ImageOrientationPatient=[1, 0, 0, 0, 1, 0], PixelSpacing=[spacing, spacing], SliceThickness=1.0,
        RescaleIntercept=-1024, RescaleSlope=1, RescaleType="HU", WindowCenter=40, WindowWidth=400,
        FrameOfReferenceUID=study,
    )
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    return write_dicom(ds)


def write_data(folder: Path) -> dict[str, list[Path]]:
    """Write the data once (kept between runs); return the files of each case."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {"ct512": [folder / "ct512.dcm"], "img1760": [folder / "img1760.dcm"],
             "series300": [folder / "series300" / f"slice{n:03d}.dcm" for n in range(SERIES_SLICES)]}
    if all(path.exists() for paths in cases.values() for path in paths):
        return cases
    study = generate_uid()
    cases["ct512"][0].write_bytes(ct_slice(phantom(512), study=study, series=generate_uid(), number=1, z=0))
    cases["img1760"][0].write_bytes(
        ct_slice(phantom(1760), study=study, series=generate_uid(), number=1, z=0, spacing=0.2))
    series = generate_uid()
    cases["series300"][0].parent.mkdir(exist_ok=True)
    for number, path in enumerate(cases["series300"], start=1):
        path.write_bytes(ct_slice(phantom(512, number / 40), study=study, series=series, number=number, z=number * 1.0))
    return cases
