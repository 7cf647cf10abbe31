#!/usr/bin/env python3
"""Start-up benchmark (not a test): cold start and reload to data-runtime=ready, and the time from
opening a 512x512 CT to its first image, in headless Chromium, 5 runs each, medians printed.

    .venv/bin/python tests/bench/startup.py

The seed of issue 7's benchmark; dwv is not compared here yet.
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser"), str(ROOT / "py")]
from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_for_render_after  # noqa: E402
from corpus import corpus_file  # noqa: E402

proc, url = start_server(sys.executable, str(ROOT / "serve.py"), "--port", "0", "--no-vendor")
cold, warm, first = [], [], []
with sync_playwright() as p:
    b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    for _ in range(5):
        ctx = b.new_context()
        page = ctx.new_page()
        t = time.perf_counter()
        page.goto(url)
        page.wait_for_function("document.documentElement.dataset.runtime === 'ready'", timeout=120000)
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        page.reload()
        page.wait_for_function("document.documentElement.dataset.runtime === 'ready'", timeout=120000)
        warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        page.set_input_files("#open-files", [str(corpus_file("693_UNCI.dcm"))])
        wait_for_render_after(page, 0)
        first.append(time.perf_counter() - t)
        ctx.close()
proc.terminate()
for name, xs in (("cold start to ready", cold), ("reload to ready", warm), ("open 512x512 CT to first image", first)):
    print(f"{name}: median {statistics.median(xs):.2f} s (min {min(xs):.2f}, max {max(xs):.2f}, n={len(xs)})")
