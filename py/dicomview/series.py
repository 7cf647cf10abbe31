"""Files grouped into series and ordered as a stack, the way a reader scrolls them.

Order within a series (PS3.3 C.7.6.2.1.1): images of one orientation together (a series may mix
planes), each group by position along its slice normal, i.e. Image Position (Patient) projected on
the cross product of the two Image Orientation (Patient) direction cosines; then Instance Number;
then the file name. Images without geometry sort after those with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset


@dataclass(frozen=True)
class SeriesKey:
    study: str
    series: str


def series_key(ds: Dataset) -> SeriesKey:
    return SeriesKey(str(ds.get("StudyInstanceUID", "") or ""), str(ds.get("SeriesInstanceUID", "") or ""))


def slice_position(ds: Dataset) -> float | None:
    """Distance of the image plane along its normal (mm), or None without usable geometry."""
    try:
        cosines = np.array([float(v) for v in ds.ImageOrientationPatient])
        origin = np.array([float(v) for v in ds.ImagePositionPatient])
    except (AttributeError, TypeError, ValueError):
        return None
    if cosines.shape != (6,) or origin.shape != (3,):
        return None
    normal = np.cross(cosines[:3], cosines[3:])
    return float(np.dot(origin, normal)) if np.any(normal) else None


def instance_number(ds: Dataset) -> int:
    try:
        return int(ds.get("InstanceNumber", 0) or 0)
    except (TypeError, ValueError):
        return 0


def orientation_key(ds: Dataset) -> tuple[float, ...]:
    """Image Orientation (Patient) rounded: a series may mix planes (localisers: sagittal, coronal and
    axial in one series), and only images of one plane form a stack."""
    try:
        return tuple(round(float(v), 3) + 0.0 for v in ds.ImageOrientationPatient)  # + 0.0: no -0.0
    except (AttributeError, TypeError, ValueError):
        return ()


def stack_order(ds: Dataset, file_name: str) -> tuple:
    position = slice_position(ds)
    return (orientation_key(ds), position is None, position or 0.0, instance_number(ds), file_name)


def series_label(ds: Dataset, count: int) -> str:
    """A header for the image list: series number, modality, description, image count (plain text)."""
    parts = [f"Series {ds.get('SeriesNumber', '?')}", str(ds.get("Modality", "") or ""),
             str(ds.get("SeriesDescription", "") or ""), f"{count} image{'s' if count != 1 else ''}"]
    return " · ".join(part for part in parts if part)


def series_members(keys: list[SeriesKey], index: int) -> list[int]:
    """Indices of the images in the series of image `index`, in list order (the stack a reader scrolls)."""
    return [n for n, key in enumerate(keys) if key == keys[index]] if 0 <= index < len(keys) else []
