#!/usr/bin/env python3
"""Volume views in Chromium (not a test): open a 300-slice 512x512 int16 CT phantom (300 files written
with pydicom), build the volume, and print Pyodide's WebAssembly memory (it only grows: the peak) after
start-up, after opening the files and after building the views; then the median time of a crosshair
click (three views resliced and drawn), over 9 clicks.

    .venv/bin/python tests/bench/mpr_browser.py [--slices 300] [--size 512]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "tests"), str(ROOT / "py")]
from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, open_viewer, start_server, wait_for_render_after  # noqa: E402
from synthetic import body_phantom, phantom_series  # noqa: E402

MIB = 1 << 20


def wasm_memory(page) -> int:
    return int(page.evaluate("document.querySelector('#mpr')?.dataset.wasmMemoryBytes || 0"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dicomview-bench-") as tmp:
        paths = []
        for name, data in phantom_series(body_phantom(args.slices, args.size), (1.0, 0.7, 0.7)):
            (Path(tmp) / name).write_bytes(data)
            paths.append(str(Path(tmp) / name))
        proc, url = start_server(sys.executable, str(ROOT / "serve.py"), "--port", "0", "--no-vendor")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = open_viewer(browser, url)
                start = time.perf_counter()
                page.set_input_files("#open-files", paths)
                wait_for_render_after(page, 0)
                page.wait_for_function(f"document.querySelectorAll('#image-list button').length === {len(paths)}",
                                       timeout=600000)
                opened = time.perf_counter() - start
                page.wait_for_timeout(500)  # the last renders of the 2-D view
                after_open = int(page.get_attribute("#volume-toggle", "data-wasm-memory-bytes"))
                start = time.perf_counter()
                page.click("#volume-toggle")
                page.wait_for_function("document.querySelector('#mpr')?.dataset.wasmMemoryBytes", timeout=600000)
                built = time.perf_counter() - start
                peak = wasm_memory(page)
                box = page.locator('canvas[data-view="axial"]').bounding_box()
                clicks = []
                for n in range(9):
                    before = int(page.get_attribute('canvas[data-view="sagittal"]', "data-render-count"))
                    start = time.perf_counter()
                    page.mouse.click(box["x"] + box["width"] * (0.2 + 0.07 * n), box["y"] + box["height"] * 0.5)
                    page.wait_for_function("Number(document.querySelector('canvas[data-view=\"sagittal\"]')"
                                           f".dataset.renderCount) > {before}")
                    clicks.append((time.perf_counter() - start) * 1000)
                print(f"{args.slices} files of {args.size}x{args.size} int16 opened in {opened:.1f} s; "
                      f"volume views built in {built:.1f} s")
                print(f"Pyodide WebAssembly memory after opening the files: {after_open / MIB:.0f} MiB; "
                      f"after building the views (the peak so far): {peak / MIB:.0f} MiB "
                      f"(the volume itself: {args.slices * args.size * args.size * 2 / MIB:.0f} MiB)")
                print(f"crosshair click to three views redrawn: median {statistics.median(clicks):.0f} ms")
                browser.close()
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
