"""Mouse, wheel and keys on the page in Chromium: real input events, contract attributes, pixels."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import canvas_rgba, render_count, wait_for_render_after
from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.pipeline import Window
from dicomview.render import render_frame
from dicomview.viewstate import drag_window

pytestmark = pytest.mark.browser


@pytest.fixture
def ct(viewer):
    """The 512x512 CT (window 40/100) shown, with the view and window reset."""
    before = render_count(viewer)
    viewer.set_input_files("#open-files", [str(corpus_file("693_UNCI.dcm"))])
    wait_for_render_after(viewer, before)
    viewer.keyboard.press("r")
    viewer.wait_for_function("document.querySelector('canvas#image').dataset.windowWidth === '100'")
    return viewer


def centre(page):
    box = page.locator("#viewport").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page, dx, dy, button="left", modifiers=()):
    x, y = centre(page)
    for key in modifiers:
        page.keyboard.down(key)
    page.mouse.move(x, y)
    page.mouse.down(button=button)
    page.mouse.move(x + dx / 2, y + dy / 2)
    page.mouse.move(x + dx, y + dy)
    page.mouse.up(button=button)
    for key in modifiers:
        page.keyboard.up(key)


def test_left_drag_windows_like_the_cpython_formula(ct):
    ds = read_dataset(corpus_file("693_UNCI.dcm").read_bytes())
    low, high = render_frame(ds).value_range
    drag(ct, 120, -60)
    expected_window = drag_window(Window(40, 100), 120, -60, high - low)
    ct.wait_for_function(
        f"document.querySelector('canvas#image').dataset.windowWidth === '{expected_window.width:g}'")
    canvas = ct.locator("canvas#image")
    assert canvas.get_attribute("data-window-center") == f"{expected_window.center:g}"
    assert np.array_equal(canvas_rgba(ct), render_frame(ds, 0, window=expected_window).rgba)
    assert ct.input_value("#window-preset") == "custom"
    ct.select_option("#window-preset", "window:0")  # a preset replaces the dragged window
    ct.wait_for_function("document.querySelector('canvas#image').dataset.windowWidth === '100'")


def test_ctrl_wheel_and_right_drag_zoom_middle_and_shift_drag_pan_double_click_fits(ct):
    zoom = lambda: float(ct.get_attribute("#stack", "data-zoom"))  # noqa: E731
    x, y = centre(ct)
    ct.mouse.move(x, y)
    ct.keyboard.down("Control")
    ct.mouse.wheel(0, -300)
    ct.keyboard.up("Control")
    ct.wait_for_function("Number(document.getElementById('stack').dataset.zoom) > 1.2")
    zoomed = zoom()
    drag(ct, 0, 40, button="right")
    assert zoom() < zoomed
    for button, modifiers, (dx, dy) in (("middle", (), (30, 20)), ("left", ("Shift",), (-10, 5))):
        before = ct.locator("canvas#image").bounding_box()
        drag(ct, dx, dy, button=button, modifiers=modifiers)
        after = ct.locator("canvas#image").bounding_box()  # the image follows the pointer
        assert (after["x"] - before["x"], after["y"] - before["y"]) == pytest.approx((dx, dy), abs=0.5)
    assert ct.get_attribute("canvas#image", "data-window-width") == "100"  # panning never windows
    ct.mouse.dblclick(x, y)
    assert zoom() == 1.0
    ct.keyboard.press("1")
    box = ct.locator("#viewport").bounding_box()
    assert zoom() == pytest.approx(1 / min(box["width"] / 512, box["height"] / 512), abs=1e-4)
    shown = ct.locator("canvas#image").bounding_box()  # contain-fitted: the 512x512 image is 512 CSS px
    assert min(shown["width"], shown["height"]) == pytest.approx(512, abs=0.5)
    ct.keyboard.press("f")
    assert zoom() == 1.0


def test_i_inverts_and_r_resets(ct):
    plain = canvas_rgba(ct)
    before = render_count(ct)
    ct.keyboard.press("i")
    wait_for_render_after(ct, before)
    inverted = canvas_rgba(ct)
    assert np.array_equal(inverted[..., :3], 255 - plain[..., :3])
    before = render_count(ct)
    ct.keyboard.press("r")
    wait_for_render_after(ct, before)
    assert np.array_equal(canvas_rgba(ct), plain)


def test_wheel_and_keys_step_through_frames_then_images(viewer):
    before = render_count(viewer)
    viewer.set_input_files("#open-files", [str(corpus_file("emri_small.dcm"))])
    wait_for_render_after(viewer, before)
    frame = lambda: viewer.get_attribute("canvas#image", "data-frame")  # noqa: E731
    x, y = centre(viewer)
    viewer.mouse.move(x, y)
    viewer.mouse.wheel(0, 100)
    viewer.wait_for_function("document.querySelector('canvas#image').dataset.frame === '1'")
    viewer.keyboard.press("PageDown")
    viewer.wait_for_function("document.querySelector('canvas#image').dataset.frame === '2'")
    viewer.keyboard.press("ArrowUp")
    viewer.wait_for_function("document.querySelector('canvas#image').dataset.frame === '1'")
    expected = render_frame(read_dataset(corpus_file("emri_small.dcm").read_bytes()), 1).rgba
    assert frame() == "1" and np.array_equal(canvas_rgba(viewer), expected)


def test_question_mark_opens_the_help_and_escape_closes_it(viewer):
    assert not viewer.is_visible("#help")
    viewer.keyboard.press("?")
    assert viewer.is_visible("#help")
    assert "Window" in viewer.text_content("#help")
    viewer.keyboard.press("Escape")
    assert not viewer.is_visible("#help")
    viewer.keyboard.press("?")
    viewer.click("#help-close")
    assert not viewer.is_visible("#help")


def test_the_readout_shows_hu_and_position_under_the_cursor(ct):
    import pydicom.pixels

    from dicomview.readout import readout

    ds = read_dataset(corpus_file("693_UNCI.dcm").read_bytes())
    stored = pydicom.pixels.pixel_array(ds)
    box = ct.locator("canvas#image").bounding_box()
    scale = min(box["width"] / 512, box["height"] / 512)
    left = box["x"] + (box["width"] - 512 * scale) / 2
    top = box["y"] + (box["height"] - 512 * scale) / 2
    row, column = 300, 200
    ct.mouse.move(left + (column + 0.5) * scale, top + (row + 0.5) * scale)
    expected = readout(ds, stored, row, column).text()
    ct.wait_for_function(f"document.getElementById('readout').textContent === {expected!r}")
    assert "HU" in expected and "mm" in expected


def test_series_are_listed_as_stacks_and_the_wheel_stays_in_its_series(viewer):
    import random

    from corpus import PYDICOM_FILES
    from dicomview.session import Session

    paths = sorted((PYDICOM_FILES / "dicomdirtests" / "98892003" / "MR2").iterdir())
    random.Random(2).shuffle(paths)
    session = Session()
    session.open_batch([(path.name, path.read_bytes()) for path in paths])
    before = render_count(viewer)
    viewer.set_input_files("#open-files", [str(path) for path in paths])
    wait_for_render_after(viewer, before)
    labels = viewer.eval_on_selector_all("#image-list button", "bs => bs.map(b => b.textContent.split(' · ')[0])")
    ordered = [image.file_name for image in session.images]
    assert labels[-len(ordered):] == ordered  # earlier tests' images stay above
    last_of_first_series = max(n for n, image in enumerate(session.images) if image.series == session.images[0].series)
    before = render_count(viewer)
    viewer.locator("#image-list button", has_text=ordered[last_of_first_series]).click()
    wait_for_render_after(viewer, before)
    x, y = centre(viewer)
    viewer.mouse.move(x, y)
    viewer.mouse.wheel(0, 100)  # past the end of the series: stays
    before = render_count(viewer)
    viewer.keyboard.press("i")  # a render queued behind the wheel: once it is drawn, the wheel was handled
    wait_for_render_after(viewer, before)
    viewer.keyboard.press("i")
    uid = session.images[last_of_first_series].sop_instance_uid
    assert viewer.get_attribute("canvas#image", "data-sop-instance-uid") == uid
    viewer.mouse.wheel(0, -100)
    viewer.wait_for_function(f"document.querySelector('canvas#image').dataset.sopInstanceUid !== {uid!r}")
    assert viewer.locator("#image-list .series-header").count() >= 3
