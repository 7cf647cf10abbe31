#!/usr/bin/env python3
"""JPEG baseline in the page (not a test): time from asking for a frame to its image, for the
120-frame 640x480 YBR_FULL_422 color3d_jpeg_baseline.dcm, decoded by DCMTK's IJG codecs as WebAssembly
(npm dcmjs-codecs, the page's decoder) and, with that codec's file blocked, by Pyodide's Pillow (the
fallback); then 12-bit JPGExtended.dcm's first image. Medians printed.

    .venv/bin/python tests/bench/jpeg_dct.py
"""

import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "tests"), str(ROOT / "py")]
from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, open_viewer, render_count, start_server, wait_for_render_after  # noqa: E402
from corpus import corpus_file  # noqa: E402

FRAMES = range(1, 41)


def frame_times(page) -> list[float]:
    before = render_count(page)
    page.set_input_files("#open-files", [str(corpus_file("color3d_jpeg_baseline.dcm"))])
    wait_for_render_after(page, before)
    times = []
    for frame in FRAMES:
        before = render_count(page)
        start = time.perf_counter()
        page.eval_on_selector("#frame", f"s => {{ s.value = '{frame}'; s.dispatchEvent(new Event('input')); }}")
        wait_for_render_after(page, before)
        times.append(time.perf_counter() - start)
    return times


proc, url = start_server(sys.executable, str(ROOT / "serve.py"), "--port", "0", "--no-vendor")
try:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = open_viewer(browser, url)
        wasm = frame_times(page)
        twelve = []
        for _ in range(5):
            before = render_count(page)
            start = time.perf_counter()
            page.set_input_files("#open-files", [str(corpus_file("JPGExtended.dcm"))])
            wait_for_render_after(page, before)
            twelve.append(time.perf_counter() - start)
        page.close()
        context = browser.new_context()
        context.route("**/codecs/dcmjs/**", lambda route: route.abort())
        pillow = frame_times(open_viewer(SimpleNamespace(new_page=lambda **_: context.new_page()), url))
        browser.close()
finally:
    proc.terminate()
for name, xs in (("640x480 YBR_FULL_422 frame, dcmjs-codecs (IJG wasm)", wasm),
                 ("640x480 YBR_FULL_422 frame, Pyodide Pillow", pillow),
                 ("open 1024x256 12-bit JPGExtended.dcm to first image", twelve)):
    print(f"{name}: median {statistics.median(xs) * 1000:.0f} ms (min {min(xs) * 1000:.0f}, n={len(xs)})")
