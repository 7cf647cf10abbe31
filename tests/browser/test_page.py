"""The page in headless Chromium: real files through #open-files, real canvas pixels read back and
compared bit for bit with the CPython pipeline, the error path, drag and drop, and the origin rule."""

from __future__ import annotations

import base64
import contextlib
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import numpy as np
import pytest
from pydicom.uid import MPEG2MPML

from conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    READY_TIMEOUT_MS,
    ROOT,
    canvas_rgba,
    open_viewer,
    problem_lines,
    render_count,
    served_copy,
    start_server,
    wait_for_render_after,
)
from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.render import render_frame
from dicomview.serving import static
from dicomview.session import Session
from synthetic import encapsulated

pytestmark = pytest.mark.browser

GOOD = [
    "693_UNCI.dcm",  # 512x512 16-bit CT, rescale, file window
    "MR_small.dcm",  # signed 16-bit
    "CT_small.dcm",  # no window: min-max fallback
    "RG3_UNCI.dcm",  # 1760x1760 MONOCHROME1
    "MR_small_RLE.dcm",  # RLE Lossless
    "image_dfl.dcm",  # Deflated Explicit VR Little Endian
    "MR_small_bigendian.dcm",  # Explicit VR Big Endian
    "rtdose_1frame.dcm",  # 32-bit: the direct (non-LUT) path
    "US1_UNCR.dcm",  # 8-bit RGB
]
BAD = {  # file name -> words its #messages line must contain
    "notes.txt": "not a DICOM file",
    "random.bin": "not a DICOM file",
    "empty.dcm": "the file is empty",
    "MR_truncated.dcm": "the pixel data is truncated",
    "cut-header.dcm": "truncated",
    "mpeg2.dcm": "transfer syntax MPEG2 Main Profile / Main Level (1.2.840.10008.1.2.4.100) is not supported",
}


def bad_file(name: str, tmp_path) -> str:
    path = tmp_path / name
    if name == "notes.txt":
        path.write_text("Patient notes, not an image.\n" * 10)
    elif name == "random.bin":
        path.write_bytes(np.random.default_rng(3).bytes(5000))
    elif name == "empty.dcm":
        path.write_bytes(b"")
    elif name == "cut-header.dcm":
        path.write_bytes(corpus_file("MR_small.dcm").read_bytes()[:600])
    elif name == "mpeg2.dcm":
        path.write_bytes(encapsulated(MPEG2MPML))
    else:
        return str(corpus_file(name))
    return str(path)


def select_image(page, file_name: str) -> None:
    before = render_count(page)
    page.locator("#image-list button", has_text=file_name).first.click()
    wait_for_render_after(page, before)


def expected_render(file_name: str):
    ds = read_dataset(corpus_file(file_name).read_bytes())
    return ds, render_frame(ds, 0)


@pytest.fixture(scope="module")
def opened_batch(viewer, tmp_path_factory):
    """One batch through #open-files mixing every good and bad file, good and bad interleaved."""
    tmp = tmp_path_factory.mktemp("batch")
    paths = []
    for good, bad in zip(GOOD, list(BAD) + [None] * len(GOOD), strict=False):
        paths.append(str(corpus_file(good)))
        if bad:
            paths.append(bad_file(bad, tmp))
    before = render_count(viewer)
    viewer.set_input_files("#open-files", paths)
    wait_for_render_after(viewer, before)
    viewer.wait_for_function("/image\\(s\\) open/.test(document.getElementById('status-text').textContent)")
    return viewer


def test_the_runtime_is_ready_and_the_contract_elements_exist(viewer):
    assert viewer.evaluate("document.documentElement.dataset.runtime") == "ready"
    assert viewer.get_attribute("input#open-files", "type") == "file"
    assert viewer.evaluate("document.getElementById('open-files').multiple")
    assert viewer.get_attribute("#messages", "role") == "alert"
    assert viewer.locator("canvas#image").count() == 1


def test_each_bad_file_gets_one_line_naming_it_and_why(opened_batch):
    lines = problem_lines(opened_batch)
    assert len(lines) == len(BAD)
    for name, words in BAD.items():
        matching = [line for line in lines if line.startswith(f"{name}: ")]
        assert len(matching) == 1, (name, lines)
        assert words in matching[0], matching[0]


def test_every_good_file_of_the_batch_is_listed_grouped_by_series(opened_batch):
    labels = opened_batch.eval_on_selector_all("#image-list button", "bs => bs.map(b => b.textContent)")
    session = Session()
    session.open_batch([(name, corpus_file(name).read_bytes()) for name in GOOD])
    assert [label.split(" · ")[0] for label in labels] == [image.file_name for image in session.images]
    headers = opened_batch.locator("#image-list .series-header").count()
    assert headers == len({image.series for image in session.images}) < len(GOOD)  # some share a series


@pytest.mark.parametrize("file_name", GOOD)
def test_canvas_pixels_equal_the_cpython_pipeline_bit_for_bit(opened_batch, file_name):
    select_image(opened_batch, file_name)
    ds, rendered = expected_render(file_name)
    pixels = canvas_rgba(opened_batch)
    assert pixels.shape == rendered.rgba.shape
    assert np.array_equal(pixels, rendered.rgba), f"{int((pixels != rendered.rgba).any(-1).sum())} pixels differ"
    canvas = opened_batch.locator("canvas#image")
    assert canvas.get_attribute("data-sop-instance-uid") == ds.SOPInstanceUID
    assert canvas.get_attribute("data-frame") == "0"
    window = rendered.window
    assert canvas.get_attribute("data-window-center") == ("" if window is None else f"{window.center:g}")
    assert canvas.get_attribute("data-window-width") == ("" if window is None else f"{window.width:g}")


def test_the_512_ct_shows_its_file_window_40_100(opened_batch):
    select_image(opened_batch, "693_UNCI.dcm")
    canvas = opened_batch.locator("canvas#image")
    assert (canvas.get_attribute("width"), canvas.get_attribute("height")) == ("512", "512")
    assert (canvas.get_attribute("data-window-center"), canvas.get_attribute("data-window-width")) == ("40", "100")


def test_the_min_max_fallback_is_said_on_the_page(opened_batch):
    select_image(opened_batch, "CT_small.dcm")
    assert "min-max" in opened_batch.locator("#notes").text_content()
    select_image(opened_batch, "MR_small.dcm")
    assert opened_batch.locator("#notes").text_content() == ""


def test_render_count_increases_with_each_render(opened_batch):
    first = render_count(opened_batch)
    select_image(opened_batch, "MR_small.dcm")
    select_image(opened_batch, "CT_small.dcm")
    assert render_count(opened_batch) == first + 2


def test_the_page_stays_usable_after_bad_files_and_drop_opens_files(opened_batch):
    data = base64.b64encode(corpus_file("emri_small.dcm").read_bytes()).decode()
    before = render_count(opened_batch)
    opened_batch.evaluate(
        """(payload) => {
            const bytes = Uint8Array.from(atob(payload), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], 'dropped.dcm'));
            transfer.items.add(new File(['just text'], 'dropped.txt'));
            document.querySelector('#viewport').dispatchEvent(
                new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        data,
    )
    wait_for_render_after(opened_batch, before)
    ds = read_dataset(corpus_file("emri_small.dcm").read_bytes())
    assert opened_batch.get_attribute("canvas#image", "data-sop-instance-uid") == ds.SOPInstanceUID
    assert np.array_equal(canvas_rgba(opened_batch), render_frame(ds, 0).rgba)
    assert any(line.startswith("dropped.txt: not a DICOM file") for line in problem_lines(opened_batch))


def test_no_request_leaves_the_origin_and_no_script_error(opened_batch, server_url):
    assert opened_batch.requests, "requests were not recorded"
    own = (server_url, "blob:" + server_url.rstrip("/") + "/")  # PyScript starts its worker from a blob of ours
    outside = [url for url in opened_batch.requests if not url.startswith(own)]
    assert outside == []
    assert opened_batch.errors == []


def test_tag_values_are_text_not_html(viewer, tmp_path):
    """A file name and tag values with markup reach the page as text."""
    import io

    import pydicom

    ds = pydicom.dcmread(corpus_file("MR_small.dcm"))
    ds.Modality = "<img src=x onerror=alert(1)>"
    buffer = io.BytesIO()
    ds.save_as(buffer)
    path = tmp_path / "<b>bold<i>.dcm"
    path.write_bytes(buffer.getvalue())
    before = render_count(viewer)
    viewer.set_input_files("#open-files", [str(path)])
    wait_for_render_after(viewer, before)
    assert viewer.locator("#image-list img, #image-info img, #image-list b").count() == 0
    assert "<img src=x onerror=alert(1)>" in viewer.locator("#image-info").text_content()
    assert viewer.locator("#image-list button", has_text="<b>bold<i>.dcm").count() == 1


def test_serve_py_stops_cleanly_on_ctrl_c():
    process, url = start_server(sys.executable, "serve.py", "--port", "0", "--no-vendor")
    assert url.startswith("http://127.0.0.1:")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0


@contextlib.contextmanager
def plain_http_server(tmp_path) -> Iterator[str]:
    """`python -m http.server` (no headers of ours), with the repository under /dicomview/ as on GitHub
    project pages; yields the page's URL."""
    (tmp_path / "dicomview").symlink_to(ROOT)
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        port = line.split("port ")[1].split(" ")[0]
        yield f"http://127.0.0.1:{port}/dicomview/site/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_same_files_work_from_python_m_http_server_under_a_sub_path(browser, tmp_path):
    """No isolation headers from the server: the first visit installs site/sw.js, which adds them, and
    reloads once; then Python runs in its worker as with serve.py."""
    with plain_http_server(tmp_path) as url:
        page = open_viewer(browser, url, service_workers="allow")
        assert page.evaluate("crossOriginIsolated")
        before = render_count(page)
        page.set_input_files("#open-files", [str(corpus_file("693_UNCI.dcm"))])
        wait_for_render_after(page, before)
        assert np.array_equal(canvas_rgba(page), expected_render("693_UNCI.dcm")[1].rgba)
        page.close()


def test_without_isolation_or_a_service_worker_the_page_says_why_it_cannot_start(browser, tmp_path):
    """Plain http on a host name other than localhost (a LAN server): not a secure context, so no service
    worker, and http.server sends no isolation headers."""
    lan = browser.browser_type.launch(executable_path=CHROMIUM,
                                      args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP viewer.lan.test 127.0.0.1"])
    try:
        with plain_http_server(tmp_path) as url:
            page = lan.new_page()
            page.goto(url.replace("127.0.0.1", "viewer.lan.test"))
            page.wait_for_function("document.documentElement.dataset.runtime === 'error'", timeout=30_000)
            assert not page.evaluate("window.isSecureContext")
            assert "cross-origin isolated" in page.locator("#status-text").text_content()
    finally:
        lan.close()


def test_missing_runtime_is_reported_not_a_hang(browser, tmp_path):
    """Served without site/vendor/, the page says how to fix it and marks itself as failed."""
    shutil.copytree(ROOT / "site", tmp_path / "site", ignore=shutil.ignore_patterns("vendor"))
    shutil.copytree(ROOT / "py", tmp_path / "py")
    shutil.copy(ROOT / "pyscript.toml", tmp_path / "pyscript.toml")
    server = static.make_server(tmp_path, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_port}/")
        page.wait_for_function("document.documentElement.dataset.runtime === 'error'", timeout=30_000)
        assert "serve.py --vendor-only" in page.locator("#status-text").text_content()
        page.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_missing_startup_wheel_is_named_on_the_page(browser, tmp_path):
    """site/python-runtime.mjs fetches the wheels main.py imports from; one gone, the page says which."""
    root = served_copy(tmp_path)
    wheel = root / "site" / "vendor" / "wheels" / "pydicom-3.0.2-py3-none-any.whl"
    wheel.unlink()
    server = static.make_server(root, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_port}/site/")
        page.wait_for_function("document.documentElement.dataset.runtime === 'error'", timeout=READY_TIMEOUT_MS)
        status = page.locator("#status-text").text_content()
        assert status.startswith("Python could not start") and f"{wheel.name}: HTTP 404" in status, status
        page.close()
    finally:
        server.shutdown()
        server.server_close()


def test_exactly_the_shown_image_is_marked_current_in_the_list(opened_batch):
    for name in ("CT_small.dcm", "693_UNCI.dcm"):
        select_image(opened_batch, name)
        marked = opened_batch.eval_on_selector_all(
            "#image-list button[aria-current='true']", "bs => bs.map(b => b.textContent.split(' · ')[0])")
        assert marked == [name]
