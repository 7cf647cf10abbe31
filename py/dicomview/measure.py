"""Measurements on a view in physical units: length (mm), angle (degrees), and rectangle and ellipse
regions with mean, SD, minimum and maximum in modality units (HU for CT) and area in mm².

Points are (row, column) in output pixels of a view, pixel centres on whole numbers; the view's row
and column spacing (mm, PS3.3 10.7.1.3) make them physical, so an angle drawn on a view with unequal
spacing is the angle in the patient. A region holds the pixels whose centres lie inside it. The
Modality LUT (PS3.3 C.11.1: Rescale Slope/Intercept, or Modality LUT Sequence) is applied to those
pixels only, never to the whole image or volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from pydicom.dataset import Dataset

from dicomview.pipeline import ModalityLut

Point = tuple[float, float]
Spacing = tuple[float, float]  # mm between rows, mm between columns
KINDS = {"length": 2, "angle": 3, "rectangle": 2, "ellipse": 2}  # kind -> points it takes


def physical(a: Point, b: Point, spacing: Spacing) -> np.ndarray:
    """The vector from a to b in mm (down, across)."""
    return np.array([(b[0] - a[0]) * spacing[0], (b[1] - a[1]) * spacing[1]])


def length_mm(a: Point, b: Point, spacing: Spacing) -> float:
    return float(np.hypot(*physical(a, b, spacing)))


def angle_degrees(a: Point, vertex: Point, b: Point, spacing: Spacing) -> float:
    """The angle at `vertex` between the arms to a and b, in the patient (0..180°)."""
    u, v = physical(vertex, a, spacing), physical(vertex, b, spacing)
    return float(np.degrees(abs(math.atan2(u[0] * v[1] - u[1] * v[0], u @ v))))


EDGE = 1e-6
"""Pixel centres this close outside an edge count as on it: a corner placed on a pixel centre from screen
coordinates lands a rounding error away, and the pixel under it must count."""


def rectangle_mask(shape: tuple[int, int], a: Point, b: Point) -> np.ndarray:
    """Pixels whose centres lie in the rectangle with opposite corners a and b (edges included)."""
    rows, columns = np.ogrid[: shape[0], : shape[1]]
    (top, bottom), (left, right) = sorted((a[0], b[0])), sorted((a[1], b[1]))
    return (rows >= top - EDGE) & (rows <= bottom + EDGE) & (columns >= left - EDGE) & (columns <= right + EDGE)


def ellipse_mask(shape: tuple[int, int], a: Point, b: Point) -> np.ndarray:
    """Pixels whose centres lie in the ellipse inscribed in the rectangle with opposite corners a and b."""
    rows, columns = np.ogrid[: shape[0], : shape[1]]
    centre = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    radii = (max(abs(b[0] - a[0]) / 2, 1e-9) + EDGE, max(abs(b[1] - a[1]) / 2, 1e-9) + EDGE)
    return ((rows - centre[0]) / radii[0]) ** 2 + ((columns - centre[1]) / radii[1]) ** 2 <= 1


@dataclass(frozen=True)
class RegionStats:
    """Statistics of a region in modality units; SD is the population standard deviation."""

    mean: float
    sd: float
    minimum: float
    maximum: float
    pixels: int
    area_mm2: float  # the drawn shape's area, not the pixel count's


def region_area(kind: str, a: Point, b: Point, spacing: Spacing) -> float:
    height, width = abs(b[0] - a[0]) * spacing[0], abs(b[1] - a[1]) * spacing[1]
    return height * width * (math.pi / 4 if kind == "ellipse" else 1.0)


def region_stats(image: np.ndarray, kind: str, a: Point, b: Point, spacing: Spacing,
                 modality: ModalityLut) -> RegionStats:
    """Statistics of a rectangle or ellipse region of `image` (stored values) after the Modality LUT."""
    mask = (ellipse_mask if kind == "ellipse" else rectangle_mask)(image.shape, a, b)
    values = np.asarray(modality(image[mask]), np.float64)  # the region's pixels only
    area = region_area(kind, a, b, spacing)
    if values.size == 0:
        return RegionStats(math.nan, math.nan, math.nan, math.nan, 0, area)
    return RegionStats(float(values.mean()), float(values.std()), float(values.min()), float(values.max()),
                       int(values.size), area)


def modality_unit(ds: Dataset) -> str:
    """The unit of modality values: Rescale Type (PS3.3 C.11.1.1.2), HU for CT without one, else ''."""
    unit = str(ds.get("RescaleType", "") or "").strip()
    if unit and unit != "US":  # US: unspecified
        return unit
    return "HU" if str(ds.get("Modality", "")).upper() == "CT" else ""


# --- the list in the side panel: editable, deletable ---------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """One drawn measurement on one slice of one view."""

    number: int
    kind: str
    view: str
    slice: int
    points: tuple[Point, ...]


@dataclass
class Measurements:
    """The measurements of a volume, in drawing order; numbers are never reused."""

    items: list[Measurement] = field(default_factory=list)
    last_number: int = 0

    def add(self, kind: str, view: str, slice_index: int, points: list[Point]) -> Measurement:
        check_points(kind, points)
        self.last_number += 1
        item = Measurement(self.last_number, kind, view, slice_index, tuple(map(tuple, points)))
        self.items.append(item)
        return item

    def edit(self, number: int, points: list[Point]) -> Measurement:
        """Move a measurement's points (a handle dragged)."""
        n, item = self.find(number)
        check_points(item.kind, points)
        self.items[n] = replace(item, points=tuple(map(tuple, points)))
        return self.items[n]

    def delete(self, number: int) -> None:
        n, _ = self.find(number)
        del self.items[n]

    def on(self, view: str, slice_index: int) -> list[Measurement]:
        """The measurements drawn on this slice of this view."""
        return [m for m in self.items if m.view == view and m.slice == slice_index]

    def find(self, number: int) -> tuple[int, Measurement]:
        for n, item in enumerate(self.items):
            if item.number == number:
                return n, item
        raise KeyError(f"no measurement {number}")


def check_points(kind: str, points: list[Point]) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown measurement {kind!r}; one of {', '.join(KINDS)}")
    if len(points) != KINDS[kind]:
        article = "an" if kind[0] in "aeiou" else "a"
        raise ValueError(f"{article} {kind} takes {KINDS[kind]} points, not {len(points)}")


def describe(item: Measurement, image: np.ndarray, spacing: Spacing, modality: ModalityLut, unit: str) -> str:
    """The side panel's line for a measurement (plain text)."""
    head = f"{item.number}. {item.kind} ({item.view} {item.slice + 1})"
    if item.kind == "length":
        return f"{head}: {length_mm(*item.points, spacing):.1f} mm"
    if item.kind == "angle":
        return f"{head}: {angle_degrees(*item.points, spacing):.1f}°"
    stats = region_stats(image, item.kind, *item.points, spacing, modality)
    if stats.pixels == 0:
        return f"{head}: no pixel inside; area {stats.area_mm2:.1f} mm²"
    suffix = f" {unit}" if unit else ""
    return (f"{head}: mean {stats.mean:.1f}{suffix}, SD {stats.sd:.1f}, min {stats.minimum:g}, "
            f"max {stats.maximum:g}, area {stats.area_mm2:.1f} mm² ({stats.pixels} pixels)")
