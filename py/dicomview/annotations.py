"""What the annotation layer shows around the image, as plain text: corner texts, orientation markers
and a scale bar. The browser layer only draws what `layout` returns (as DOM text, or on the exported PNG).

Conventions of clinical viewers (OHIF, Weasis): patient at top left, study at top right, series and
slice at bottom left, window and zoom at bottom right; the patient direction of each edge of the view
(PS3.3 C.7.6.1.1.1 Patient Orientation, from Image Orientation (Patient) C.7.6.2.1.1); a scale bar of a
round length in mm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName

from dicomview.pipeline import Window
from dicomview.series import series_members, slice_position

# PS3.3 C.7.6.1.1.1: the patient's left, posterior and head are the positive x, y and z of the LPS axes
AXIS_LETTERS = (("R", "L"), ("A", "P"), ("F", "H"))
OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A", "H": "F", "F": "H"}
OBLIQUE_THRESHOLD = 1e-4  # a component this small is not a direction (as OHIF's getOrientationString)
NICE_STEPS = (1, 2, 5)
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
EDGES = ("top", "right", "bottom", "left")


def direction_letters(vector: tuple[float, float, float]) -> str:
    """The letters of a direction in patient space, strongest component first ("L", "LP", "LPH"):
    PS3.3 C.7.6.1.1.1 orders the letters of an oblique direction by the size of its components."""
    components = sorted(range(3), key=lambda axis: -abs(vector[axis]))
    return "".join(AXIS_LETTERS[axis][vector[axis] > 0] for axis in components if abs(vector[axis]) > OBLIQUE_THRESHOLD)


def opposite_letters(letters: str) -> str:
    return "".join(OPPOSITE.get(letter, letter) for letter in letters)


def direction_cosines(ds: Dataset) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The row and column direction cosines of Image Orientation (Patient), or None."""
    try:
        values = [float(v) for v in ds.ImageOrientationPatient]
    except (AttributeError, TypeError, ValueError):
        return None
    return (tuple(values[:3]), tuple(values[3:])) if len(values) == 6 else None


def edge_markers(ds: Dataset, flip_horizontal: bool = False, flip_vertical: bool = False) -> dict[str, str]:
    """The patient direction at each edge of the view ({"top": "A", ...}), empty if the file says none.

    The right edge lies along the row direction (first three cosines), the bottom along the column
    direction; without Image Orientation (Patient), Patient Orientation (0020,0020) gives the same two
    directions as letters (projection radiographs). A flip swaps the edges it mirrors."""
    cosines = direction_cosines(ds)
    if cosines is not None:
        right, bottom = direction_letters(cosines[0]), direction_letters(cosines[1])
    else:
        letters = [str(v).strip().upper() for v in (ds.get("PatientOrientation") or [])]
        if len(letters) != 2 or not all(letters) or not set("".join(letters)) <= set(OPPOSITE):
            return {}
        right, bottom = letters
    left, top = opposite_letters(right), opposite_letters(bottom)
    if flip_horizontal:
        left, right = right, left
    if flip_vertical:
        top, bottom = bottom, top
    return {"top": top, "right": right, "bottom": bottom, "left": left}


@dataclass(frozen=True)
class Spacing:
    """Physical size of a pixel: row spacing and column spacing in mm, and where it comes from."""

    row_mm: float
    column_mm: float
    source: str  # "PixelSpacing", "ImagerPixelSpacing" or "SequenceOfUltrasoundRegions"

    @property
    def note(self) -> str:
        """Imager Pixel Spacing is measured at the detector (PS3.3 C.8.11.4.1.2), an ultrasound region's
        calibration holds inside that region only (C.8.5.5.1): the bar says so."""
        return {"PixelSpacing": "", "ImagerPixelSpacing": "at detector"}.get(self.source, "in the US region")


CENTIMETRES = 3  # Physical Units X/Y Direction code for cm (PS3.3 C.8.5.5.1.15)
TISSUE_2D = 1  # Region Spatial Format code for a 2D (tissue or flow) region (C.8.5.5.1.1)


def ultrasound_spacing(ds: Dataset) -> Spacing | None:
    """The pixel size of the first 2D ultrasound region calibrated in cm (Sequence of Ultrasound
    Regions, PS3.3 C.8.5.5), in mm."""
    for region in ds.get("SequenceOfUltrasoundRegions") or []:
        try:
            calibrated = (int(region.RegionSpatialFormat) == TISSUE_2D
                          and int(region.PhysicalUnitsXDirection) == int(region.PhysicalUnitsYDirection) == CENTIMETRES)
            delta_x, delta_y = abs(float(region.PhysicalDeltaX)), abs(float(region.PhysicalDeltaY))
        except (AttributeError, TypeError, ValueError):
            continue
        if calibrated and delta_x > 0 and delta_y > 0:
            return Spacing(delta_y * 10, delta_x * 10, "SequenceOfUltrasoundRegions")
    return None


def pixel_spacing(ds: Dataset) -> Spacing | None:
    """Pixel Spacing (in the patient, PS3.3 10.7.1.1) where given, else Imager Pixel Spacing, else an
    ultrasound region's calibration, else None."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        try:
            row_mm, column_mm = (float(v) for v in ds.get(keyword) or ())
        except (TypeError, ValueError):
            continue
        if row_mm > 0 and column_mm > 0:
            return Spacing(row_mm, column_mm, keyword)
    return ultrasound_spacing(ds)


@dataclass(frozen=True)
class ScaleBar:
    mm: float
    pixels: float  # its length on screen (CSS pixels), or in image pixels on an export
    note: str = ""

    @property
    def label(self) -> str:
        text = f"{self.mm / 10:g} cm" if self.mm >= 10 else f"{self.mm:g} mm"
        return f"{text} ({self.note})" if self.note else text


def round_length(limit: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above `limit` (> 0)."""
    power = 10.0 ** math.floor(math.log10(limit))
    return max(step * power for step in NICE_STEPS if step * power <= limit * (1 + 1e-9))


def scale_bar(spacing: Spacing | None, pixels_per_image_pixel: float, longest: float) -> ScaleBar | None:
    """A horizontal bar of a round length in mm, at most `longest` pixels long, for an image shown
    with `pixels_per_image_pixel` screen pixels per image column."""
    if spacing is None or pixels_per_image_pixel <= 0 or longest <= 0:
        return None
    mm_per_pixel = spacing.column_mm / pixels_per_image_pixel
    mm = round_length(longest * mm_per_pixel)
    return ScaleBar(mm, mm / mm_per_pixel, spacing.note)


# --- corner texts --------------------------------------------------------------------------------------
def text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def person_name(value: object) -> str:
    """A Person Name's alphabetic group as "Family, Prefix Given Middle Suffix" (PS3.5 6.2 PN), "" when empty."""
    name = PersonName(str(value or ""))
    given = " ".join(part for part in (name.name_prefix, name.given_name, name.middle_name) if part)
    formatted = joined(", ".join(part for part in (name.family_name, given) if part), name.name_suffix)
    # a name given only in its ideographic or phonetic group (after "="): its components as they are
    return formatted or " ".join(str(value or "").replace("^", " ").replace("=", " ").split())


def dicom_date(value: str) -> str:
    """YYYYMMDD (DA) as YYYY-MM-DD; anything else as it is."""
    value = value.strip()
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else value


def dicom_time(value: str) -> str:
    """HHMMSS.FFFFFF (TM) as HH:MM; anything else as it is."""
    value = value.strip()
    return f"{value[:2]}:{value[2:4]}" if len(value) >= 4 and value[:4].isdigit() else value


def joined(*parts: str) -> str:
    return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class Place:
    """Where the shown image sits: frame n of a multi-frame object, or image n of its series (1-based)."""

    number: int
    count: int
    of_frames: bool


def place_of(frames: int, frame: int, series_keys: list, current: int) -> Place:
    """The frame (0-based `frame`) of a multi-frame image, else image `current` within its series
    (`series_keys`: the series of every open image, in list order): what the wheel scrolls and cine plays."""
    if frames > 1:
        return Place(frame + 1, frames, True)
    members = series_members(series_keys, current)
    return Place(members.index(current) + 1, len(members), False) if current in members else Place(1, 1, False)


def patient_lines(ds: Dataset) -> tuple[str, ...]:
    birth, sex, patient_id = dicom_date(text(ds, "PatientBirthDate")), text(ds, "PatientSex"), text(ds, "PatientID")
    lines = (person_name(ds.get("PatientName")), f"ID {patient_id}" if patient_id else "",
             joined(f"DOB {birth}" if birth else "", f"Sex {sex}" if sex else ""))
    return tuple(line for line in lines if line)


def study_lines(ds: Dataset) -> tuple[str, ...]:
    lines = (text(ds, "StudyDescription"), joined(dicom_date(text(ds, "StudyDate")), dicom_time(text(ds, "StudyTime"))))
    return tuple(line for line in lines if line)


def millimetres(value: float) -> str:
    return f"{value:.1f} mm" if abs(value) < 1e6 else f"{value:.3g} mm"


def slice_location(ds: Dataset) -> float | None:
    """Where the slice lies along its main axis, in mm: Image Position (Patient) on the plane's normal,
    signed so that an axial slice gives its z, a coronal its y and a sagittal its x (the patient
    coordinates the cursor readout shows); else Slice Location (0020,1041) as the file gives it."""
    cosines = direction_cosines(ds)
    position = slice_position(ds)
    if cosines is not None and position is not None:
        normal = np.cross(cosines[0], cosines[1])
        return position if normal[np.argmax(np.abs(normal))] > 0 else -position
    try:
        return float(ds.get("SliceLocation"))
    except (TypeError, ValueError):
        return None


def series_lines(ds: Dataset, place: Place) -> tuple[str, ...]:
    """Series number and description, modality, slice n/N, slice position and thickness."""
    series = text(ds, "SeriesNumber")
    lines = [joined(f"Se {series}" if series else "", text(ds, "SeriesDescription")), text(ds, "Modality"),
             f"{'Fr' if place.of_frames else 'Im'} {place.number}/{place.count}"]
    position = slice_location(ds)
    if position is not None:
        lines.append(f"Pos {millimetres(position)}")
    try:
        thickness = float(ds.get("SliceThickness"))
    except (TypeError, ValueError):
        thickness = None
    if thickness is not None:
        lines.append(f"Th {millimetres(thickness)}")
    return tuple(line for line in lines if line)


def view_lines(window: Window | None, voi_label: str, zoom_percent: float, inverted: bool) -> tuple[str, ...]:
    """Window (width and level, as clinical viewers print them) or the VOI used, zoom, inversion."""
    lines = [f"W {window.width:g} L {window.center:g}" if window is not None else voi_label,
             f"Zoom {zoom_percent:.0f}%", "Inverted" if inverted else ""]
    return tuple(line for line in lines if line)


@dataclass(frozen=True)
class Layout:
    corners: dict[str, tuple[str, ...]]
    markers: dict[str, str]
    scale: ScaleBar | None


def layout(ds: Dataset, place: Place, window: Window | None, voi_label: str, pixels_per_image_pixel: float,
           bar_limit: float, *, inverted: bool = False, flip_horizontal: bool = False,
           flip_vertical: bool = False) -> Layout:
    """Everything the annotation layer shows for frame view `ds` (render.frame_view), shown at
    `pixels_per_image_pixel` screen pixels per image pixel, with a scale bar at most `bar_limit` long."""
    corners = {
        "top-left": patient_lines(ds),
        "top-right": study_lines(ds),
        "bottom-left": series_lines(ds, place),
        "bottom-right": view_lines(window, voi_label, pixels_per_image_pixel * 100, inverted),
    }
    return Layout(corners, edge_markers(ds, flip_horizontal, flip_vertical),
                  scale_bar(pixel_spacing(ds), pixels_per_image_pixel, bar_limit))
