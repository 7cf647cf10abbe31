#!/usr/bin/env python3
"""Cine benchmark (not a test): frames shown per second while playing, against the rate asked for,
in headless Chromium; 3-second windows, 5 runs each, medians printed.

    .venv/bin/python tests/bench/cine.py

A rate below the one asked for means renders (decode + pipeline + annotation layer) take longer than
a frame's time; the player then skips frames rather than falling behind.
"""

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "tests"), str(ROOT / "py")]
from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, open_viewer, start_server, wait_for_render_after  # noqa: E402
from corpus import corpus_file  # noqa: E402

CASES = (  # file, fps asked for (None: the file's own rate)
    ("emri_small.dcm", None), ("emri_small.dcm", 60), ("examples_ybr_color.dcm", None),
    ("color3d_jpeg_baseline.dcm", None), ("rtdose.dcm", 30),
)
WINDOW_MS = 3000
CLOCK = "[performance.now(), Number(document.querySelector('canvas#image').dataset.renderCount)]"

proc, url = start_server(sys.executable, str(ROOT / "serve.py"), "--port", "0", "--no-vendor")
try:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = open_viewer(browser, url)
        for name, fps in CASES:
            count = int(page.get_attribute("canvas#image", "data-render-count") or 0)
            page.set_input_files("#open-files", [str(corpus_file(name))])
            wait_for_render_after(page, count)
            if fps is not None:
                page.fill("#cine-fps", str(fps))
                page.press("#cine-fps", "Tab")
            asked = float(page.input_value("#cine-fps"))
            shown = []
            for _ in range(5):
                page.click("#cine-play")
                start = page.evaluate(CLOCK)
                page.wait_for_timeout(WINDOW_MS)
                end = page.evaluate(CLOCK)
                page.click("#cine-play")
                shown.append((end[1] - start[1]) / ((end[0] - start[0]) / 1000))
            print(f"{name:28s} asked {asked:6.2f} fps  shown {statistics.median(shown):6.2f} fps (median of 5)")
        browser.close()
finally:
    proc.kill()
