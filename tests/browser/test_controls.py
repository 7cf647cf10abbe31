"""The window menu and the frame slider in Chromium: real input events, contract attributes, pixels."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import canvas_rgba, render_count, wait_for_render_after
from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.render import render_frame

pytestmark = pytest.mark.browser


def open_one(page, name: str) -> None:
    before = render_count(page)
    page.set_input_files("#open-files", [str(corpus_file(name))])
    wait_for_render_after(page, before)


def dataset(name: str):
    return read_dataset(corpus_file(name).read_bytes())


def test_the_window_menu_offers_the_files_windows_and_applies_the_choice(viewer):
    open_one(viewer, "MR-SIEMENS-DICOM-WithOverlays.dcm")
    options = viewer.eval_on_selector_all("#window-preset option", "os => os.map(o => [o.value, o.textContent])")
    assert options == [["window:0", "WINDOW1 (C 450 / W 790)"], ["window:1", "WINDOW2 (C 200 / W 443)"],
                       ["auto", "Auto (1st–99th percentile)"], ["min-max", "Min–max of the frame"]]
    assert viewer.input_value("#window-preset") == "window:0"
    for key, center, width in (("window:1", "200", "443"), ("min-max", None, None), ("window:0", "450", "790")):
        before = render_count(viewer)
        viewer.select_option("#window-preset", key)
        wait_for_render_after(viewer, before)
        expected = render_frame(dataset("MR-SIEMENS-DICOM-WithOverlays.dcm"), 0, key)
        assert np.array_equal(canvas_rgba(viewer), expected.rgba)
        canvas = viewer.locator("canvas#image")
        assert canvas.get_attribute("data-window-center") == (center or f"{expected.window.center:g}")
        assert canvas.get_attribute("data-window-width") == (width or f"{expected.window.width:g}")
        assert viewer.input_value("#window-preset") == key


def test_a_voi_lut_file_shows_no_window_values(viewer):
    open_one(viewer, "vlut_04.dcm")
    assert viewer.input_value("#window-preset") == "voi-lut:0"
    canvas = viewer.locator("canvas#image")
    assert canvas.get_attribute("data-window-center") == "" and canvas.get_attribute("data-window-width") == ""
    assert np.array_equal(canvas_rgba(viewer), render_frame(dataset("vlut_04.dcm")).rgba)


def test_the_frame_slider_addresses_any_frame(viewer):
    open_one(viewer, "emri_small.dcm")
    assert viewer.is_visible("#frame")
    assert viewer.get_attribute("#frame", "max") == "9"
    for frame in (5, 9, 0):
        before = render_count(viewer)
        viewer.eval_on_selector(
            "#frame", "(slider, value) => { slider.value = value; slider.dispatchEvent(new Event('input')); }",
            str(frame))
        wait_for_render_after(viewer, before)
        assert viewer.get_attribute("canvas#image", "data-frame") == str(frame)
        assert viewer.text_content("#frame-label") == f"{frame + 1} / 10"
        assert np.array_equal(canvas_rgba(viewer), render_frame(dataset("emri_small.dcm"), frame).rgba)


def test_single_frame_images_hide_the_slider_and_colour_disables_the_menu(viewer):
    open_one(viewer, "US1_UNCR.dcm")
    assert not viewer.is_visible("#frame")
    assert viewer.is_disabled("#window-preset")
    open_one(viewer, "MR_small.dcm")
    assert viewer.is_enabled("#window-preset")


def test_overlays_are_drawn_in_their_own_layer_and_toggle(viewer):
    from dicomview.overlays import frame_overlays, overlays_to_rgba

    name = "MR-SIEMENS-DICOM-WithOverlays.dcm"
    open_one(viewer, name)
    ds = dataset(name)
    assert np.array_equal(canvas_rgba(viewer), render_frame(ds).rgba)  # the image stays the pipeline's
    expected = overlays_to_rgba(frame_overlays(ds), (int(ds.Rows), int(ds.Columns)))
    assert np.array_equal(canvas_rgba(viewer, "canvas#overlay"), expected)
    assert viewer.is_visible("canvas#overlay") and viewer.is_checked("#show-overlays")
    viewer.uncheck("#show-overlays")
    assert not viewer.is_visible("canvas#overlay")
    viewer.check("#show-overlays")
    assert viewer.is_visible("canvas#overlay")
    box = viewer.locator("canvas#image").bounding_box()
    assert viewer.locator("canvas#overlay").bounding_box() == box  # the layer lies exactly on the image


def test_images_without_overlays_clear_the_layer(viewer):
    open_one(viewer, "MR_small.dcm")
    assert not viewer.is_visible("#show-overlays")
    assert (canvas_rgba(viewer, "canvas#overlay")[..., 3] == 0).all()


def test_the_tag_browser_searches_and_shows_values_as_text(viewer, tmp_path):
    import pydicom

    ds = pydicom.dcmread(corpus_file("MR_small.dcm"))
    ds.StudyDescription = "<img src=x onerror=alert(1)>"
    path = tmp_path / "tagged.dcm"
    ds.save_as(path)
    before = render_count(viewer)
    viewer.set_input_files("#open-files", [str(path)])
    wait_for_render_after(viewer, before)
    assert viewer.locator("#tags tbody tr").count() > 50
    viewer.fill("#tag-search", "0010,0020")
    rows = viewer.eval_on_selector_all("#tags tbody tr", "rs => rs.map(r => r.innerText)")
    assert len(rows) == 1 and "PatientID" in rows[0] and "4MR1" in rows[0]
    viewer.fill("#tag-search", "studydescription")
    assert "<img src=x onerror=alert(1)>" in viewer.text_content("#tags tbody")
    assert viewer.locator("#tags img").count() == 0
    viewer.fill("#tag-search", "")


def test_a_long_answer_from_the_page_reaches_python_whole(viewer):
    """host.py reads page values through shared memory of 64 KiB at first; a longer answer (a 200 KB
    search text whose meaning is at its end) must arrive whole, through the larger buffer it then makes."""
    open_one(viewer, "MR_small.dcm")
    viewer.fill("#tag-search", " " * 200_000 + "0010,0020")
    rows = viewer.eval_on_selector_all("#tags tbody tr", "rs => rs.map(r => r.innerText)")
    assert len(rows) == 1 and "PatientID" in rows[0]
    viewer.fill("#tag-search", "")
    assert viewer.locator("#tags tbody tr").count() > 50


@pytest.mark.parametrize("annotations", [True, False])
def test_export_png_is_the_image_with_or_without_the_overlay(viewer, tmp_path, annotations):
    import io

    from PIL import Image

    open_one(viewer, "MR-SIEMENS-DICOM-WithOverlays.dcm")
    viewer.set_checked("#show-annotations", False)  # the text layer: tests/browser/test_viewing_aids.py
    viewer.set_checked("#export-annotations", annotations)
    with viewer.expect_download() as download:
        viewer.click("#export-png")
    assert download.value.suggested_filename == "MR-SIEMENS-DICOM-WithOverlays.png"
    path = tmp_path / "export.png"
    download.value.save_as(path)
    exported = np.asarray(Image.open(io.BytesIO(path.read_bytes())).convert("RGBA"))
    image, overlay = canvas_rgba(viewer), canvas_rgba(viewer, "canvas#overlay")
    expected = np.where(overlay[..., 3:] == 255, overlay, image) if annotations else image
    assert exported.shape == image.shape
    assert np.array_equal(exported, expected)
    assert annotations == (not np.array_equal(exported, image))
    viewer.set_checked("#show-annotations", True)
