"""The offline cache (site/sw.js, issue 7): after one visit the viewer starts and renders with its server
stopped, and an edited module under py/ is used at the next reload while the server runs (on a static
host once the vendor step packed py/ again into site/vendor/dicomview.zip).

Each test has its own server and its own browser context (service workers never leak between contexts).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from conftest import READY_TIMEOUT_MS, canvas_rgba, render_count, served_copy, start_server, wait_for_render_after
from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.render import render_frame
from dicomview.serving import bundle, static

pytestmark = pytest.mark.browser

CONTROLLED = "navigator.serviceWorker.controller !== null"


def wait_ready(page: Page) -> None:
    page.wait_for_function("document.documentElement.dataset.runtime !== 'loading'", timeout=READY_TIMEOUT_MS)
    assert page.evaluate("document.documentElement.dataset.runtime") == "ready", page.locator(
        "#status-text").text_content()


def visit_until_cached(browser: Browser, url: str) -> Page:
    """First visit: ready, and the service worker (installed once its caches are full) controls the page."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(url)
    wait_ready(page)
    page.wait_for_function(CONTROLLED, timeout=READY_TIMEOUT_MS)
    return page


def test_after_one_visit_the_viewer_starts_and_renders_with_the_server_stopped(browser):
    server, url = start_server(sys.executable, "serve.py", "--port", "0", "--no-vendor")
    try:
        page = visit_until_cached(browser, url + "site/")
    finally:
        server.kill()
        server.wait(timeout=30)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.reload()
    wait_ready(page)
    assert page.evaluate(CONTROLLED)
    count = render_count(page)
    page.set_input_files("input#open-files", str(corpus_file("CT_small.dcm")))
    wait_for_render_after(page, count)
    expected = render_frame(read_dataset(corpus_file("CT_small.dcm").read_bytes()), 0).rgba
    assert np.array_equal(canvas_rgba(page), expected)
    assert any("/site/vendor/pyodide/pyodide.asm.wasm" in request for request in requests)
    assert all(request.startswith(url) or request.startswith(("blob:", "data:")) for request in requests)
    page.context.close()


def edit_the_package(root: Path) -> None:
    """The package's __init__ marks the page when it runs in the browser."""
    with (root / "py" / "dicomview" / "__init__.py").open("a") as module:
        module.write("\ntry:\n    import js\n    js.document.documentElement.dataset.edited = 'yes'\n"
                     "except ImportError:\n    pass\n")


def reload_shows_the_edit(page: Page) -> None:
    page.reload()
    wait_ready(page)
    assert page.evaluate(CONTROLLED)
    assert page.evaluate("document.documentElement.dataset.edited") == "yes"


def test_an_edited_module_is_used_at_the_next_reload_while_online(browser, tmp_path):
    """Network first for the page's own code, under `python -m http.server` (no Cache-Control at all):
    the module edited, then packed again as `serve.py --vendor-only` does."""
    root = served_copy(tmp_path)
    server, url = start_server(sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                               "--directory", str(root))
    try:
        page = visit_until_cached(browser, url + "site/")
        assert page.evaluate("document.documentElement.dataset.edited") is None
        edit_the_package(root)
        assert bundle.vendor_archive(root)
        reload_shows_the_edit(page)
        page.context.close()
    finally:
        server.kill()
        server.wait(timeout=30)


def test_under_serve_py_an_edited_module_is_used_at_the_next_reload_without_a_vendor_step(browser, tmp_path):
    """serve.py's server builds the package archive from py/ at each request: no vendor step between."""
    root = served_copy(tmp_path)
    server = static.make_server(root, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = visit_until_cached(browser, f"http://127.0.0.1:{server.server_port}/site/")
        assert page.evaluate("document.documentElement.dataset.edited") is None
        edit_the_package(root)
        reload_shows_the_edit(page)
        page.context.close()
    finally:
        server.shutdown()
        server.server_close()
