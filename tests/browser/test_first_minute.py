"""Issue 4's "done when" in Chromium: a new user opens a folder with several series, finds one, scrolls,
windows (presets and mouse), zooms, pans, reads HU under the cursor, searches and copies tags, exports a
PNG and opens the `?` help; and the page's promises around it: every key the page handles is in the help,
every control has an accessible name, and the layout holds on a tablet.

Expected values come from pydicom/numpy under CPython (stack order from Image Position/Orientation,
HU from Rescale Slope/Intercept, pixels from the CPython pipeline), never from the page's own output.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pydicom
import pytest
from PIL import Image

from conftest import canvas_rgba, open_viewer, render_count, wait_for_render_after
from corpus import PYDICOM_FILES, corpus_file
from dicomview import tags
from dicomview.decode import read_dataset
from dicomview.pipeline import Window
from dicomview.readout import readout
from dicomview.render import render_frame
from dicomview.viewstate import drag_window

pytestmark = pytest.mark.browser

CT_SERIES = PYDICOM_FILES / "dicomdirtests" / "77654033" / "CT2"  # 4 CT slices, "Routine Brain"
MR_SERIES = PYDICOM_FILES / "dicomdirtests" / "98892003" / "MR2"  # 7 MR slices
VOLUME_SERIES = PYDICOM_FILES / "dicomdirtests" / "98892001" / "CT5N"  # 5 CT slices without gaps
MULTIFRAME = "emri_small.dcm"  # 10 frames
NESTED = "693_UNCI.dcm"  # a CT with Source Image Sequence items
OPEN_DONE = "/image\\(s\\) open/.test(document.getElementById('status-text').textContent)"
SHOWN_UID = "document.querySelector('canvas#image').dataset.sopInstanceUid"


@pytest.fixture(scope="module")
def exam(tmp_path_factory) -> Path:
    """A folder as a CD or a PACS export gives it: several studies and series in sub-folders."""
    root = tmp_path_factory.mktemp("exam") / "exam"
    shutil.copytree(CT_SERIES, root / "ct")
    shutil.copytree(MR_SERIES, root / "mr")
    shutil.copytree(VOLUME_SERIES, root / "ct5")
    (root / "cine").mkdir()
    shutil.copy(corpus_file(MULTIFRAME), root / "cine" / MULTIFRAME)
    shutil.copy(corpus_file(NESTED), root / "cine" / NESTED)
    return root


def new_page(browser, server_url, **options):
    """A page in a context of its own (size, touch, clipboard permissions), ready; close its context."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"], **options)
    return open_viewer(SimpleNamespace(new_page=lambda **_: context.new_page()), server_url)


def open_folder(page, folder: Path) -> None:
    page.set_input_files("#open-folder", str(folder))
    page.wait_for_function(OPEN_DONE, timeout=120_000)


@pytest.fixture(scope="module")
def page(browser, server_url, exam):
    """One laptop-sized page with the exam folder opened through Open folder… (webkitdirectory)."""
    page = new_page(browser, server_url, viewport={"width": 1280, "height": 800})
    open_folder(page, exam)
    yield page
    assert page.errors == []
    page.context.close()


def stack_order(folder: Path) -> list[pydicom.Dataset]:
    """The slices along the normal of Image Orientation (Patient), then by Instance Number (PS3.3 C.7.6.2)."""
    slices = [pydicom.dcmread(path) for path in folder.iterdir()]
    row, column = np.array(slices[0].ImageOrientationPatient, float).reshape(2, 3)
    normal = np.cross(row, column)
    return sorted(slices, key=lambda ds: (float(np.dot(normal, np.array(ds.ImagePositionPatient, float))),
                                          int(ds.InstanceNumber)))


def centre(page) -> tuple[float, float]:
    box = page.locator("#viewport").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def attribute(page, name: str) -> str:
    return page.get_attribute("canvas#image", name)


def choose_series(page, title: str) -> None:
    button = page.locator("#series-list button.series", has_text=title)
    button.click()
    page.wait_for_function("b => b.getAttribute('aria-current') === 'true'", arg=button.element_handle())


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def test_a_new_user_opens_a_folder_finds_a_series_windows_zooms_reads_hu_and_exports(page, exam, tmp_path):
    # find the series: one entry per series with its count, and a thumbnail
    series_uids = {str(pydicom.dcmread(path).SeriesInstanceUID) for path in exam.rglob("*") if path.is_file()}
    assert page.locator("#series-list button.series").count() == len(series_uids) >= 4
    ct = page.locator("#series-list button.series", has_text="Routine Brain")
    assert ct.locator(".series-counts").text_content() == "4 images"
    page.wait_for_function("b => b.querySelector('canvas').dataset.sopInstanceUid", arg=ct.element_handle())
    choose_series(page, "Routine Brain")
    stack = stack_order(CT_SERIES)
    uids = [str(ds.SOPInstanceUID) for ds in stack]
    assert attribute(page, "data-sop-instance-uid") == uids[0]

    # scroll the stack: the wheel and PageDown/PageUp go along the slice normal
    page.mouse.move(*centre(page))
    page.mouse.wheel(0, 100)
    page.wait_for_function(f"{SHOWN_UID} === {uids[1]!r}")
    page.keyboard.press("PageDown")
    page.wait_for_function(f"{SHOWN_UID} === {uids[2]!r}")
    page.keyboard.press("PageUp")
    page.wait_for_function(f"{SHOWN_UID} === {uids[1]!r}")
    path = Path(stack[1].filename)
    ds = read_dataset(path.read_bytes())
    assert np.array_equal(canvas_rgba(page), render_frame(ds).rgba)

    # a CT preset from the window menu
    before = render_count(page)
    page.select_option("#window-preset", label="CT brain (C 40 / W 80)")
    wait_for_render_after(page, before)
    assert (attribute(page, "data-window-center"), attribute(page, "data-window-width")) == ("40", "80")
    assert np.array_equal(canvas_rgba(page), render_frame(ds, 0, "preset:brain").rgba)

    # left-drag windows: right widens, up raises the level
    low, high = render_frame(ds).value_range
    expected = drag_window(Window(40, 80), 60, -30, high - low)
    x, y = centre(page)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y - 15)
    page.mouse.move(x + 60, y - 30)
    page.mouse.up()
    page.wait_for_function(
        f"document.querySelector('canvas#image').dataset.windowWidth === '{expected.width:g}'")
    assert attribute(page, "data-window-center") == f"{expected.center:g}"
    assert np.array_equal(canvas_rgba(page), render_frame(ds, 0, window=expected).rgba)

    # Ctrl+wheel zooms, Shift+drag pans
    page.keyboard.down("Control")
    page.mouse.wheel(0, -400)
    page.keyboard.up("Control")
    page.wait_for_function("Number(document.getElementById('stack').dataset.zoom) > 1.3")
    box_before = page.locator("canvas#image").bounding_box()
    page.keyboard.down("Shift")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 40, y + 20)
    page.mouse.up()
    page.keyboard.up("Shift")
    box = page.locator("canvas#image").bounding_box()
    assert (box["x"] - box_before["x"], box["y"] - box_before["y"]) == pytest.approx((-40, 20), abs=0.5)
    assert attribute(page, "data-window-width") == f"{expected.width:g}"  # panning never windows

    # HU under the cursor, where the browser lays the zoomed and panned pixel out
    scale = min(box["width"] / ds.Columns, box["height"] / ds.Rows)
    left = box["x"] + (box["width"] - ds.Columns * scale) / 2
    top = box["y"] + (box["height"] - ds.Rows * scale) / 2
    stored = pydicom.dcmread(path).pixel_array
    row, column = 9, 6
    page.mouse.move(left + (column + 0.5) * scale, top + (row + 0.5) * scale)
    hu = float(stored[row, column]) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    text = readout(ds, stored, row, column).text()
    page.wait_for_function(f"document.getElementById('readout').textContent === {text!r}")
    assert f"stored {stored[row, column]}" in text and f"{hu:.0f} HU" in text and text.endswith(" mm")

    # the tags: search by keyword, the value shown as text
    page.fill("#tag-search", "seriesdescription")
    rows = page.eval_on_selector_all("#tags tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))")
    assert [row[:4] for row in rows] == [["(0008,103E)", "SeriesDescription", "LO", str(ds.SeriesDescription)]]
    page.fill("#tag-search", "")

    # export the view as PNG: without annotations it is the canvas, with them the text is drawn on it
    for with_text in (False, True):
        page.set_checked("#export-annotations", with_text)
        with page.expect_download() as download:
            page.click("#export-png")
        path = tmp_path / f"export-{with_text}.png"
        download.value.save_as(path)
        exported = np.asarray(Image.open(io.BytesIO(path.read_bytes())).convert("RGBA"))
        image = canvas_rgba(page)
        assert exported.shape == image.shape
        assert np.array_equal(exported, image) != with_text

    # the multi-frame file: the wheel moves through its frames; Space right after the click on the series plays
    choose_series(page, "Series 301")
    page.mouse.move(*centre(page))
    page.mouse.wheel(0, 100)
    page.wait_for_function("document.querySelector('canvas#image').dataset.frame === '1'")
    assert np.array_equal(canvas_rgba(page), render_frame(read_dataset(corpus_file(MULTIFRAME).read_bytes()), 1).rgba)
    choose_series(page, "Series 301")  # a mouse click leaves the keys to the image, not to the list's button
    frame = attribute(page, "data-frame")
    page.keyboard.press("Space")
    page.wait_for_function(f"document.querySelector('canvas#image').dataset.frame !== {frame!r}")
    assert page.get_attribute("#cine-play", "aria-pressed") == "true"
    page.keyboard.press("Space")
    assert page.get_attribute("#cine-play", "aria-pressed") == "false"

    # and everything above is in the help
    page.keyboard.press("?")
    assert page.is_visible("#help")
    help_text = page.text_content("#help")
    for words in ("Left-drag", "Ctrl + wheel", "Shift + drag", "PageUp", "Space", "Two fingers", "Open folder",
                  "CT presets", "HU", "Search by keyword", "Export PNG"):
        assert words in help_text
    page.keyboard.press("Escape")
    assert not page.is_visible("#help")


def test_tags_of_nested_sequences_are_listed_and_copied(page):
    ds = read_dataset(corpus_file(NESTED).read_bytes())
    before = render_count(page)
    page.locator("#image-list button", has_text=NESTED).click()
    wait_for_render_after(page, before)
    query = "ReferencedSOPInstanceUID"
    page.fill("#tag-search", query)
    expected = tags.search(tags.tag_rows(ds), query)
    rows = page.locator("#tags tbody tr")
    assert rows.count() == len(expected) >= 1
    assert [int(depth) for depth in rows.evaluate_all("rs => rs.map(r => r.dataset.depth)")] == \
        [row.depth for row in expected]
    assert all(row.depth >= 2 for row in expected)  # inside Source Image Sequence's items
    copy = rows.first.get_by_role("button")
    assert copy.get_attribute("aria-label") == f"Copy the value of {query} (0008,1155)"
    copy.click()
    assert clipboard(page) == str(ds.SourceImageSequence[0].ReferencedSOPInstanceUID)
    value = str(ds.SourceImageSequence[0].ReferencedSOPInstanceUID)[-12:]  # found by value as well
    page.fill("#tag-search", value)
    assert query in rows.first.text_content()
    page.fill("#tag-search", "sourceimage")
    page.click("#copy-tags")
    assert clipboard(page) == tags.rows_text(tags.search(tags.tag_rows(ds), "sourceimage"))
    assert "Tags copied" in page.text_content("#status-text")
    page.fill("#tag-search", "")


def test_every_ct_preset_auto_and_min_max_set_their_window(page):
    from dicomview.render import CT_PRESETS

    ds = read_dataset(corpus_file(NESTED).read_bytes())
    page.locator("#image-list button", has_text=NESTED).click()
    page.wait_for_function(f"{SHOWN_UID} === {str(ds.SOPInstanceUID)!r}")
    keys = page.eval_on_selector_all("#window-preset option", "os => os.map(o => o.value)")
    assert keys == ["window:0", *[f"preset:{key}" for key in CT_PRESETS], "auto", "min-max"]
    stored = pydicom.dcmread(corpus_file(NESTED)).pixel_array
    hu = stored * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    expected = {f"preset:{key}": (center, width) for key, (_, center, width) in CT_PRESETS.items()}
    # auto: from the 1st to the 99th percentile of the HU; min-max: lowest to highest. Both as DCMTK's
    # min-max window maps its ends to black and white: centre (low + high + 1) / 2, width high - low + 1
    for key, (low, high) in (("auto", np.percentile(hu, [1, 99])), ("min-max", (hu.min(), hu.max()))):
        expected[key] = ((low + high + 1) / 2, high - low + 1)
    assert expected["min-max"][1] > 1.3 * expected["auto"][1]  # so auto cannot pass as min-max
    for key, (center, width) in expected.items():
        before = render_count(page)
        page.select_option("#window-preset", key)
        wait_for_render_after(page, before)
        shown = float(attribute(page, "data-window-center")), float(attribute(page, "data-window-width"))
        assert shown == pytest.approx((center, width), abs=0.01), key  # as written with :g
        assert np.array_equal(canvas_rgba(page), render_frame(ds, 0, key).rgba), key


def test_a_stack_scrolls_along_the_normal_and_by_instance_number_where_positions_tie(page, tmp_path):
    """Two echoes per position on oblique slices, files named and shuffled against both orders."""
    import random

    from synthetic import image_dataset, write_dicom

    orientation = [1, 0, 0, 0, np.cos(0.3), np.sin(0.3)]
    normal = np.cross(orientation[:3], orientation[3:])
    slices = []
    for n in range(8):
        position, instance = 3 - n // 2, 10 + n  # positions run against the instance numbers; pairs tie
        slices.append(image_dataset(np.full((4, 4), n * 100, np.uint16), StudyInstanceUID="1.2.3.9",
                                    SeriesInstanceUID="1.2.3.9.1", SeriesNumber=9, SeriesDescription="Echo pairs",
                                    Modality="MR", ImageOrientationPatient=[f"{v:.6f}" for v in orientation],
                                    ImagePositionPatient=[f"{v:.4f}" for v in normal * 2.5 * position],
                                    InstanceNumber=instance))
    names = [f"slice{n}.dcm" for n in random.Random(9).sample(range(8), 8)]
    for name, ds in zip(names, slices, strict=True):
        (tmp_path / name).write_bytes(write_dicom(ds))
    expected = [str(ds.SOPInstanceUID) for ds in sorted(slices, key=lambda ds: (
        float(np.dot(normal, np.array(ds.ImagePositionPatient, float))), int(ds.InstanceNumber)))]
    assert expected != [str(ds.SOPInstanceUID) for ds in slices]  # neither in instance order
    before = render_count(page)
    page.set_input_files("#open-files", [str(tmp_path / name) for name in sorted(names)])
    wait_for_render_after(page, before)
    choose_series(page, "Echo pairs")
    shown = [attribute(page, "data-sop-instance-uid")]
    page.mouse.move(*centre(page))
    for _ in range(7):
        before = render_count(page)
        page.mouse.wheel(0, 100)
        wait_for_render_after(page, before)
        shown.append(attribute(page, "data-sop-instance-uid"))
    assert shown == expected


HELP_NAMES = {"↑": "ArrowUp", "↓": "ArrowDown", "←": "ArrowLeft", "→": "ArrowRight", "Space": " ",
              "Esc": "Escape", "PageUp": "PageUp", "PageDown": "PageDown"}
CANDIDATE_KEYS = [*"abcdefghijklmnopqrstuvwxyz0123456789?/+-=[],.", "Escape", "Home", "End", "Delete",
                  "Backspace", "Enter", "Space", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight",
                  "PageUp", "PageDown"]


def help_keys(page) -> set[str]:
    """The keys named in the help's rows: single characters and the named keys, as KeyboardEvent.key."""
    keys = set()
    for heading in page.eval_on_selector_all("#help th", "hs => hs.map(h => h.textContent)"):
        for token in re.split(r"[\s,/]+", heading):
            if token in HELP_NAMES:
                keys.add(HELP_NAMES[token])
            elif re.fullmatch(r"[A-Z0-9?]", token):
                keys.add(token.lower())
    return keys


def test_the_help_lists_exactly_the_keys_the_page_handles(page):
    """Press every likely key on the image and record which ones the page takes (preventDefault)."""
    choose_series(page, "Routine Brain")
    page.evaluate("""() => { window.handledKeys = new Set();
        addEventListener('keydown', e => { if (e.defaultPrevented) handledKeys.add(e.key); }); }""")
    page.evaluate("document.activeElement.blur()")
    for key in CANDIDATE_KEYS:
        page.keyboard.press(key)
    handled = set(page.evaluate("[...handledKeys]"))
    assert handled == help_keys(page)
    if page.get_attribute("#cine-play", "aria-pressed") == "true":
        page.keyboard.press("Space")
    page.keyboard.press("Escape")
    page.keyboard.press("r")


INTERACTIVE_ROLES = {"button", "checkbox", "combobox", "textbox", "searchbox", "slider", "spinbutton", "link",
                     "radio", "tab", "listbox", "menuitem", "switch"}


def unnamed_controls(page) -> tuple[int, list[str]]:
    """Every control in Chromium's accessibility tree (what a screen reader gets) without a name."""
    nodes = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    controls = [node for node in nodes if not node.get("ignored")
                and node.get("role", {}).get("value") in INTERACTIVE_ROLES]
    unnamed = [f"{node['role']['value']} {node.get('backendDOMNodeId')}" for node in controls
               if not str(node.get("name", {}).get("value", "")).strip()]
    return len(controls), unnamed


def test_every_control_has_an_accessible_name_and_every_id_is_unique(page):
    series = page.locator("#series-list button.series", has_text="Routine Brain")
    series.focus()
    page.keyboard.press("Enter")  # the keyboard opens a series and stays in the list
    page.wait_for_function("b => b.getAttribute('aria-current') === 'true'", arg=series.element_handle())
    assert page.evaluate("document.activeElement.dataset.seriesInstanceUid") == series.get_attribute(
        "data-series-instance-uid")
    choose_series(page, "Series 301")  # the cine controls shown
    page.click(".study-browser summary")  # the DICOMweb search form open
    page.keyboard.press("?")  # the help open
    page.fill("#tag-search", "patient")
    count, unnamed = unnamed_controls(page)
    assert count > 20 and unnamed == []
    for selector in ("#cine-play", "#cine-fps", "#frame", "#window-preset", "#tag-search", "#export-png",
                     "#copy-tags", "#dicomweb-url", "#help-close"):
        assert page.is_visible(selector), selector
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert max(int(v) for v in re.findall(r"\d+", background)[:3]) < 40  # a dark theme
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "dark"
    ids = page.eval_on_selector_all("[id]", "es => es.map(e => e.id)")
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert page.get_by_role("button", name="Export the view as PNG").is_visible()  # its visible text in its name
    assert page.evaluate("document.activeElement.id") == "tag-search"
    page.keyboard.press("Escape")  # closes the help even from a text field
    assert not page.is_visible("#help")
    page.click(".study-browser summary")
    page.fill("#tag-search", "")
    choose_series(page, "SmartScore")
    page.click("#volume-toggle")  # the volume views' controls as well
    page.wait_for_selector("#mpr:not([hidden])")
    count, unnamed = unnamed_controls(page)
    assert count > 20 and unnamed == []
    page.keyboard.press("?")  # the help is there in the volume views as well
    assert page.is_visible("#help")
    assert page.evaluate("(b => document.elementFromPoint(b.x + b.width / 2, b.y + 10).closest('#help') !== null)"
                         "(document.getElementById('help').getBoundingClientRect())")  # on top, not hidden
    page.keyboard.press("Escape")
    assert not page.is_visible("#help")
    page.click("#volume-toggle")
    page.wait_for_selector("#viewport:not([hidden])")


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024)], ids=["landscape", "portrait"])
def test_a_tablet_screen_holds_the_viewer_without_overflow(browser, server_url, exam, size):
    width, height = size
    tablet = new_page(browser, server_url, viewport={"width": width, "height": height}, has_touch=True,
                      is_mobile=True)
    try:
        open_folder(tablet, exam)
        sizes = tablet.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        assert sizes == [width, height]  # nothing overflows the screen: no page scrolling at all
        viewport = tablet.locator("#viewport").bounding_box()
        side = tablet.locator("aside.side").bounding_box()
        assert viewport["width"] * viewport["height"] >= 0.4 * width * height  # the image keeps most of it
        assert side["x"] + side["width"] <= width and side["y"] + side["height"] <= height
        if height > width:  # held upright: the panel sits below the image, which keeps the full width
            assert side["y"] >= viewport["y"] + viewport["height"] - 1 and viewport["width"] >= width - 1
        assert tablet.evaluate("(s => s.scrollHeight > s.clientHeight && getComputedStyle(s).overflowY)"
                               "(document.querySelector('aside.side'))") == "auto"  # the panel scrolls
        for box in tablet.locator(".topbar > *:visible").evaluate_all(
                "es => es.map(e => e.getBoundingClientRect().right)"):
            assert box <= width
        # the series list is reached by touch and a tap opens the series
        series = tablet.locator("#series-list button.series", has_text="Routine Brain")
        series.scroll_into_view_if_needed()
        series.tap()
        first = str(stack_order(CT_SERIES)[0].SOPInstanceUID)
        tablet.wait_for_function(f"{SHOWN_UID} === {first!r}")
        image = tablet.locator("canvas#image").bounding_box()
        right = viewport["x"] + viewport["width"]
        assert viewport["x"] - 0.5 <= image["x"] <= image["x"] + image["width"] <= right + 0.5
        tablet.keyboard.press("?")  # the help fits the screen, its close button in reach
        help_box, close = tablet.locator("#help").bounding_box(), tablet.locator("#help-close")
        assert help_box["y"] >= 0 and help_box["y"] + help_box["height"] <= height and help_box["width"] <= width
        close.scroll_into_view_if_needed()
        close.tap()
        assert not tablet.is_visible("#help")
        assert tablet.errors == []
    finally:
        tablet.context.close()
