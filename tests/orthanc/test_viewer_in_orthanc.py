"""The viewer served by Orthanc, in Chromium: study list, search, series with thumbnails, a series
opened through WADO-RS, and its pixels equal to the same file opened from disk in the same page
(and to the CPython pipeline on the bytes the page received)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pydicom
import pytest
from playwright.sync_api import Page

from conftest import BROWSER, PASSWORD, USER, OrthancServer
from corpus import corpus_file
from dicomview import dicomweb
from dicomview.decode import read_dataset
from dicomview.render import render_frame

pytestmark = pytest.mark.browser
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def page(browser, orthanc: OrthancServer, uploaded) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  http_credentials={"username": USER, "password": PASSWORD})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(orthanc.url + "/dicomview/")
    page.wait_for_function("document.documentElement.dataset.runtime !== 'loading'", timeout=TIMEOUT_MS)
    assert page.evaluate("document.documentElement.dataset.runtime") == "ready"
    yield page
    context.close()


def header(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(corpus_file(name), stop_before_pixels=True)


def test_page_lists_every_study_at_once(page: Page, uploaded) -> None:
    assert page.url.endswith("/dicomview/site/index.html")
    expected = {header(name).StudyInstanceUID for name in uploaded}
    page.wait_for_function(f"document.querySelectorAll('#study-list tr[data-study-uid]').length >= {len(expected)}",
                           timeout=TIMEOUT_MS)
    listed = set(page.eval_on_selector_all("#study-list tr[data-study-uid]",
                                           "rows => rows.map(r => r.dataset.studyUid)"))
    assert expected <= listed


def show_series(page: Page, patient_id: str, study_uid: str, series_uid: str) -> str:
    """Search by patient ID and open the study; the selector of the series' list item."""
    page.fill("#study-patient-id", patient_id)
    page.click("#study-search-button")
    row = f'#study-list tr[data-study-uid="{study_uid}"]'
    page.wait_for_function(  # the new answer, not a row left from an earlier search: only this patient
        """([row, id]) => document.querySelector(row) !== null && [...document.querySelectorAll(
               '#study-list tr[data-study-uid]')].every(tr => tr.cells[1].textContent === id)""",
        arg=[row, patient_id], timeout=TIMEOUT_MS)
    page.click(f"{row} button.study-open")
    item = f'#dicomweb-series-list li[data-series-uid="{series_uid}"]'
    page.wait_for_selector(item, timeout=TIMEOUT_MS)
    return item


def open_series(page: Page, item: str, shown_uid: str) -> None:
    """Click the series' Open and wait until the canvas shows instance shown_uid."""
    before = BROWSER.render_count(page)
    page.click(f"{item} button.series-open")
    page.wait_for_function(
        f"""Number(document.querySelector('canvas#image').dataset.renderCount || 0) > {before}
            && document.querySelector('canvas#image').dataset.sopInstanceUid === '{shown_uid}'""",
        timeout=TIMEOUT_MS)


def search_and_open(page: Page, name: str) -> pydicom.Dataset:
    """Find the file's study (alone in the list), check its series thumbnail, open the series."""
    ds = header(name)
    item = show_series(page, ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID)
    assert page.eval_on_selector_all("#study-list tr[data-study-uid]", "rows => rows.length") == 1
    page.wait_for_function(f"document.querySelector('{item} img').complete", timeout=TIMEOUT_MS)
    assert page.eval_on_selector(f"{item} img", "img => img.naturalWidth") > 0, "the thumbnail did not load"
    open_series(page, item, ds.SOPInstanceUID)
    return ds


def open_from_disk(page: Page, name: str) -> np.ndarray:
    before = BROWSER.render_count(page)
    page.set_input_files("input#open-files", str(corpus_file(name)))
    BROWSER.wait_for_render_after(page, before)
    return BROWSER.canvas_rgba(page)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small_jpeg_ls_lossless.dcm"])
def test_series_from_orthanc_renders_like_the_local_file(page: Page, orthanc: OrthancServer, name: str) -> None:
    search_and_open(page, name)
    from_server = BROWSER.canvas_rgba(page)
    expected = render_frame(read_dataset(corpus_file(name).read_bytes())).rgba
    np.testing.assert_array_equal(from_server, expected)
    np.testing.assert_array_equal(open_from_disk(page, name), from_server)
    assert BROWSER.problem_lines(page) == []


def test_undecodable_syntax_is_transcoded_by_the_server(page: Page, orthanc: OrthancServer) -> None:
    """12-bit JPEG: no decoder in the browser, so the page asked for Explicit VR Little Endian; its
    pixels equal the CPython pipeline on that same transcoded file."""
    ds = search_and_open(page, "JPEG-lossy.dcm")
    url = dicomweb.instance_url("/dicom-web/", ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    reply = orthanc.request(url, headers={"Accept": dicomweb.accept_header(dicomweb.TRANSCODE_TO)})
    (part,) = dicomweb.multipart_parts(reply.headers["content-type"], reply.body)
    np.testing.assert_array_equal(BROWSER.canvas_rgba(page), render_frame(read_dataset(part)).rgba)
    asked = [u for u in page.requests if ds.SOPInstanceUID in u and "/instances/" in u]
    assert asked, "the page never retrieved the instance"
    assert BROWSER.problem_lines(page) == []


def test_every_request_stayed_on_orthanc(page: Page, orthanc: OrthancServer) -> None:
    assert page.requests
    assert all(u.startswith(orthanc.url + "/") or u.startswith(("data:", "blob:")) for u in page.requests), \
        [u for u in page.requests if not u.startswith(orthanc.url)]


def test_open_in_dicomview_from_orthanc_explorer(page: Page, orthanc: OrthancServer, uploaded) -> None:
    """The plugin's Explorer button (ExtendOrthancExplorer) on a study page opens the viewer on that study."""
    ds = header("SC_rgb_rle.dcm")
    explorer = page.context.new_page()
    explorer.goto(f"{orthanc.url}/app/explorer.html#study?uuid={uploaded['SC_rgb_rle.dcm']['ParentStudy']}")
    explorer.wait_for_selector("#dicomview-open", state="visible", timeout=TIMEOUT_MS)
    with page.context.expect_page(timeout=TIMEOUT_MS) as opened:
        explorer.click("#dicomview-open")
    viewer = opened.value
    viewer.wait_for_function("document.documentElement.dataset.runtime === 'ready'", timeout=TIMEOUT_MS)
    assert viewer.url.endswith(f"/dicomview/site/index.html#study={ds.StudyInstanceUID}")
    viewer.wait_for_selector(f'#dicomweb-series-list li[data-series-uid="{ds.SeriesInstanceUID}"]', timeout=TIMEOUT_MS)
    listed = viewer.eval_on_selector_all("#study-list tr[data-study-uid]", "rows => rows.map(r => r.dataset.studyUid)")
    assert listed == [ds.StudyInstanceUID]
    viewer.close()
    explorer.close()


MARKUP = '<img src=x onerror="window.pwned=1">'


def test_values_from_the_server_are_text(page: Page, orthanc: OrthancServer) -> None:
    """Patient name, study and series descriptions carrying markup are shown as text, never parsed."""
    from synthetic import image_dataset, write_dicom

    name = "<i>Evil</i>^<u>Name</u>"  # no "=": in a PN it separates component groups
    ds = image_dataset(np.arange(16, dtype=np.uint16).reshape(4, 4), PatientName=name,
                       PatientID="MARKUP-1", StudyDescription=f"<b>{MARKUP}</b>", SeriesDescription=MARKUP,
                       StudyInstanceUID=pydicom.uid.generate_uid(), SeriesInstanceUID=pydicom.uid.generate_uid(),
                       Modality="OT")
    orthanc.request("/instances", write_dicom(ds))
    item = show_series(page, "MARKUP-1", ds.StudyInstanceUID, ds.SeriesInstanceUID)
    row = f'#study-list tr[data-study-uid="{ds.StudyInstanceUID}"]'
    cells = page.eval_on_selector_all(f"{row} td", "cells => cells.map(c => c.textContent)")
    assert cells[0] == "<i>Evil</i>, <u>Name</u>" and cells[4] == f"<b>{MARKUP}</b>"
    assert MARKUP in page.text_content(item)
    parsed = "#study-browser img:not(.thumbnail), #study-browser b, #study-browser i, #study-browser u"
    assert page.eval_on_selector_all(parsed, "n => n.length") == 0
    assert page.evaluate("window.pwned") is None


def test_another_origin_is_refused_with_a_reason(page: Page, orthanc: OrthancServer) -> None:
    """connect-src 'self': a DICOMweb URL on another origin is never fetched, and the page says why."""
    other = "http://127.0.0.1:9/dicom-web/"
    url_before = page.input_value("#dicomweb-url")
    try:
        page.fill("#dicomweb-url", other)
        page.click("#study-search-button")
        page.wait_for_function("document.querySelector('#study-status').textContent.startsWith('Search failed')",
                               timeout=TIMEOUT_MS)
        assert "may connect only to its own origin" in page.text_content("#study-status")
    finally:
        page.fill("#dicomweb-url", url_before)


def test_a_series_of_several_instances_opens_as_one_stack(page: Page, orthanc: OrthancServer) -> None:
    """Three instances made from a real CT (own UIDs, positions 0, 5, 10 mm, pixels shifted) uploaded
    out of order: the series opens as one stack in position order, the progress bar counts to 3, and
    the first image shown equals the CPython pipeline on the file that lies first."""
    from synthetic import write_dicom

    source = pydicom.dcmread(corpus_file("CT_small.dcm"))
    study, series = pydicom.uid.generate_uid(), pydicom.uid.generate_uid()
    files = {}
    for z in (10.0, 0.0, 5.0):
        ds = source.copy()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = study, series, "STACK-1"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
        ds.ImagePositionPatient = [0.0, 0.0, z]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.InstanceNumber = int(z)
        ds.PixelData = (source.pixel_array + int(z) * 10).astype(source.pixel_array.dtype).tobytes()
        files[z] = write_dicom(ds)
        assert orthanc.request("/instances", files[z]).status == 200
    item = show_series(page, "STACK-1", study, series)
    first = pydicom.dcmread(pydicom.filebase.DicomBytesIO(files[0.0]))
    open_series(page, item, first.SOPInstanceUID)
    progress = page.eval_on_selector("#series-progress", "p => [p.value, p.max]")
    assert progress == [3, 3]
    np.testing.assert_array_equal(BROWSER.canvas_rgba(page), render_frame(read_dataset(files[0.0])).rgba)
    order = page.eval_on_selector_all("#image-list button[data-sop-instance-uid]",
                                      "buttons => buttons.map(b => b.dataset.sopInstanceUid)")
    uids = [pydicom.dcmread(pydicom.filebase.DicomBytesIO(files[z])).SOPInstanceUID for z in (0.0, 5.0, 10.0)]
    assert [uid for uid in order if uid in uids] == uids
