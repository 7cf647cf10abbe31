"""Chromium fixtures: serve.py on a free loopback port, one browser, and a warm viewer page per module.

Debian's chromium is driven by PyPI playwright (DESIGN §6): `playwright install` downloads a
browser and cannot work here. Python starts once per module and the page is reused.
"""

from __future__ import annotations

import base64
import functools
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Keyboard, Locator, Mouse, Page, Touchscreen

from chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (re-exported for the benchmarks)

ROOT = Path(__file__).resolve().parents[2]

READY_TIMEOUT_MS = 120_000

pytestmark = pytest.mark.browser


def start_server(*cmd: str) -> tuple[subprocess.Popen, str]:
    """Start a server that prints its URL on its first line; return the process and the URL."""
    process = subprocess.Popen(list(cmd), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = process.stdout.readline()
    match = re.search(r"http://[\d.]+:\d+/", line)
    if not match:
        process.kill()
        raise RuntimeError(f"server did not start: {line!r}{process.stdout.read()}")
    return process, match.group(0)


@pytest.fixture(scope="session")
def served() -> Iterator[tuple[subprocess.Popen, str]]:
    process, url = start_server(sys.executable, "serve.py", "--port", "0", "--no-vendor")
    yield process, url
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


@pytest.fixture(scope="session")
def server_url(served) -> str:
    return served[1]


def open_viewer(browser: Browser, url: str) -> Page:
    """A new page at url, waited until Python marks it ready; every request is recorded on page.requests.
    The offline cache is blocked: filling it (~30 MB) for every test's page costs the suite ~20 s, and
    tests/browser/test_offline.py tests it."""
    page = browser.new_page(viewport={"width": 1280, "height": 800}, service_workers="block")
    page.requests = []
    page.errors = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(url)
    page.wait_for_function("document.documentElement.dataset.runtime !== 'loading'", timeout=READY_TIMEOUT_MS)
    runtime = page.evaluate("document.documentElement.dataset.runtime")
    assert runtime == "ready", page.locator("#status-text").text_content()
    settle(page)
    return page


@pytest.fixture(scope="module")
def viewer(browser, server_url) -> Iterator[Page]:
    page = open_viewer(browser, server_url)
    yield page
    page.close()


IDLE = "!globalThis.dicomviewBridge || globalThis.dicomviewBridge.idle"


def settle(page: Page) -> None:
    """Wait until Python, in its worker, has handled every input so far and finished what they started
    (site/bridge.js dicomviewBridge.idle): the page answers at once, its Python a moment later."""
    if not page.is_closed():
        page.wait_for_function(IDLE, timeout=60_000)


def _settling(method, page_of):
    """An input method that returns once the page's Python has handled the input: Playwright waits for an
    element before acting on it, this waits for the effect after (Python runs in a worker, issue 7)."""

    @functools.wraps(method)
    def act(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        page = page_of(self)
        if page is not None:
            settle(page)
        return result

    return act


INPUTS = ("click", "dblclick", "fill", "press", "type", "check", "uncheck", "select_option", "set_input_files",
          "hover", "dispatch_event", "tap", "set_checked", "press_sequentially", "drag_to")
def _devices_know_their_page(new_page):
    @functools.wraps(new_page)
    def make(self, *args, **kwargs):
        page = new_page(self, *args, **kwargs)
        for device in (page.keyboard, page.mouse, page.touchscreen):
            device.viewer_page = page  # their inputs wait for Python too (_settling)
        return page

    return make


Browser.new_page = _devices_know_their_page(Browser.new_page)
BrowserContext.new_page = _devices_know_their_page(BrowserContext.new_page)
for _cls, _names, _page_of in (
    (Page, INPUTS + ("drag_and_drop",), lambda page: page),
    (Locator, INPUTS, lambda locator: locator.page),
    (Keyboard, ("press", "type", "down", "up", "insert_text"), lambda keyboard: getattr(keyboard, "viewer_page", None)),
    (Mouse, ("move", "down", "up", "click", "dblclick", "wheel"), lambda mouse: getattr(mouse, "viewer_page", None)),
    (Touchscreen, ("tap",), lambda touchscreen: getattr(touchscreen, "viewer_page", None)),
):
    for _name in _names:
        if hasattr(_cls, _name):
            setattr(_cls, _name, _settling(getattr(_cls, _name), _page_of))


def render_count(page: Page) -> int:
    return int(page.get_attribute("canvas#image", "data-render-count") or 0)


def wait_for_render_after(page: Page, count: int) -> None:
    page.wait_for_function(
        f"Number(document.querySelector('canvas#image').dataset.renderCount || 0) > {count}", timeout=60_000)
    settle(page)


def canvas_rgba(page: Page, selector: str = "canvas#image") -> np.ndarray:
    """The canvas backing store as (height, width, 4) uint8, read with getImageData."""
    settle(page)
    encoded = page.evaluate(
        """(selector) => {
            const canvas = document.querySelector(selector);
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let text = '';
            for (let i = 0; i < data.length; i += 0x8000) {
                text += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
            }
            return [canvas.width, canvas.height, btoa(text)];
        }""",
        selector,
    )
    width, height, payload = encoded
    return np.frombuffer(base64.b64decode(payload), np.uint8).reshape(height, width, 4)


def problem_lines(page: Page) -> list[str]:
    settle(page)
    return page.eval_on_selector_all("#messages li", "items => items.map(item => item.textContent)")
