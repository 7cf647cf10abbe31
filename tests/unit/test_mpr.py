"""The linked views' state: one crosshair point, slices through it, shared or per-view windows, slabs."""

from __future__ import annotations

import numpy as np
import pytest

from dicomview.decode import read_dataset
from dicomview.mpr import Mpr
from dicomview.pipeline import Window
from dicomview.render import render_greyscale
from dicomview.reslice import plane_image, planes, slab_image
from dicomview.volume import Volume, build_volume
from synthetic import phantom_series


@pytest.fixture
def mpr() -> Mpr:
    """6 axial slices 2 mm apart from z = 0, 5 rows 1 mm apart from y = 0, 4 columns 3 mm apart from x = 0."""
    voxels = np.arange(6 * 5 * 4, dtype=np.int16).reshape(6, 5, 4)
    volume = build_volume([(n, read_dataset(d)) for n, d in phantom_series(voxels, (2, 1, 3))])
    assert isinstance(volume, Volume), volume
    return Mpr(volume)


def test_the_views_start_at_the_middle_voxel(mpr):
    assert np.allclose(mpr.point, [3, 2, 4])  # voxel (2, 2, 1)
    assert {view: mpr.index(view) for view in ("axial", "coronal", "sagittal")} == {
        "axial": 2, "coronal": 2, "sagittal": 1}
    assert mpr.crosshair("coronal") == pytest.approx((3, 1))  # z = 4 is the 4th row from the top of 6


def test_a_click_moves_the_other_views_to_the_point(mpr):
    mpr.click("axial", 4, 3)  # y = 4, x = 9 on the slice z = 4
    assert np.allclose(mpr.point, [9, 4, 4])
    assert (mpr.index("coronal"), mpr.index("sagittal"), mpr.index("axial")) == (4, 3, 2)
    assert mpr.crosshair("sagittal") == pytest.approx((3, 4))
    assert mpr.active == "axial"


def test_scrolling_a_view_moves_the_point_along_its_normal_within_the_volume(mpr):
    mpr.scroll("coronal", 1)
    assert mpr.index("coronal") == 3 and np.allclose(mpr.point, [3, 3, 4])
    mpr.scroll("coronal", 10)
    assert mpr.index("coronal") == 4
    mpr.scroll("axial", -10)
    assert mpr.index("axial") == 0 and mpr.crosshair("coronal") == pytest.approx((5, 1))


def test_windows_are_shared_or_per_view_and_render_through_the_pipeline(mpr):
    mpr.set_window("axial", window=Window(50, 100))
    assert all(mpr.windows[view].window == Window(50, 100) for view in ("axial", "coronal", "sagittal"))
    mpr.linked_windows = False
    mpr.set_window("sagittal", voi_key="min-max")
    assert mpr.windows["coronal"].window == Window(50, 100) and mpr.windows["sagittal"].voi_key == "min-max"
    rendered = mpr.render("coronal")
    coronal = planes(mpr.volume)["coronal"]
    expected = render_greyscale(mpr.volume.modality, np.ascontiguousarray(plane_image(mpr.volume, coronal, 2)),
                                window=Window(50, 100))
    assert np.array_equal(rendered.rgba, expected.rgba)


def test_a_slab_applies_to_every_view(mpr):
    mpr.set_slab("mip", 6)  # 3 axial slices, 6 coronal, 2 sagittal
    volume, views = mpr.volume, planes(mpr.volume)
    assert np.array_equal(mpr.image("axial"), slab_image(volume, views["axial"], 2, 3, "mip"))
    assert np.array_equal(mpr.image("sagittal"), slab_image(volume, views["sagittal"], 1, 2, "mip"))
    with pytest.raises(ValueError, match="slab must be one of"):
        mpr.set_slab("sum", 2)


def test_layouts_and_physical_sizes(mpr):
    assert mpr.visible() == ("axial", "coronal", "sagittal")
    mpr.click("sagittal", 0, 0)
    mpr.set_layout("1x1")
    assert mpr.visible() == ("sagittal",)
    assert mpr.physical_size("axial") == (12, 5) and mpr.physical_size("coronal") == (12, 12)
    assert mpr.physical_size("sagittal") == (5, 12)
    with pytest.raises(ValueError, match="layout"):
        mpr.set_layout("3x3")


def test_measurements_are_drawn_point_by_point_and_edited_by_their_handles(mpr):
    mpr.set_tool("length")
    assert mpr.pointer_down("axial", 0, 0) == "point"
    assert mpr.pointer_down("axial", 4, 0) == "added"
    (ruler,) = mpr.shown_measurements("axial")
    assert ruler.points == ((0, 0), (4, 0)) and ruler.slice == 2
    assert mpr.shown_measurements("coronal") == []
    assert mpr.pointer_down("axial", 4.4, 0.3) == "handle"  # within reach of the second point
    assert mpr.pointer_move("axial", 4, 2)
    mpr.pointer_up()
    assert mpr.measurements.items[0].points == ((0, 0), (4, 2))
    mpr.set_tool("angle")
    for point in ((1, 1), (2, 2)):
        assert mpr.pointer_down("coronal", *point) == "point"
    assert mpr.pointer_down("sagittal", 3, 3) == "point"  # another view starts over
    assert mpr.pending == [(3, 3)]
    mpr.set_tool("crosshair")
    assert mpr.pointer_down("sagittal", 5, 0) == "crosshair" and mpr.index("axial") == 0
    assert mpr.pointer_move("sagittal", 0, 4) and mpr.index("axial") == 5
    mpr.pointer_up()
    assert not mpr.pointer_move("sagittal", 0, 0)
    with pytest.raises(ValueError, match="tool must be"):
        mpr.set_tool("laser")


def test_a_window_drag_starts_from_the_views_window_and_follows_viewstate(mpr):
    from dicomview.viewstate import drag_window

    start = mpr.render("coronal")
    mpr.start_window_drag("coronal")
    mpr.drag_window_by(50, -20)
    mpr.drag_window_by(100, 10)  # from the start, not from the last step
    low, high = start.value_range
    expected = drag_window(start.window, 100, 10, high - low)
    assert all(mpr.windows[view].window == expected for view in ("axial", "coronal", "sagittal"))
    mpr.pointer_up()
    assert mpr.dragging is None and mpr.active == "coronal"


def test_the_readout_gives_the_point_and_the_value_in_modality_units(mpr):
    mpr.click("axial", 4, 3)  # voxel (2, 4, 3): stored 2 * 20 + 4 * 4 + 3 = 59, intercept -1024
    assert mpr.readout() == "(9.0, 4.0, 4.0) mm · -965 HU"


def test_keys_step_the_active_view_delete_and_cancel(mpr):
    mpr.click("coronal", 0, 0)
    assert mpr.key("ArrowDown") and mpr.index("coronal") == 3
    assert mpr.key("PageUp") and mpr.key("ArrowLeft") and mpr.index("coronal") == 1
    mpr.set_tool("length")
    mpr.pointer_down("coronal", 0, 0)
    mpr.pointer_down("coronal", 0, 2)
    mpr.pointer_down("coronal", 3, 1)
    assert mpr.pending == [(3, 1)] and mpr.key("Escape") and mpr.pending == []
    assert mpr.key("Delete") and mpr.measurements.items == []
    assert not mpr.key("Delete") and not mpr.key("x")
