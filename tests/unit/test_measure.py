"""Lengths and angles in the patient, region statistics in modality units (HU) and areas in mm², exact
on phantoms written with pydicom: a water disc (0 HU) in air (-1000 HU), stored with intercept -1024."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dicomview.decode import read_dataset
from dicomview.measure import (
    Measurements,
    angle_degrees,
    describe,
    ellipse_mask,
    length_mm,
    modality_unit,
    rectangle_mask,
    region_stats,
)
from dicomview.render import modality_lut
from dicomview.reslice import patient_point, plane_image, planes
from dicomview.volume import Volume, build_volume
from synthetic import phantom_series


def disc_volume(rescale_slope: str = "1") -> Volume:
    """4 axial slices (2.5 mm) of 21x21 pixels (0.5 mm rows, 0.8 mm columns): air (stored 24) with a disc
    of stored 1024 + 40 = 40 HU around pixel (10, 10), radius 5 pixels, in slices 1 and 2."""
    rows, columns = np.ogrid[:21, :21]
    disc = (rows - 10) ** 2 + (columns - 10) ** 2 <= 25
    voxels = np.full((4, 21, 21), 24, np.int16)
    voxels[1:3][:, disc] = 1064
    files = phantom_series(voxels, (2.5, 0.5, 0.8), RescaleSlope=rescale_slope)
    volume = build_volume([(name, read_dataset(data)) for name, data in files])
    assert isinstance(volume, Volume), volume
    return volume


def test_length_is_in_millimetres_with_unequal_row_and_column_spacing():
    assert length_mm((0, 0), (4, 3), (3.0, 2.0)) == pytest.approx(math.hypot(12, 6))
    volume = disc_volume()
    coronal = planes(volume)["coronal"]  # rows 2.5 mm apart (slices), columns 0.8 mm
    a, b = (0, 2), (3, 12)
    in_patient = np.linalg.norm(patient_point(volume, coronal, 7, *a) - patient_point(volume, coronal, 7, *b))
    assert length_mm(a, b, (coronal.row_spacing, coronal.column_spacing)) == pytest.approx(in_patient)
    assert in_patient == pytest.approx(math.hypot(3 * 2.5, 10 * 0.8), abs=1e-4)


def test_angles_are_measured_in_the_patient():
    assert angle_degrees((0, 5), (0, 0), (5, 0), (1, 1)) == pytest.approx(90)
    assert angle_degrees((1, 1), (0, 0), (0, 1), (1, 1)) == pytest.approx(45)
    assert angle_degrees((1, 1), (0, 0), (0, 1), (2, 1)) == pytest.approx(math.degrees(math.atan(2)))
    assert angle_degrees((0, -3), (0, 0), (0, 4), (1, 1)) == pytest.approx(180)


def test_masks_hold_the_pixels_whose_centres_are_inside():
    assert rectangle_mask((5, 6), (1, 4), (3, 2)).sum() == 9  # rows 1..3, columns 2..4
    assert rectangle_mask((5, 6), (1 + 1e-8, 4), (3, 2 + 1e-8)).sum() == 9  # corners a rounding error off
    circle = ellipse_mask((9, 9), (2, 2), (6, 6))  # radius 2 about (4, 4): 13 pixel centres
    assert circle.sum() == 13 and circle[4, 2] and circle[2, 4] and not circle[3, 2]


def test_region_statistics_are_in_hounsfield_units_of_the_region_only():
    volume = disc_volume()
    axial = planes(volume)["axial"]
    image, spacing = plane_image(volume, axial, 1), (axial.row_spacing, axial.column_spacing)
    hu = modality_lut(volume.modality)
    inside = region_stats(image, "ellipse", (7, 7), (13, 13), spacing, hu)
    assert (inside.mean, inside.sd, inside.minimum, inside.maximum) == (40, 0, 40, 40)
    assert inside.pixels == 29 and inside.area_mm2 == pytest.approx(math.pi * 1.5 * 2.4)
    # a rectangle of rows 0..9, columns 10..10: rows 5..9 are in the disc, rows 0..4 are air
    half = region_stats(image, "rectangle", (0, 10), (9, 10), spacing, hu)
    assert (half.mean, half.sd, half.minimum, half.maximum, half.pixels) == (-480, 520, -1000, 40, 10)
    assert half.area_mm2 == 0  # a line of pixels has no area
    air = region_stats(plane_image(volume, axial, 0), "rectangle", (-0.5, -0.5), (3.5, 1.5), spacing, hu)
    assert (air.mean, air.pixels, air.area_mm2) == (-1000, 8, pytest.approx(4 * 0.5 * 2 * 0.8))


def test_a_rescale_slope_is_applied():
    volume = disc_volume(rescale_slope="2")
    stats = region_stats(plane_image(volume, planes(volume)["axial"], 2), "ellipse", (9, 9), (11, 11), (1, 1),
                         modality_lut(volume.modality))
    assert stats.mean == 2 * 1064 - 1024 and stats.pixels == 5


def test_measurements_are_listed_edited_and_deleted():
    volume = disc_volume()
    axial = planes(volume)["axial"]
    image, spacing = plane_image(volume, axial, 1), (axial.row_spacing, axial.column_spacing)
    hu, unit = modality_lut(volume.modality), modality_unit(volume.modality)
    items = Measurements()
    ruler = items.add("length", "axial", 1, [(0, 0), (0, 10)])
    disc = items.add("ellipse", "axial", 1, [(7, 7), (13, 13)])
    items.add("angle", "coronal", 3, [(0, 5), (0, 0), (5, 0)])
    assert [m.number for m in items.on("axial", 1)] == [1, 2] and items.on("axial", 2) == []
    assert describe(ruler, image, spacing, hu, unit) == "1. length (axial 2): 8.0 mm"
    assert describe(disc, image, spacing, hu, unit) == (
        "2. ellipse (axial 2): mean 40.0 HU, SD 0.0, min 40, max 40, area 11.3 mm² (29 pixels)")
    moved = items.edit(2, [(0, 0), (2, 2)])
    assert describe(moved, image, spacing, hu, unit).startswith("2. ellipse (axial 2): mean -1000.0 HU, SD 0.0")
    tiny = items.edit(2, [(0, 0), (1, 1)])  # an ellipse between four pixel centres holds none
    assert describe(tiny, image, spacing, hu, unit) == "2. ellipse (axial 2): no pixel inside; area 0.3 mm²"
    items.delete(1)
    assert [m.number for m in items.items] == [2, 3]
    assert items.add("length", "axial", 0, [(0, 0), (1, 1)]).number == 4  # numbers are not reused
    with pytest.raises(ValueError, match="an angle takes 3 points, not 2"):
        items.add("angle", "axial", 0, [(0, 0), (1, 1)])
    with pytest.raises(KeyError):
        items.delete(1)


@pytest.mark.parametrize("spacing", [(1.0, 0.5), (0.5, 0.5), (2.5, 0.8)])
def test_an_ellipse_counts_the_pixels_of_its_analytic_area_within_the_discretisation_bound(spacing):
    """The listed area is the drawn ellipse's, pi * a * b (a, b semi-axes in mm). The pixels counted (centres
    inside) cover that area up to the pixels the outline cuts: for a convex shape with perimeter P and a
    pixel's half-diagonal r (mm), the counted cells lie within the shape grown by r and contain the shape
    shrunk by r (Steiner), so |pixels * pixel area - pi * a * b| <= P * r + pi * r**2."""
    r = math.hypot(*spacing) / 2
    for top, left, bottom, right in [(3, 4, 27, 18), (10.3, 2.6, 19.9, 37.2), (0, 0, 40, 40), (5, 5, 8, 30)]:
        mask = ellipse_mask((41, 41), (top, left), (bottom, right))
        a, b = (bottom - top) / 2 * spacing[0], (right - left) / 2 * spacing[1]
        perimeter = math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))  # Ramanujan, within 0.05 %
        analytic = math.pi * a * b
        image = np.zeros((41, 41), np.int16)
        stats = region_stats(image, "ellipse", (top, left), (bottom, right), spacing, lambda v: v)
        assert stats.area_mm2 == pytest.approx(analytic)
        assert stats.pixels == mask.sum()
        assert abs(mask.sum() * spacing[0] * spacing[1] - analytic) <= 1.001 * perimeter * r + math.pi * r * r
