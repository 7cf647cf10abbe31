"""Debian's Chromium driven by PyPI playwright (DESIGN §6): `playwright install` downloads a browser and
cannot work here. One place for the binary and its flags, shared by the tests and the benchmarks."""

from __future__ import annotations

import functools

from playwright.sync_api import Browser, BrowserContext, Keyboard, Locator, Mouse, Page, Touchscreen

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


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
        if page is not None and getattr(page, "settle_inputs", True):
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


def _device_page(device) -> Page | None:
    return getattr(device, "viewer_page", None)


def wait_for_python_after_inputs() -> None:
    """Every Playwright input of the browser tests returns once the page's Python has handled it (not in
    the benchmarks, which import this module for its constants and measure the raw timings)."""
    Browser.new_page = _devices_know_their_page(Browser.new_page)
    BrowserContext.new_page = _devices_know_their_page(BrowserContext.new_page)
    for cls, names, page_of in (
        (Page, (*INPUTS, "drag_and_drop"), lambda page: page),
        (Locator, INPUTS, lambda locator: locator.page),
        (Keyboard, ("press", "type", "down", "up", "insert_text"), _device_page),
        (Mouse, ("move", "down", "up", "click", "dblclick", "wheel"), _device_page),
        (Touchscreen, ("tap",), _device_page),
    ):
        for name in names:
            if hasattr(cls, name):
                setattr(cls, name, _settling(getattr(cls, name), page_of))
