"""Start-up in headless Chromium: files opened or dropped while Python is still starting are kept and
shown the moment it is ready; a reload revalidates the runtime instead of downloading it again."""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, READY_TIMEOUT_MS, canvas_rgba, problem_lines, wait_for_render_after
from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.render import render_frame

pytestmark = pytest.mark.browser

DROP = """(payload) => {
    const bytes = Uint8Array.from(atob(payload), c => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'dropped-early.dcm'));
    document.querySelector('#viewport').dispatchEvent(
        new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""


def test_files_opened_and_dropped_while_python_starts_are_shown_once_it_is_ready(browser, server_url):
    """Pyodide's WebAssembly is held back until both files are in, so the page is surely still starting."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    held, released = [], []

    def hold(route) -> None:
        (route.continue_() if released else held.append(route))

    page.route("**/pyodide.asm.wasm", hold)
    try:
        page.goto(server_url, wait_until="domcontentloaded")
        deadline = time.monotonic() + READY_TIMEOUT_MS / 1000
        while not held and time.monotonic() < deadline:  # until the runtime asks for its WebAssembly
            page.wait_for_timeout(50)
        assert held, "the page never requested pyodide.asm.wasm"
        assert page.evaluate("document.documentElement.dataset.runtime") == "loading"

        page.set_input_files("#open-files", [str(corpus_file("693_UNCI.dcm"))])
        page.evaluate(DROP, base64.b64encode(corpus_file("MR_small.dcm").read_bytes()).decode())
        assert "2 file(s) will open when it is ready" in page.locator("#status-text").text_content()
        assert page.evaluate("document.documentElement.dataset.runtime") == "loading"

        released.append(True)
        for route in held:
            route.continue_()
        page.wait_for_function("document.documentElement.dataset.runtime === 'ready'", timeout=READY_TIMEOUT_MS)
        wait_for_render_after(page, 0)
        page.wait_for_function("document.querySelectorAll('#image-list button[data-index]').length === 2")

        listed = page.eval_on_selector_all("#image-list button[data-index]", "items => items.map(b => b.textContent)")
        for file_name in ("693_UNCI.dcm", "dropped-early.dcm"):
            assert any(file_name in label for label in listed), listed
        shown = page.get_attribute("canvas#image", "data-sop-instance-uid")
        name = {read_dataset(corpus_file(n).read_bytes()).SOPInstanceUID: n for n in ("693_UNCI.dcm", "MR_small.dcm")}
        ds = read_dataset(corpus_file(name[shown]).read_bytes())
        assert np.array_equal(canvas_rgba(page), render_frame(ds, 0).rgba)
        assert problem_lines(page) == []
    finally:
        page.close()


def test_a_reload_revalidates_the_runtime_instead_of_downloading_it(browser, server_url, tmp_path):
    """serve.py answers 304 to the browser's If-None-Match, so the reload moves (almost) no runtime bytes.
    A profile on disk, as a user has: an incognito context's memory cache does not keep 10 MB entries.
    The offline cache (site/sw.js, tests/browser/test_offline.py) is blocked: this is the path without it."""
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, service_workers="block")
    page = context.new_page()
    statuses: dict[str, list[int]] = {}
    page.on("response", lambda response: statuses.setdefault(response.url.rsplit("/", 1)[-1], []).append(
        response.status))
    try:
        page.goto(server_url)
        for _ in range(2):  # the disk cache stores entries asynchronously: under load, one load may miss
            page.wait_for_function("document.documentElement.dataset.runtime === 'ready'", timeout=READY_TIMEOUT_MS)
            page.wait_for_load_state("networkidle")  # the codecs too
            page.reload()
        page.wait_for_function("document.documentElement.dataset.runtime === 'ready'", timeout=READY_TIMEOUT_MS)
        resources = """() => performance.getEntriesByType('resource')
            .filter(e => e.name.includes('/vendor/')).map(e => [e.name.split('/').pop(), e.transferSize])"""
        # the page's own, and its Python worker's (which fetches the runtime)
        sent = [entry for scope in (page, *page.workers) for entry in scope.evaluate(resources)]
        assert statuses["pyodide.asm.wasm"][0] == 200
        big = {name: size for name, size in sent if name.endswith((".wasm", ".zip", ".whl"))}
        assert set(big) >= {"pyodide.asm.wasm", "python_stdlib_pyc.zip", "pydicom-3.0.2-py3-none-any.whl",
                            "dicomview_bytecode-0.27.7-cp312-none-any.whl"}
        assert all(size < 10_000 for size in big.values()), big  # headers only: 304 or the memory cache
    finally:
        context.close()
