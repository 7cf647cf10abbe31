"""Chromium fixtures: serve.py on a free loopback port, one browser, and a warm viewer page per module.

Debian's chromium is driven by PyPI playwright (DESIGN §6): `playwright install` downloads a
browser and cannot work here. Python starts once per module and the page is reused.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from chromium import CHROMIUM, CHROMIUM_ARGS, settle, wait_for_python_after_inputs  # noqa: F401  (re-exported)

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


def link_or_copy(source: str, destination: str) -> None:
    """A hard link where the file system allows it (the runtime is ~30 MB), else a copy. Not a symbolic
    link: serve.py's server refuses those that lead out of its folders."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def served_copy(tmp_path: Path) -> Path:
    """The page, its Python, its config, the runtime and the package archive, for a server of its own.
    site/ is hard-linked: a test may edit py/ and replace the archive, not edit a file of site/ in place."""
    from dicomview.serving import bundle  # here: the benchmarks import this module without py/ on sys.path

    root = tmp_path / "repo"
    shutil.copytree(ROOT / "site", root / "site", copy_function=link_or_copy)
    os.unlink(root / "site" / "vendor" / bundle.ARCHIVE)  # a file of its own: the vendor step rewrites it
    shutil.copy(ROOT / "site" / "vendor" / bundle.ARCHIVE, root / "site" / "vendor" / bundle.ARCHIVE)
    shutil.copytree(ROOT / "py" / "dicomview", root / "py" / "dicomview", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyscript.toml", root / "pyscript.toml")
    return root


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


def open_viewer(browser: Browser, url: str, service_workers: str = "block") -> Page:
    """A new page at url, waited until Python marks it ready; every request is recorded on page.requests.
    The offline cache is blocked: filling it (~30 MB) for every test's page costs the suite ~20 s, and
    tests/browser/test_offline.py tests it."""
    page = browser.new_page(viewport={"width": 1280, "height": 800}, service_workers=service_workers)
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


@pytest.fixture(scope="session", autouse=True)
def inputs_wait_for_python() -> None:
    wait_for_python_after_inputs()


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
