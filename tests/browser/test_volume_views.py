"""The volume views in Chromium: three canvas[data-view] planes of a phantom series written with pydicom,
checked pixel for pixel against the CPython pipeline (dicomview.mpr.Mpr on the same files), linked by
the crosshair under real mouse and wheel events; layouts, windows, slabs, and measurements."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import canvas_rgba, render_count, wait_for_render_after
from dicomview.decode import read_dataset
from dicomview.measure import describe, modality_unit
from dicomview.mpr import Mpr
from dicomview.pipeline import Window
from dicomview.render import modality_lut
from dicomview.viewstate import drag_window
from dicomview.volume import build_volume
from synthetic import enhanced_phantom, phantom_series

pytestmark = pytest.mark.browser
VIEWS = ("axial", "coronal", "sagittal")


def ramp() -> np.ndarray:
    return np.fromfunction(lambda k, i, j: 1024 + k * 100 + i * 3 + j, (12, 24, 20), dtype=int).astype(np.int16)


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """12 axial slices 3 mm apart, 24 rows 1 mm apart, 20 columns 1.5 mm apart; and its CPython reference."""
    folder = tmp_path_factory.mktemp("volume")
    files = phantom_series(ramp(), (3, 1, 1.5), SeriesInstanceUID="1.2.826.0.1.3680043.2.1125.9.1")
    for name, data in files:
        (folder / name).write_bytes(data)
    return sorted(folder.iterdir())


def reference(paths) -> Mpr:
    return Mpr(build_volume([(p.name, read_dataset(p.read_bytes())) for p in paths]))


def view_count(page, view: str) -> int:
    return page.evaluate(
        f"Number(document.querySelector('canvas[data-view=\"{view}\"]')?.dataset.renderCount || 0)")


def wait_for_view(page, view: str, count: int) -> None:
    page.wait_for_function(
        f"Number(document.querySelector('canvas[data-view=\"{view}\"]')?.dataset.renderCount || 0) > {count}",
        timeout=60_000)


def open_series(page, paths) -> None:
    if page.is_visible("#mpr"):
        page.click("#volume-toggle")
    before = render_count(page)
    page.set_input_files("#open-files", [str(p) for p in paths])
    wait_for_render_after(page, before)
    page.wait_for_selector("#volume-toggle:not([hidden])")


def act(page, view: str, action) -> None:
    """Do something on the page and wait until `view` has been drawn again."""
    before = view_count(page, view)
    action()
    wait_for_view(page, view, before)


def point_of(page, view: str, row: float, column: float) -> tuple[float, float]:
    """The page position of a pixel centre of a view."""
    box = page.locator(f'canvas[data-view="{view}"]').bounding_box()
    width, height = (int(page.get_attribute(f'canvas[data-view="{view}"]', name)) for name in ("width", "height"))
    return box["x"] + (column + 0.5) / width * box["width"], box["y"] + (row + 0.5) / height * box["height"]


def assert_views_match(page, mpr: Mpr) -> None:
    for view in mpr.visible():
        assert np.array_equal(canvas_rgba(page, f'canvas[data-view="{view}"]'), mpr.render(view).rgba), view
        assert page.get_attribute(f'canvas[data-view="{view}"]', "data-frame") == str(mpr.index(view))


@pytest.fixture(scope="module")
def volume_page(viewer, series):
    open_series(viewer, series)
    act(viewer, "sagittal", lambda: viewer.click("#volume-toggle"))
    return viewer


def test_three_views_show_the_planes_in_true_proportions(volume_page, series):
    page, mpr = volume_page, reference(series)
    assert_views_match(page, mpr)
    for view in VIEWS:
        canvas = page.locator(f'canvas[data-view="{view}"]')
        assert canvas.get_attribute("data-plane") == view
        box = canvas.bounding_box()
        width_mm, height_mm = mpr.physical_size(view)
        assert box["width"] / box["height"] == pytest.approx(width_mm / height_mm, rel=0.01)
    shown = next(p for p in series if p.name == mpr.volume.labels[mpr.index("axial")])  # the acquired slice
    assert page.get_attribute('canvas[data-view="axial"]', "data-sop-instance-uid") == str(
        read_dataset(shown.read_bytes()).SOPInstanceUID)
    assert page.get_attribute('canvas[data-view="coronal"]', "data-sop-instance-uid") == ""
    assert "12 × 24 × 20 voxels, int16" in page.text_content("#mpr-status")


def test_a_click_and_the_wheel_move_the_crosshair_through_the_other_views(volume_page, series):
    page, mpr = volume_page, reference(series)
    act(page, "sagittal", lambda: page.mouse.click(*point_of(page, "axial", 5, 7)))
    mpr.click("axial", 5, 7)
    assert (mpr.index("coronal"), mpr.index("sagittal")) == (5, 7)
    assert_views_match(page, mpr)
    row, column = (float(v) for v in page.get_attribute('canvas[data-view="sagittal"]', "data-crosshair").split())
    assert (row, column) == pytest.approx(mpr.crosshair("sagittal"), abs=0.05)
    assert page.text_content("#mpr-readout") == mpr.readout()
    act(page, "coronal", lambda: (page.mouse.move(*point_of(page, "coronal", 3, 3)), page.mouse.wheel(0, 100)))
    mpr.scroll("coronal", 1)
    assert_views_match(page, mpr)
    assert page.get_attribute('canvas[data-view="coronal"]', "data-frame") == "6"


def test_dragging_the_crosshair_moves_the_other_views_along(volume_page, series):
    """A press and a drag (real pointer events) on the sagittal view: where the button is let go is where
    the crosshair ends, and the axial and coronal views show the slices through it."""
    page, mpr = volume_page, reference(series)
    act(page, "axial", lambda: page.mouse.click(*point_of(page, "axial", 5, 7)))
    mpr.click("axial", 5, 7)
    page.mouse.move(*point_of(page, "sagittal", 2, 3))
    page.mouse.down()
    page.mouse.move(*point_of(page, "sagittal", 6, 10), steps=4)
    act(page, "coronal", lambda: page.mouse.move(*point_of(page, "sagittal", 8, 15), steps=2))
    page.mouse.up()
    mpr.click("sagittal", 8, 15)
    for view in ("axial", "coronal"):  # the last move's redraw may follow the one `act` saw
        page.wait_for_function(f"document.querySelector('canvas[data-view=\"{view}\"]').dataset.frame"
                               f" === '{mpr.index(view)}'", timeout=60_000)
    page.wait_for_function("document.querySelector('canvas[data-view=\"sagittal\"]').dataset.crosshair"
                           f" === '{8:.3f} {15:.3f}'", timeout=60_000)
    assert_views_match(page, mpr)


def test_keys_step_the_active_view_and_leave_the_2d_view_alone(volume_page):
    page = volume_page
    act(page, "coronal", lambda: page.mouse.click(*point_of(page, "coronal", 4, 4)))
    frame = int(page.get_attribute('canvas[data-view="coronal"]', "data-frame"))
    renders_2d = render_count(page)
    act(page, "coronal", lambda: page.keyboard.press("ArrowDown"))
    assert page.get_attribute('canvas[data-view="coronal"]', "data-frame") == str(frame + 1)
    act(page, "coronal", lambda: page.keyboard.press("PageUp"))
    assert page.get_attribute('canvas[data-view="coronal"]', "data-frame") == str(frame)
    assert render_count(page) == renders_2d  # the hidden 2-D view did not step through its images


def test_windows_are_shared_or_per_view(volume_page, series):
    page = volume_page
    act(page, "sagittal", lambda: page.select_option("#mpr-window", "preset:bone"))
    for view in VIEWS:
        assert page.get_attribute(f'canvas[data-view="{view}"]', "data-window-center") == "400"
    act(page, "sagittal", lambda: page.click("#mpr-link-windows"))
    page.mouse.click(*point_of(page, "coronal", 2, 2))  # the coronal view becomes the active one
    act(page, "coronal", lambda: page.select_option("#mpr-window", "preset:lung"))
    centres = [page.get_attribute(f'canvas[data-view="{view}"]', "data-window-center") for view in VIEWS]
    assert centres == ["400", "-600", "400"]
    act(page, "axial", lambda: page.click("#mpr-link-windows"))  # linked again: the active view's window
    assert [page.get_attribute(f'canvas[data-view="{v}"]', "data-window-center") for v in VIEWS] == ["-600"] * 3


def page_reference(page, series) -> Mpr:
    """The CPython state at the page's crosshair slices."""
    mpr = reference(series)
    mpr.point = mpr.volume.voxel_to_patient([int(page.get_attribute(f'canvas[data-view="{v}"]', "data-frame"))
                                             for v in ("axial", "coronal", "sagittal")])
    return mpr


def test_a_right_drag_sets_the_window_of_the_views(volume_page, series):
    page = volume_page
    if not page.is_checked("#mpr-link-windows"):
        act(page, "axial", lambda: page.click("#mpr-link-windows"))
    act(page, "axial", lambda: page.select_option("#mpr-window", "preset:abdomen"))  # C 40 / W 400
    mpr = page_reference(page, series)
    low, high = mpr.render("coronal").value_range
    x, y = (round(v) for v in point_of(page, "coronal", 5, 5))
    page.mouse.move(x, y)
    page.mouse.down(button="right")
    page.mouse.move(x + 30, y + 10, steps=3)
    act(page, "sagittal", lambda: page.mouse.move(x + 60, y - 40))
    page.mouse.up(button="right")
    expected = drag_window(Window(40, 400), 60, -40, high - low)
    for view in VIEWS:
        canvas = f'canvas[data-view="{view}"]'
        assert page.get_attribute(canvas, "data-window-center") == f"{expected.center:g}"
        assert page.get_attribute(canvas, "data-window-width") == f"{expected.width:g}"
    mpr.set_window("coronal", window=expected)
    assert_views_match(page, mpr)
    assert page.input_value("#mpr-window") == "custom"
    assert page.text_content('#mpr-window option[value="custom"]') == (
        f"Custom (C {expected.center:.0f} / W {expected.width:.0f})")


def test_mip_and_minip_slabs_match_the_reference(volume_page, series):
    page = volume_page
    if not page.is_checked("#mpr-link-windows"):
        act(page, "axial", lambda: page.click("#mpr-link-windows"))
    act(page, "axial", lambda: page.select_option("#mpr-window", "preset:lung"))
    page.fill("#mpr-slab-mm", "9")
    act(page, "axial", lambda: page.select_option("#mpr-slab", "mip"))
    mpr = page_reference(page, series)
    mpr.set_window("axial", voi_key="preset:lung")
    mpr.set_slab("mip", 9)
    assert_views_match(page, mpr)
    act(page, "axial", lambda: page.select_option("#mpr-slab", "minip"))
    mpr.set_slab("minip", 9)
    assert_views_match(page, mpr)
    act(page, "axial", lambda: page.select_option("#mpr-slab", "none"))


def test_layouts_show_one_three_or_four_panes(volume_page):
    page = volume_page
    act(page, "coronal", lambda: page.mouse.click(*point_of(page, "coronal", 2, 2)))  # coronal: the active view
    act(page, "coronal", lambda: page.select_option("#mpr-layout", "1x1"))
    assert [page.is_visible(f'[data-pane="{v}"]') for v in VIEWS] == [False, True, False]
    act(page, "axial", lambda: page.select_option("#mpr-layout", "2x2"))
    assert all(page.is_visible(f'[data-pane="{v}"]') for v in (*VIEWS, "info"))
    act(page, "axial", lambda: page.select_option("#mpr-layout", "1x3"))
    assert not page.is_visible('[data-pane="info"]')


def test_measurements_are_drawn_listed_edited_and_deleted(volume_page, series):
    page, mpr = volume_page, reference(series)
    act(page, "axial", lambda: page.select_option("#mpr-tool", "length"))
    page.mouse.click(*point_of(page, "axial", 2, 2))
    act(page, "axial", lambda: page.mouse.click(*point_of(page, "axial", 2, 10)))
    index = int(page.get_attribute('canvas[data-view="axial"]', "data-frame"))
    lines = page.eval_on_selector_all("#mpr-measurements li span", "items => items.map(i => i.textContent)")
    assert lines == [f"1. length (axial {index + 1}): 12.0 mm"]  # 8 columns of 1.5 mm
    act(page, "axial", lambda: page.select_option("#mpr-tool", "ellipse"))
    page.mouse.click(*point_of(page, "axial", 10, 4))
    act(page, "axial", lambda: page.mouse.click(*point_of(page, "axial", 16, 12)))
    line = page.text_content('#mpr-measurements li[data-number="2"] span')
    volume = mpr.volume
    drawn = [tuple(map(float, point.split(","))) for point in
             page.get_attribute('#mpr-measurements li[data-number="2"]', "data-points").split()]
    assert np.allclose(drawn, [(10, 4), (16, 12)], atol=0.1)  # where the clicks were
    item = mpr.measurements.add("ellipse", "axial", index, drawn)
    plane = mpr.planes["axial"]
    expected = describe(item, mpr.image("axial", index), (plane.row_spacing, plane.column_spacing),
                        modality_lut(volume.modality), modality_unit(volume.modality))
    assert line == expected.replace("1. ", "2. ") and " HU" in line
    # drag the ruler's second handle two columns further
    page.mouse.move(*point_of(page, "axial", 2, 10))
    page.mouse.down()
    page.mouse.move(*point_of(page, "axial", 2, 12), steps=3)
    page.mouse.up()
    page.wait_for_function("document.querySelector('#mpr-measurements li span').textContent.endsWith('15.0 mm')")
    act(page, "axial", lambda: page.click('#mpr-measurements button[data-delete="1"]'))
    assert page.eval_on_selector_all("#mpr-measurements li", "items => items.map(i => i.dataset.number)") == ["2"]
    act(page, "axial", lambda: page.select_option("#mpr-tool", "angle"))
    page.mouse.click(*point_of(page, "axial", 20, 2))
    page.mouse.click(*point_of(page, "axial", 20, 12))
    act(page, "axial", lambda: page.mouse.click(*point_of(page, "axial", 5, 12)))  # a right angle at (20, 12)
    assert page.text_content('#mpr-measurements li[data-number="3"] span') == f"3. angle (axial {index + 1}): 90.0°"
    act(page, "axial", lambda: page.select_option("#mpr-tool", "rectangle"))
    page.mouse.click(*point_of(page, "axial", 0, 0))
    act(page, "axial", lambda: page.mouse.click(*point_of(page, "axial", 3, 1)))
    rectangle = page.text_content('#mpr-measurements li[data-number="4"] span')
    stored = ramp()[index, 0:4, 0:2]  # rows 0..3, columns 0..1 of the axial slice
    assert rectangle.startswith(f"4. rectangle (axial {index + 1}): mean {stored.mean() - 1024:.1f} HU, "
                                f"SD {stored.std():.1f}, min {stored.min() - 1024}, max {stored.max() - 1024}, "
                                f"area {3 * 1 * 1 * 1.5:.1f} mm² (8 pixels)")  # drawn centre to centre
    act(page, "axial", lambda: page.select_option("#mpr-tool", "crosshair"))


def test_a_series_with_a_missing_slice_says_why(volume_page, tmp_path):
    page = volume_page
    files = phantom_series(ramp()[:6], (3, 1, 1.5), skip=(2,), SeriesInstanceUID="1.2.826.0.1.3680043.2.1125.9.2")
    paths = []
    for name, data in files:
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    open_series(page, paths)
    page.click("#volume-toggle")
    page.wait_for_function("document.querySelector('#mpr-status').dataset.kind === 'gap'")
    assert page.text_content("#mpr-status") == "Not a volume: slice 3 of 6 missing (the series steps 3 mm)"
    assert not page.is_visible("#mpr") and page.is_visible("#viewport")


def test_an_oblique_enhanced_ct_says_what_each_view_is(volume_page, tmp_path):
    """One Enhanced CT file (frames out of order, per-frame positions) acquired 25° off axial about x."""
    page = volume_page
    turn = np.radians(25)
    orientation = (1, 0, 0, 0, np.cos(turn), np.sin(turn))
    path = tmp_path / "enhanced.dcm"
    path.write_bytes(enhanced_phantom(ramp()[:8], (2, 1, 1), orientation, frame_order=[4, 0, 7, 1, 6, 2, 5, 3]))
    if page.is_visible("#mpr"):
        page.click("#volume-toggle")
    before = render_count(page)
    page.set_input_files("#open-files", [str(path)])
    wait_for_render_after(page, before)
    act(page, "sagittal", lambda: page.click("#volume-toggle"))
    labels = [page.get_attribute(f'canvas[data-view="{v}"]', "data-plane") for v in VIEWS]
    assert labels == ["oblique axial (25.0° from true axial)", "oblique coronal (25.0° from true coronal)",
                      "sagittal"]
    assert_views_match(page, Mpr(build_volume([("enhanced.dcm", read_dataset(path.read_bytes()))])))


def test_real_series_from_dicomdirtests(volume_page):
    """A real five-slice CT becomes three views equal to the CPython pipeline's; a real series with 161
    slices missing says so."""
    from corpus import PYDICOM_FILES

    page = volume_page
    ct = sorted((PYDICOM_FILES / "dicomdirtests" / "98892001" / "CT5N").iterdir())
    open_series(page, ct)
    act(page, "sagittal", lambda: page.click("#volume-toggle"))
    assert_views_match(page, reference(ct))
    gap = sorted((PYDICOM_FILES / "dicomdirtests" / "77654033" / "CT2").iterdir())
    open_series(page, gap)
    page.click("#volume-toggle")
    page.wait_for_function("document.querySelector('#mpr-status').dataset.kind === 'gap'")
    assert page.text_content("#mpr-status") == "Not a volume: slices 2–162 of 165 missing (the series steps 1.25 mm)"


def test_non_square_voxels_keep_their_proportions_and_measure_in_millimetres(volume_page, tmp_path):
    """Slices 1 mm apart, pixels 0.5 x 0.5 mm: the coronal view's pixels are 1 mm tall and 0.5 mm wide.
    Its CSS box must have the patient's proportions (not the backing store's), and a length and an
    ellipse drawn on it with the mouse must measure in mm. Expected values come from the phantom's
    own geometry (coronal row r is slice 15 - r, column c is column c), not from dicomview."""
    page = volume_page
    voxels = np.fromfunction(lambda k, i, j: 1024 + k * 100 + i * 3 + j, (16, 24, 20), dtype=int).astype(np.int16)
    paths = []
    for name, data in phantom_series(voxels, (1, 0.5, 0.5), SeriesInstanceUID="1.2.826.0.1.3680043.2.1125.9.3"):
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    open_series(page, paths)
    act(page, "sagittal", lambda: page.click("#volume-toggle"))
    physical = {"axial": (20 * 0.5, 24 * 0.5), "coronal": (20 * 0.5, 16 * 1.0), "sagittal": (24 * 0.5, 16 * 1.0)}
    for view, (width_mm, height_mm) in physical.items():
        canvas = f'canvas[data-view="{view}"]'
        box = page.locator(canvas).bounding_box()
        assert box["width"] / box["height"] == pytest.approx(width_mm / height_mm, rel=0.01), view
    assert (page.get_attribute('canvas[data-view="coronal"]', "width"),
            page.get_attribute('canvas[data-view="coronal"]', "height")) == ("20", "16")  # one pixel per voxel
    index = int(page.get_attribute('canvas[data-view="coronal"]', "data-frame"))
    act(page, "coronal", lambda: page.select_option("#mpr-tool", "length"))
    page.mouse.click(*point_of(page, "coronal", 2, 3))
    act(page, "coronal", lambda: page.mouse.click(*point_of(page, "coronal", 10, 9)))
    assert page.text_content('#mpr-measurements li[data-number="1"] span') == (
        f"1. length (coronal {index + 1}): {np.hypot(8 * 1.0, 6 * 0.5):.1f} mm")
    act(page, "coronal", lambda: page.select_option("#mpr-tool", "ellipse"))
    page.mouse.click(*point_of(page, "coronal", 4, 6))  # away from the ruler's handles
    act(page, "coronal", lambda: page.mouse.click(*point_of(page, "coronal", 12, 16)))
    rows, columns = np.ogrid[:16, :20]
    inside = ((rows - 8) / 4) ** 2 + ((columns - 11) / 5) ** 2 <= 1  # centre (8, 11), semi-axes 4 rows, 5 columns
    coronal = voxels[::-1, index, :]  # head up: row r is slice 15 - r
    hu = coronal[inside].astype(float) - 1024
    area = np.pi * (4 * 1.0) * (5 * 0.5)  # semi-axes in mm
    assert page.text_content('#mpr-measurements li[data-number="2"] span') == (
        f"2. ellipse (coronal {index + 1}): mean {hu.mean():.1f} HU, SD {hu.std():.1f}, min {hu.min():g}, "
        f"max {hu.max():g}, area {area:.1f} mm² ({inside.sum()} pixels)")
    act(page, "coronal", lambda: page.select_option("#mpr-tool", "crosshair"))


def test_a_scout_in_the_series_is_left_out_and_named(volume_page, tmp_path):
    """Six axial slices and a coronal localizer of another size in one series: the views are the six
    slices (pixels equal to the CPython volume of the axial files alone) and the panel names the scout."""
    page = volume_page
    uid = "1.2.826.0.1.3680043.2.1125.9.4"
    files = phantom_series(ramp()[:6], (3, 1, 1.5), SeriesInstanceUID=uid)
    files.append(("scout.dcm", phantom_series(np.full((1, 10, 14), 7, np.int16), (1, 1.4, 1.4), (1, 0, 0, 0, 0, -1),
                                              SeriesInstanceUID=uid, ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"],
                                              )[0][1]))
    paths = []
    for name, data in files:
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    open_series(page, paths)
    act(page, "sagittal", lambda: page.click("#volume-toggle"))
    assert_views_match(page, reference([p for p in paths if p.name != "scout.dcm"]))
    assert page.get_attribute('canvas[data-view="axial"]', "data-slice-count") == "6"
    assert ("1 image unlike the main stack left out of the volume of 6 slices: scout.dcm (a localizer, "
            "orientation [1, 0, 0, 0, 0, -1])") in page.text_content("#mpr-status")


def test_a_rescale_per_slice_opens_in_modality_values(volume_page, tmp_path):
    """A PET-like series whose slices each have their own Rescale Slope/Intercept: the views equal the
    CPython pipeline's (which applies each slice's rescale to the plane shown), through a click and a
    mean slab."""
    page = volume_page
    stored = ramp()[:8]
    paths = []
    for n in range(8):
        name, data = phantom_series(stored, (3, 1, 1.5), Modality="PT", RescaleSlope=f"{0.25 * (n + 1):g}",
                                    RescaleIntercept=str(-n), SeriesInstanceUID="1.2.826.0.1.3680043.2.1125.9.5")[n]
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    open_series(page, paths)
    act(page, "sagittal", lambda: page.click("#volume-toggle"))
    assert "8 different Rescale Slope/Intercept values, kept per slice" in page.text_content("#mpr-status")
    mpr = reference(paths)
    assert_views_match(page, mpr)
    act(page, "sagittal", lambda: page.mouse.click(*point_of(page, "axial", 6, 9)))
    mpr.click("axial", 6, 9)
    assert_views_match(page, mpr)
    assert page.text_content("#mpr-readout") == mpr.readout()
    page.fill("#mpr-slab-mm", "9")
    act(page, "axial", lambda: page.select_option("#mpr-slab", "mean"))
    mpr.set_slab("mean", 9)
    assert_views_match(page, mpr)
    act(page, "axial", lambda: page.select_option("#mpr-slab", "none"))
