"""Views of a volume named from the patient axes, turned to the radiological convention, in physical
proportions; the crosshair as one patient point; slabs (MIP, MinIP, mean) in the stored dtype.

Each phantom voxel holds a value computed from its patient position (x, y, z in mm), so the expected
view is written from the convention itself: axial has x growing rightwards and y downwards, coronal x
rightwards and z upwards, sagittal y rightwards and z upwards.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dicomview.decode import read_dataset
from dicomview.reslice import (
    centre,
    nearest_slice,
    patient_point,
    plane_image,
    planes,
    slab_image,
    slab_range,
    slab_slices,
    view_point,
)
from dicomview.volume import Volume, build_volume
from synthetic import phantom_series


def phantom_volume(shape, spacing, orientation, origin, value) -> tuple[Volume, callable]:
    """A volume whose voxel at patient (x, y, z) holds value(x, y, z), and the position function."""
    row, column = np.array(orientation[:3], float), np.array(orientation[3:], float)
    normal = np.cross(row, column)

    def position(k, i, j):
        return np.asarray(origin) + k * spacing[0] * normal + i * spacing[1] * column + j * spacing[2] * row

    voxels = np.zeros(shape, np.int16)
    for k, i, j in np.ndindex(shape):
        voxels[k, i, j] = value(*np.rint(position(k, i, j)))
    volume = build_volume([(n, read_dataset(d)) for n, d in phantom_series(voxels, spacing, orientation, origin)])
    assert isinstance(volume, Volume), volume
    return volume, position


def axial_value(x, y, z):
    return (x + 10) + 20 * (y - 10) + 200 * (z - 20)


@pytest.fixture(scope="module")
def axial():
    """5 axial slices 3 mm apart from z = 20, rows 1 mm apart from y = 10, columns 2 mm apart from x = -4."""
    return phantom_volume((5, 6, 7), (3, 1, 2), (1, 0, 0, 0, 1, 0), (-4, 10, 20), axial_value)[0]


def expected(shape, x, y, z, value):
    return np.fromfunction(lambda r, c: value(x(r, c), y(r, c), z(r, c)), shape).astype(np.int16)


def test_an_axial_acquisition_gives_true_planes_in_the_radiological_convention(axial):
    views = planes(axial)
    assert {name: view.label for name, view in views.items()} == {"axial": "axial", "coronal": "coronal",
                                                                   "sagittal": "sagittal"}
    top = 20 + 3 * 4  # the highest slice, shown at the top of coronal and sagittal views
    assert np.array_equal(plane_image(axial, views["axial"], 2),
                          expected((6, 7), lambda r, c: -4 + 2 * c, lambda r, c: 10 + r, lambda r, c: 26 + 0 * r,
                                   axial_value))
    assert np.array_equal(plane_image(axial, views["coronal"], 3),
                          expected((5, 7), lambda r, c: -4 + 2 * c, lambda r, c: 13 + 0 * r, lambda r, c: top - 3 * r,
                                   axial_value))
    assert np.array_equal(plane_image(axial, views["sagittal"], 1),
                          expected((5, 6), lambda r, c: -2 + 0 * r, lambda r, c: 10 + c, lambda r, c: top - 3 * r,
                                   axial_value))
    assert plane_image(axial, views["coronal"], 3).dtype == np.int16


def test_each_view_has_the_physical_spacing_of_its_rows_and_columns(axial):
    views = planes(axial)
    spacing = {name: (v.row_spacing, v.column_spacing, v.slice_spacing) for name, v in views.items()}
    assert spacing == {"axial": (1, 2, 3), "coronal": (3, 2, 1), "sagittal": (3, 1, 2)}
    assert views["coronal"].aspect == pytest.approx(2 / 3)


def test_a_sagittal_acquisition_is_turned_and_flipped_into_the_same_convention():
    """Slices step towards the patient's right (normal -x), rows go down (z falls), columns go posterior:
    the axial view must flip the slice order to put the patient's left on the screen's right."""
    def value(x, y, z):
        return (x - 8) + 20 * (y + 4) + 300 * (30 - z)

    volume, _ = phantom_volume((5, 6, 7), (3, 1, 2), (0, 1, 0, 0, 0, -1), (20, -4, 30), value)
    views = planes(volume)
    assert [views[n].label for n in ("axial", "coronal", "sagittal")] == ["axial", "coronal", "sagittal"]
    assert views["axial"].flip_columns and not views["sagittal"].flip_rows
    assert np.array_equal(plane_image(volume, views["axial"], 2),  # z = 30 - 2
                          expected((7, 5), lambda r, c: 8 + 3 * c, lambda r, c: -4 + 2 * r, lambda r, c: 28 + 0 * r,
                                   value))
    assert np.array_equal(plane_image(volume, views["coronal"], 6),  # y = -4 + 12
                          expected((6, 5), lambda r, c: 8 + 3 * c, lambda r, c: 8 + 0 * r, lambda r, c: 30 - r, value))
    assert np.array_equal(plane_image(volume, views["sagittal"], 0),  # x = 20
                          expected((6, 7), lambda r, c: 20 + 0 * r, lambda r, c: -4 + 2 * c, lambda r, c: 30 - r,
                                   value))
    assert (views["axial"].row_spacing, views["axial"].column_spacing) == (2, 3)


def test_an_oblique_acquisition_says_what_each_view_is():
    turn = np.radians(20)
    orientation = (np.cos(turn), np.sin(turn), 0, -np.sin(turn), np.cos(turn), 0)  # axial, turned about z
    volume, _ = phantom_volume((3, 4, 4), (2, 1, 1), orientation, (0, 0, 0), lambda x, y, z: 0)
    labels = {name: view.label for name, view in planes(volume).items()}
    assert labels == {"axial": "axial", "coronal": "oblique coronal (20.0° from true coronal)",
                      "sagittal": "oblique sagittal (20.0° from true sagittal)"}


def test_the_crosshair_is_one_patient_point_that_every_view_finds():
    turn = np.radians(30)
    orientation = (np.cos(turn), 0, np.sin(turn), 0, 1, 0)  # oblique: rows tilted 30° towards the head
    volume, position = phantom_volume((6, 5, 7), (2, 1.5, 1), orientation, (3, -2, 7), lambda x, y, z: 0)
    volume = replace(volume, voxels=np.arange(volume.voxels.size).reshape(volume.voxels.shape))  # all unique
    point = position(4, 1, 5)  # the centre of voxel (4, 1, 5), computed from the phantom's own geometry
    for plane in planes(volume).values():
        index, row, column = view_point(volume, plane, point)
        assert np.allclose([index, row, column], np.rint([index, row, column]), atol=1e-4)  # files: 4 decimals
        image = plane_image(volume, plane, round(index))
        assert image[round(row), round(column)] == volume.voxels[4, 1, 5]
        assert np.allclose(patient_point(volume, plane, index, row, column), point, atol=1e-4)
        assert nearest_slice(volume, plane, point) == round(index)
        assert nearest_slice(volume, plane, point + 1000 * np.ones(3)) in (0, volume.voxels.shape[plane.axis] - 1)
    assert np.allclose(centre(volume), position(2, 2, 3))


def test_a_click_in_one_view_moves_the_other_views_to_that_point(axial):
    views = planes(axial)
    point = patient_point(axial, views["coronal"], 3, 1, 5)  # coronal y = 13, 2nd row from top: z = 29, x = 6
    assert np.allclose(point, [6, 13, 29])
    assert view_point(axial, views["axial"], point) == pytest.approx((3, 3, 5))
    assert view_point(axial, views["sagittal"], point) == pytest.approx((5, 1, 3))


def test_slabs_take_the_maximum_minimum_and_mean_in_the_stored_dtype(axial):
    coronal = planes(axial)["coronal"]
    images = [plane_image(axial, coronal, i) for i in range(6)]
    mip, minip, mean = (slab_image(axial, coronal, 2, 3, mode) for mode in ("mip", "minip", "mean"))
    assert mip.dtype == minip.dtype == mean.dtype == np.int16
    assert np.array_equal(mip, np.maximum.reduce(images[1:4])) and np.array_equal(mip, images[3])
    assert np.array_equal(minip, images[1])
    assert np.array_equal(mean, images[2])  # the values grow linearly along y: the mean is the middle
    pair = slab_image(axial, coronal, 0, 2, "mean")  # y = 10 and 11: values differ by 20
    assert np.array_equal(pair, images[0] + 10)
    assert np.array_equal(slab_image(axial, coronal, 4, 1, "mip"), images[4])
    with pytest.raises(ValueError, match="slab mode"):
        slab_image(axial, coronal, 0, 2, "sum")


def test_slab_ranges_are_centred_and_clipped():
    assert slab_range(5, 3, 10) == (4, 7)
    assert slab_range(5, 4, 10) == (4, 8)
    assert slab_range(0, 5, 10) == (0, 3)
    assert slab_range(9, 5, 10) == (7, 10)
    assert slab_range(3, 0, 10) == (3, 4)


def test_a_slab_in_millimetres_is_a_whole_number_of_slices(axial):
    coronal = planes(axial)["coronal"]  # 1 mm between coronal slices
    assert slab_slices(coronal, 10) == 10 and slab_slices(coronal, 0.2) == 1
    assert slab_slices(planes(axial)["axial"], 10) == 3
