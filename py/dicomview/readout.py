"""What is under the cursor: stored value, modality value with its unit, position in the patient (mm).

Position per PS3.3 C.7.6.2.1.1: P = S + column * dc * X + row * dr * Y, with S the Image Position
(Patient), X and Y the row and column direction cosines of Image Orientation (Patient), and
(dr, dc) the Pixel Spacing (row spacing, column spacing). Enhanced objects take these from the
frame's Plane Position, Plane Orientation and Pixel Measures functional groups (render.frame_view).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_modality_lut


@dataclass(frozen=True)
class Readout:
    row: int
    column: int
    stored: str
    value: str  # the modality value with its unit, "" for colour
    position: tuple[float, float, float] | None

    def text(self) -> str:
        parts = [f"({self.column}, {self.row})", f"stored {self.stored}"]
        if self.value:
            parts.append(self.value)
        if self.position is not None:
            parts.append("x {:.1f} y {:.1f} z {:.1f} mm".format(*self.position))
        return " · ".join(parts)


def modality_unit(ds: Dataset) -> str:
    """Rescale Type where the file gives a unit (PS3.3 C.11.1.1.2; "US" means unspecified), else HU
    for CT, else the PET Series Units (0054,1001: BQML, CNTS, GML for SUV...) for PT, else nothing."""
    unit = str(ds.get("RescaleType", "") or "").strip()
    if unit and unit.upper() != "US":
        return unit
    modality = str(ds.get("Modality", "")).upper()
    if modality == "PT":
        return str(ds.get("Units", "") or "").strip()
    return "HU" if modality == "CT" else ""


def patient_position(ds: Dataset, row: int, column: int) -> tuple[float, float, float] | None:
    try:
        origin = np.array([float(v) for v in ds.ImagePositionPatient])
        cosines = np.array([float(v) for v in ds.ImageOrientationPatient])
        row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    except (AttributeError, TypeError, ValueError):
        return None
    if origin.shape != (3,) or cosines.shape != (6,):
        return None
    point = origin + column * column_spacing * cosines[:3] + row * row_spacing * cosines[3:]
    return tuple(float(v) for v in point)


def format_number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def readout(ds: Dataset, stored: np.ndarray, row: int, column: int) -> Readout | None:
    """The readout at (row, column) of a frame whose stored values are `stored`; None off the image.
    `ds` is the frame's view (render.frame_view) so enhanced objects use their own groups."""
    if not (0 <= row < stored.shape[0] and 0 <= column < stored.shape[1]):
        return None
    sample = stored[row, column]
    if np.ndim(sample):  # colour
        return Readout(row, column, ", ".join(str(int(v)) for v in sample), "", patient_position(ds, row, column))
    value = float(np.asarray(apply_modality_lut(np.array([sample]), ds)).ravel()[0])
    unit = modality_unit(ds)
    text = format_number(value) + (f" {unit}" if unit else "")
    return Readout(row, column, format_number(float(sample)), text, patient_position(ds, row, column))
