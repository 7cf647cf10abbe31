"""Annotation layer, cine and touch in Chromium: real key, mouse and touch events; texts, attributes, pixels.

The page runs in a touch-enabled context (has_touch) so that touch input reaches it as a phone's would;
multi-touch goes through the DevTools protocol (Input.dispatchTouchEvent), which Playwright's
touchscreen (tap only) cannot do.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from conftest import READY_TIMEOUT_MS, canvas_rgba, render_count, wait_for_render_after
from corpus import corpus_file
from dicomview import viewstate
from dicomview.annotations import Place, layout
from dicomview.decode import read_dataset
from dicomview.pipeline import Window
from dicomview.render import frame_view, render_frame

pytestmark = pytest.mark.browser
ALONE = Place(1, 1, False)  # the only image of its series
CT = "693_UNCI.dcm"  # a real 512x512 CT with one window (C 40 / W 100), Pixel Spacing and orientation


@pytest.fixture(scope="module")
def page(browser, server_url):
    context = browser.new_context(has_touch=True, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(server_url)
    page.wait_for_function("document.documentElement.dataset.runtime !== 'loading'", timeout=READY_TIMEOUT_MS)
    assert page.evaluate("document.documentElement.dataset.runtime") == "ready"
    yield page
    assert page.errors == []
    context.close()


def open_files(page, *names: str) -> None:
    before = render_count(page)
    page.set_input_files("#open-files", [str(corpus_file(name)) for name in names])
    wait_for_render_after(page, before)


def dataset(name: str):
    return read_dataset(corpus_file(name).read_bytes())


def corners(page) -> dict[str, tuple[str, ...]]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#annotations .corner')]
        .map(c => [c.dataset.corner, [...c.children].map(line => line.textContent)]))""")


def markers(page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#annotations .marker')]
        .map(m => [m.dataset.edge, m.textContent]))""")


def viewport_box(page):
    return page.locator("#viewport").bounding_box()


def expected_layout(page, name: str, place: Place, window: Window | None, view: viewstate.View, **options):
    """What dicomview.annotations says the page should show, for the page's viewport and zoom."""
    return expected_layout_of(page, dataset(name), view, place, window, **options)


def expected_layout_of(page, ds, view: viewstate.View, place: Place = ALONE,
                       window: Window | None = None, **options):
    box = viewport_box(page)
    scale = viewstate.display_scale(view, (box["width"], box["height"]), (int(ds.Columns), int(ds.Rows)))
    return layout(ds, place, window, "", scale, box["width"] / 4, flip_horizontal=view.flip_horizontal,
                  flip_vertical=view.flip_vertical, **options)


@pytest.fixture
def ct(page):
    """The CT shown (opened once per page: a second copy would join its series) with everything reset."""
    uid = str(dataset(CT).SOPInstanceUID)
    button = page.locator(f'#image-list button[data-sop-instance-uid="{uid}"]')
    if button.count():
        button.first.click()
        page.wait_for_function(f"document.querySelector('canvas#image').dataset.sopInstanceUid === {uid!r}")
    else:
        open_files(page, CT)
    page.keyboard.press("r")
    page.wait_for_function("document.querySelector('canvas#image').dataset.windowWidth === '100'")
    page.set_checked("#show-annotations", True)
    page.wait_for_function("document.getElementById('stack').dataset.zoom === '1.0000'")
    return page


def test_corner_texts_markers_and_scale_bar_follow_window_zoom_and_flip(ct):
    window = Window(40, 100)
    expected = expected_layout(ct, CT, ALONE, window, viewstate.FIT)
    assert corners(ct) == {corner: list(lines) for corner, lines in expected.corners.items()}
    assert markers(ct) == {"top": "A", "right": "L", "bottom": "P", "left": "R"} == expected.markers
    line = ct.locator("#scale-bar .scale-line").bounding_box()
    assert line["width"] == pytest.approx(expected.scale.pixels, abs=0.5)
    assert ct.text_content("#scale-bar .scale-label") == expected.scale.label

    # a window drag: the bottom-right corner shows the window the canvas publishes
    box = viewport_box(ct)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = render_count(ct)
    ct.mouse.move(x, y)
    ct.mouse.down()
    ct.mouse.move(x + 80, y + 40)
    ct.mouse.up()
    wait_for_render_after(ct, before)
    ct.wait_for_function("""() => {
        const c = document.querySelector('canvas#image').dataset;
        return document.querySelector('[data-corner="bottom-right"]').textContent.startsWith(
            `W ${c.windowWidth} L ${c.windowCenter}`);
    }""")

    # zoom with Ctrl+wheel: the zoom line and the scale bar follow
    ct.keyboard.down("Control")
    ct.mouse.wheel(0, -300)
    ct.keyboard.up("Control")
    ct.wait_for_function("Number(document.getElementById('stack').dataset.zoom) > 1.2")
    zoom = float(ct.get_attribute("#stack", "data-zoom"))
    zoomed = expected_layout(ct, CT, ALONE, window, viewstate.View(zoom=zoom))
    assert corners(ct)["bottom-right"][1] == zoomed.corners["bottom-right"][1]
    assert ct.locator("#scale-bar .scale-line").bounding_box()["width"] == pytest.approx(zoomed.scale.pixels, abs=0.5)
    assert zoomed.scale.pixels != pytest.approx(expected.scale.pixels, abs=1)

    # flips mirror the image and swap the markers
    ct.keyboard.press("h")
    assert markers(ct) == {"top": "A", "right": "R", "bottom": "P", "left": "L"}
    ct.keyboard.press("v")
    assert markers(ct) == {"top": "P", "right": "R", "bottom": "A", "left": "L"}
    assert transform(ct)[0] < 0 and transform(ct)[3] < 0
    ct.keyboard.press("r")
    assert markers(ct) == expected.markers


def test_the_scale_bar_follows_a_resized_viewport(ct):
    ct.set_viewport_size({"width": 760, "height": 600})
    try:
        expected = expected_layout(ct, CT, ALONE, Window(40, 100), viewstate.FIT)
        ct.wait_for_function(f"""Math.abs(document.querySelector('#scale-bar .scale-line').getBoundingClientRect().width
                                 - {expected.scale.pixels}) < 0.5""")
        assert ct.text_content("#scale-bar .scale-label") == expected.scale.label
    finally:
        ct.set_viewport_size({"width": 1280, "height": 800})


def test_an_oblique_radiograph_like_file_shows_letter_pairs_and_a_detector_scale(page, tmp_path):
    from synthetic import image_dataset, write_dicom

    ds = image_dataset(np.arange(64 * 48).reshape(48, 64) % 4096, Modality="DX", ImagerPixelSpacing=[0.2, 0.2],
                       ImageOrientationPatient=[0.8, 0.6, 0, 0, 0.6, -0.8], WindowCenter=2048, WindowWidth=4096,
                       SeriesInstanceUID="1.2.3.4.5.6.7")
    path = tmp_path / "oblique.dcm"
    path.write_bytes(write_dicom(ds))
    before = render_count(page)
    page.set_input_files("#open-files", [str(path)])
    wait_for_render_after(page, before)
    assert markers(page) == {"top": "HA", "right": "LP", "bottom": "FP", "left": "RA"}
    expected = expected_layout_of(page, ds, viewstate.View(zoom=float(page.get_attribute("#stack", "data-zoom"))))
    assert page.text_content("#scale-bar .scale-label") == expected.scale.label
    assert expected.scale.label.endswith("(at detector)")


def test_the_readout_follows_a_flip(ct):
    import pydicom.pixels

    from dicomview.readout import readout

    ds = dataset(CT)
    stored = pydicom.pixels.pixel_array(ds)
    ct.keyboard.press("h")
    box = ct.locator("canvas#image").bounding_box()
    scale = min(box["width"] / 512, box["height"] / 512)
    left = box["x"] + (box["width"] - 512 * scale) / 2
    top = box["y"] + (box["height"] - 512 * scale) / 2
    ct.mouse.move(left + 100.5 * scale, top + 300.5 * scale)  # screen column 100 shows image column 411
    expected = readout(ds, stored, 300, 411).text()
    ct.wait_for_function(f"document.getElementById('readout').textContent === {expected!r}")
    assert "HU" in expected and "stored" in expected and "mm" in expected
    ct.keyboard.press("r")


@pytest.fixture(scope="module")
def stack(page):
    """A real 4-image CT series (pydicom's dicomdirtests), opened once; its images in stack order."""
    from corpus import PYDICOM_FILES
    from dicomview.session import Session

    paths = sorted((PYDICOM_FILES / "dicomdirtests" / "77654033" / "CT2").iterdir())
    session = Session()
    session.open_batch([(path.name, path.read_bytes()) for path in paths])
    before = render_count(page)
    page.set_input_files("#open-files", [str(path) for path in paths])
    wait_for_render_after(page, before)
    return session.images


def show_first(page, images) -> None:
    first = images[0]
    page.locator(f'#image-list button[data-sop-instance-uid="{first.sop_instance_uid}"]').click()
    page.wait_for_function(
        f"document.querySelector('canvas#image').dataset.sopInstanceUid === {first.sop_instance_uid!r}")


def test_the_readout_follows_a_frame_change_under_a_resting_cursor_and_clears_on_leaving(page):
    import pydicom.pixels

    from dicomview.readout import readout

    open_files(page, "emri_small.dcm")
    ds = dataset("emri_small.dcm")
    frames = pydicom.pixels.pixel_array(ds)
    box = page.locator("canvas#image").bounding_box()
    scale = min(box["width"] / 64, box["height"] / 64)
    left, top = box["x"] + (box["width"] - 64 * scale) / 2, box["y"] + (box["height"] - 64 * scale) / 2
    page.mouse.move(left + 30.5 * scale, top + 20.5 * scale)
    first = readout(frame_view(ds, 0), frames[0], 20, 30).text()
    page.wait_for_function(f"document.getElementById('readout').textContent === {first!r}")
    page.keyboard.press("ArrowDown")  # the mouse does not move
    second = readout(frame_view(ds, 1), frames[1], 20, 30).text()
    assert second != first
    page.wait_for_function(f"document.getElementById('readout').textContent === {second!r}")
    page.mouse.move(box["x"] + box["width"] + 200, top)  # out of the view, over the side panel
    page.wait_for_function("document.getElementById('readout').textContent === ''")


def test_slice_n_of_n_follows_the_stack_and_t_toggles_the_text(page, stack):
    session = type("Opened", (), {"images": stack})
    count = len(stack)
    assert count > 1
    show_first(page, stack)
    assert f"Im 1/{count}" in corners(page)["bottom-left"]
    page.keyboard.press("ArrowDown")
    page.wait_for_function(
        f"document.querySelector('[data-corner=\"bottom-left\"]').textContent.includes('Im 2/{count}')")
    second = session.images[1].dataset
    expected = layout(second, Place(2, count, False), None, "", 1.0, 100).corners["bottom-left"]
    assert corners(page)["bottom-left"] == list(expected)
    page.keyboard.press("t")
    assert not page.is_visible("#annotations") and not page.is_checked("#show-annotations")
    page.keyboard.press("t")
    assert page.is_visible("#annotations") and page.is_checked("#show-annotations")


def test_the_tag_table_follows_the_slice_shown_once_scrolling_stops(page, stack):
    """The table is rebuilt once the image has stayed put (web/tag_browser.py SETTLE_S), not for every
    slice scrolled past; it must still end on the slice shown, with the search applied."""
    page.fill("#tag-search", "sopinstanceuid")
    show_first(page, stack)  # the keys below go to the view, not to the search box
    page.settle_inputs = False  # keys as fast as they come: the table may settle only at the end
    try:
        for _ in range(len(stack) - 1):
            page.keyboard.press("ArrowDown")
    finally:
        page.settle_inputs = True
    last = stack[-1]
    page.wait_for_function(
        f"document.querySelector('canvas#image').dataset.sopInstanceUid === {last.sop_instance_uid!r}")
    page.wait_for_function("dicomviewBridge.idle")
    from dicomview import tags

    rows = page.eval_on_selector_all("#tags tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))")
    expected = tags.search(tags.tag_rows(last.dataset), "sopinstanceuid")  # the meta's and the dataset's
    assert [row[:4] for row in rows] == [[row.tag, row.keyword, row.vr, row.value] for row in expected]
    assert {row[3] for row in rows} == {last.sop_instance_uid}
    page.fill("#tag-search", "")


def export(page, tmp_path) -> np.ndarray:
    from PIL import Image

    with page.expect_download() as download:
        page.click("#export-png")
    path = tmp_path / "export.png"
    download.value.save_as(path)
    return np.asarray(Image.open(io.BytesIO(path.read_bytes())).convert("RGBA"))


def test_export_with_annotations_carries_the_text_and_without_is_the_image(page, tmp_path):
    open_files(page, "CT_small.dcm")  # 128x128: the text is large on it, and the centre stays clear
    image = canvas_rgba(page)
    page.set_checked("#export-annotations", False)
    assert np.array_equal(export(page, tmp_path), image)
    page.set_checked("#export-annotations", True)
    annotated = export(page, tmp_path)
    assert annotated.shape == image.shape
    changed = np.any(annotated != image, axis=-1)
    rows, columns = image.shape[:2]
    # text in the four corners (patient, study, series, window), the centre untouched
    for corner in (changed[: rows // 4, : columns // 3], changed[: rows // 4, -columns // 3:],
                   changed[-rows // 4:, : columns // 3], changed[-rows // 4:, -columns // 3:]):
        assert corner.any()
    assert not changed[rows // 3: 2 * rows // 3, columns // 3: 2 * columns // 3].any()
    page.set_checked("#show-annotations", False)  # a hidden layer is not exported
    assert np.array_equal(export(page, tmp_path), image)
    page.set_checked("#show-annotations", True)


def frame(page) -> int:
    return int(page.get_attribute("canvas#image", "data-frame"))


def test_space_plays_a_multiframe_file_at_its_rate_and_stops(page):
    open_files(page, "examples_ybr_color.dcm")  # 30 frames, Frame Time 33.333 ms
    assert page.input_value("#cine-fps") == f"{round(1000 / 33.333, 2):g}" == "30"
    assert page.text_content("#cine-source") == "from FrameTime"
    assert page.is_visible("#cine-play") and frame(page) == 0
    page.locator("canvas#image").click()  # focus on the page, not a control
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('cine-play').getAttribute('aria-pressed') === 'true'")
    page.wait_for_function("Number(document.querySelector('canvas#image').dataset.frame) >= 3")
    page.keyboard.press(" ")
    assert page.get_attribute("#cine-play", "aria-pressed") == "false"
    stopped, count = frame(page), render_count(page)
    page.wait_for_timeout(500)  # 15 frames' time at 30 fps: a running player would have moved on
    assert (frame(page), render_count(page)) == (stopped, count)


def test_the_play_button_and_the_rate_field_drive_emri_small(page):
    open_files(page, "emri_small.dcm")  # 10 frames, no timing: the default rate
    assert page.input_value("#cine-fps") == "10" and page.text_content("#cine-source") == ""
    page.fill("#cine-fps", "500")
    page.press("#cine-fps", "Enter")
    assert page.input_value("#cine-fps") == "120"  # clamped to what a screen can show
    before = render_count(page)
    page.click("#cine-play")
    # frames only move forward while playing: more renders than frames means it looped
    page.wait_for_function(f"Number(document.querySelector('canvas#image').dataset.renderCount) > {before + 12}")
    page.keyboard.press(" ")  # the focused button takes Space itself: once, not twice
    page.wait_for_function("document.getElementById('cine-play').getAttribute('aria-pressed') === 'false'")
    stopped = frame(page)
    assert corners(page)["bottom-left"][-1] == f"Fr {stopped + 1}/10"
    assert np.array_equal(canvas_rgba(page), render_frame(dataset("emri_small.dcm"), stopped).rgba)


def test_a_frame_time_vector_plays_through_every_frame(page, tmp_path):
    from synthetic import image_dataset, write_dicom

    frames = np.arange(4 * 8 * 8).reshape(4, 8, 8) * 50
    ds = image_dataset(frames.reshape(32, 8), Rows=8, NumberOfFrames=4, FrameTimeVector=[0, 150, 300, 150],
                       FrameIncrementPointer=0x00181065, SeriesInstanceUID="1.2.3.4.5.6.8")
    path = tmp_path / "vector.dcm"
    path.write_bytes(write_dicom(ds))
    before = render_count(page)
    page.set_input_files("#open-files", [str(path)])
    wait_for_render_after(page, before)
    assert page.text_content("#cine-source") == "from FrameTimeVector"
    assert page.input_value("#cine-fps") == "5"
    page.locator("canvas#image").click()
    page.keyboard.press(" ")
    for n in (1, 2, 3, 0):
        page.wait_for_function(f"document.querySelector('canvas#image').dataset.frame === '{n}'")
    page.keyboard.press(" ")
    assert page.get_attribute("#cine-play", "aria-pressed") == "false"


def test_space_plays_a_stack_through_its_series(page, stack):
    show_first(page, stack)
    uids = [image.sop_instance_uid for image in stack]
    page.locator("canvas#image").click()
    page.keyboard.press(" ")
    page.wait_for_function(f"document.querySelector('canvas#image').dataset.sopInstanceUid === {uids[2]!r}")
    page.keyboard.press(" ")
    assert page.get_attribute("canvas#image", "data-sop-instance-uid") in uids  # never leaves the series


def test_a_slow_screen_skips_frames_and_never_queues_renders(page):
    """At 120 fps on a 60 Hz screen, frames are due faster than animation frames come: each
    animation frame renders at most once, whatever is due."""
    open_files(page, "emri_small.dcm")
    page.fill("#cine-fps", "120")
    page.press("#cine-fps", "Tab")
    page.evaluate("""() => { window.ticks = 0; const count = () => { window.ticks++; requestAnimationFrame(count); };
                             requestAnimationFrame(count); }""")
    before, ticks = render_count(page), page.evaluate("window.ticks")
    page.click("#cine-play")
    page.wait_for_function(f"Number(document.querySelector('canvas#image').dataset.renderCount) > {before + 30}")
    page.click("#cine-play")
    renders, ticked = render_count(page) - before, page.evaluate("window.ticks") - ticks
    assert renders <= ticked + 1


def touch(cdp, kind: str, *points) -> None:
    cdp.send("Input.dispatchTouchEvent", {
        "type": kind, "touchPoints": [{"x": x, "y": y, "id": n} for n, (x, y) in enumerate(points)]})


def test_one_finger_windows_like_the_left_button(ct):
    cdp = ct.context.new_cdp_session(ct)
    ds = dataset(CT)
    low, high = render_frame(ds).value_range
    start = Window(40, 100)
    box = viewport_box(ct)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    touch(cdp, "touchStart", (x, y))
    touch(cdp, "touchMove", (x + 30, y - 10))
    touch(cdp, "touchMove", (x + 60, y - 20))
    touch(cdp, "touchEnd")
    expected = viewstate.drag_window(start, 60, -20, high - low)
    ct.wait_for_function(
        f"document.querySelector('canvas#image').dataset.windowWidth === '{expected.width:g}'")
    assert ct.get_attribute("canvas#image", "data-window-center") == f"{expected.center:g}"
    assert ct.get_attribute("#stack", "data-zoom") == "1.0000"


def transform(page) -> list[float]:
    """The stack's computed transform as matrix(a, b, c, d, e, f) numbers."""
    text = page.evaluate("getComputedStyle(document.getElementById('stack')).transform")
    return [float(number) for number in re.findall(r"-?[\d.]+(?:e-?\d+)?", text)]


def matrix(view: viewstate.View) -> list[float]:
    return [view.zoom * (-1 if view.flip_horizontal else 1), 0, 0, view.zoom * (-1 if view.flip_vertical else 1),
            view.pan_x, view.pan_y]


def test_pinch_zooms_about_the_fingers_and_two_fingers_pan(ct):
    cdp = ct.context.new_cdp_session(ct)
    window = [ct.get_attribute("canvas#image", f"data-window-{part}") for part in ("center", "width")]
    box = viewport_box(ct)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    a, b = (cx - 100, cy + 40), (cx + 20, cy + 40)  # 120 px apart, 40 px from the middle
    touch(cdp, "touchStart", a, b)
    touch(cdp, "touchMove", (a[0] - 40, a[1] + 10), (b[0] + 40, b[1] + 10))
    touch(cdp, "touchMove", (a[0] - 60, a[1] + 20), (b[0] + 60, b[1] + 20))  # 240 px apart, moved 20 down
    touch(cdp, "touchEnd")
    relative = lambda p: (p[0] - cx, p[1] - cy)  # noqa: E731
    expected = viewstate.pinch(viewstate.FIT, (relative(a), relative(b)),
                               (relative((a[0] - 60, a[1] + 20)), relative((b[0] + 60, b[1] + 20))))
    assert expected.zoom == pytest.approx(2.0)
    ct.wait_for_function(f"document.getElementById('stack').dataset.zoom === '{expected.zoom:.4f}'")
    assert transform(ct) == pytest.approx(matrix(expected), abs=0.01)
    # two fingers moving together: pan only
    touch(cdp, "touchStart", (cx, cy), (cx, cy + 100))
    touch(cdp, "touchMove", (cx - 50, cy + 30), (cx - 50, cy + 130))
    touch(cdp, "touchEnd")
    panned = viewstate.drag_pan(expected, -50, 30)
    ct.wait_for_function(
        f"getComputedStyle(document.getElementById('stack')).transform.endsWith(', {panned.pan_y:g})')")
    assert transform(ct) == pytest.approx(matrix(panned), abs=0.01)
    assert ct.get_attribute("#stack", "data-zoom") == f"{expected.zoom:.4f}"
    assert [ct.get_attribute("canvas#image", f"data-window-{part}") for part in ("center", "width")] == window
    assert re.search(r"Zoom \d+%", corners(ct)["bottom-right"][1])
    ct.touchscreen.tap(cx, cy)  # a double tap fits, like a double click
    ct.touchscreen.tap(cx, cy)
    ct.wait_for_function("document.getElementById('stack').dataset.zoom === '1.0000'")
    assert transform(ct) == pytest.approx(matrix(viewstate.FIT), abs=0.01)


def test_the_help_lists_the_new_shortcuts(page):
    page.keyboard.press("?")
    text = page.text_content("#help")
    for shortcut in ("Space", "H, V", "T", "Two fingers"):
        assert shortcut in text
    page.keyboard.press("Escape")
