#!/usr/bin/env python3
"""Benchmark (not a test): dicomview against dwv (npm) in the same headless Chromium, medians and ratios.

    .venv/bin/python tests/bench/run.py      # 5 runs; table printed and written to tests/.cache/bench/results.md
    .venv/bin/python tests/bench/run.py --runs 3 --only dicomview --out results.md

Issue 7 and issue 4. Each run starts a new browser profile (empty caches) per viewer and measures:
cold start and reload to data-runtime=ready (dicomview's reload once its offline cache controls the
page, as a returning user's); time from opening a file to its first image; window/level
by real left-drag on a 512x512 and a 1760x1760 image (main-thread time per update and updates per
second); loading a 300-slice 512x512 CT series (the longest task that blocked the page meanwhile, with
the browser's own task that builds the chosen FileList before the change event on a line of its own;
the JS heap peak and the WebAssembly memory); stack scrolling by wheel (time per slice, slices per
second), and for dicomview the series played as cine at 60 fps (slices shown per second). dwv 0.36.4
and its dependencies are installed with npm into tests/.cache/bench/dwv (git-ignored) and served from
there, with a benchmark-only page, on a loopback port; the data are written with pydicom into
tests/.cache/bench/data. Times are read on the page's own clock (performance.now)
by tests/bench/probe.js; nothing here is a pass/fail threshold.
"""

from __future__ import annotations

import argparse
import http.server
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = ROOT / "tests" / ".cache" / "bench"
sys.path[:0] = [str(HERE), str(ROOT / "tests" / "browser"), str(ROOT / "tests"), str(ROOT / "py")]

import data  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from timings import Record, median, summarise  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, READY_TIMEOUT_MS, start_server  # noqa: E402
from dicomview.serving import static  # noqa: E402

PROBE = (HERE / "probe.js").read_text()
DWV_PAGE = HERE / "dwv_page"
LOAD_TIMEOUT_MS = 600_000
DRAG_MOVES = 120
WHEEL_STEPS = 120
FIRST_RENDER = "__bench.marks.change !== undefined && __bench.renders.some(t => t > __bench.marks.change)"


@dataclass(frozen=True)
class Viewer:
    name: str
    url: str
    target: str  # the element dragged and scrolled on
    series_loaded: str  # JS condition: the whole series is loaded and shown
    before_scroll: str = ""  # JS run before the series is opened (dwv: pick its Scroll tool)
    offline_cache: bool = False  # registers a service worker (dicomview's site/sw.js) on its first visit
    stack_playback: bool = False  # plays a series as cine (dwv's benchmark page has no such control)


# --- setting up: dwv from npm, a loopback server for it, the data --------------------------------------
def install_dwv(cache: Path) -> Path:
    """Copy the benchmark page into the cache and npm-install its pinned packages there once."""
    folder = cache / "dwv"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(DWV_PAGE, folder, dirs_exist_ok=True)
    wanted = json.loads((DWV_PAGE / "package.json").read_text())["dependencies"]["dwv"]
    installed = folder / "node_modules" / "dwv" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != wanted:
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--omit=dev"], cwd=folder, check=True)
    return folder


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        for name, value in static.ISOLATION_HEADERS.items():  # as dicomview's: the same memory measurement
            self.send_header(name, value)
        super().end_headers()


def serve_folder(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# --- driving a page --------------------------------------------------------------------------------------
def wait_ready(page: Page) -> float:
    page.wait_for_function("document.documentElement.dataset.runtime !== 'loading'", timeout=READY_TIMEOUT_MS)
    state = page.evaluate("document.documentElement.dataset.runtime")
    if state != "ready":
        raise RuntimeError(f"{page.url} did not start: {state}")
    return page.evaluate("__bench.marks.ready")


def settle(page: Page) -> None:
    """Two animation frames: a render queued for the next frame has happened."""
    page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def open_files(page: Page, files: list[Path], loaded: str) -> Record:
    page.evaluate("__bench.reset()")
    page.set_input_files("#open-files", [str(path) for path in files])
    page.wait_for_function(loaded, timeout=LOAD_TIMEOUT_MS, polling=50)
    settle(page)
    return Record(**page.evaluate("__bench.take()"))


def centre(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_window(page: Page, viewer: Viewer) -> Record:
    """A real left-drag (CDP mouse events) in a zig-zag: every move changes the window."""
    x, y = centre(page, viewer.target)
    page.mouse.move(x, y)
    page.mouse.down()
    page.evaluate("__bench.reset()")
    for step in range(1, DRAG_MOVES + 1):
        page.mouse.move(x + 3 * (step % 40), y + 2 * ((step // 40) % 2 * 20 + step % 20))
    page.mouse.up()
    settle(page)
    return Record(**page.evaluate("__bench.take()"))


def scroll_stack(page: Page, viewer: Viewer) -> Record:
    """Wheel notches over the image, towards the end of the stack that has slices left (the viewers
    start at opposite ends and map the wheel's sign the other way round)."""
    x, y = centre(page, viewer.target)
    page.mouse.move(x, y)
    page.evaluate("__bench.reset()")
    page.mouse.wheel(0, 100)
    settle(page)
    delta = 100 if page.evaluate("__bench.renders.length") else -100
    page.evaluate("__bench.reset()")
    for _ in range(WHEEL_STEPS):
        page.mouse.wheel(0, delta)
    settle(page)
    return Record(**page.evaluate("__bench.take()"))


def play_stack(page: Page, fps: int = 60, seconds: float = 3.0) -> float:
    """The open series played as cine at `fps` (rendering each slice in turn, as fast scrolling does, but
    paced by the page's frames rather than by how fast CDP sends wheel notches): slices shown per second."""
    page.fill("#cine-fps", str(fps))
    page.press("#cine-fps", "Tab")
    page.evaluate("__bench.reset()")
    page.click("#cine-play")
    page.wait_for_timeout(seconds * 1000)
    page.click("#cine-play")
    return Record(**page.evaluate("__bench.take()")).render_rate()


def progress(viewer: Viewer, step: str) -> None:
    print(f"  {viewer.name}: {step}", file=sys.stderr, flush=True)


def measure(chromium, launch: dict, viewer: Viewer, cases: dict[str, list[Path]]) -> dict[str, float]:
    """One run of every measurement for one viewer, in a new browser profile on disk: the cold start
    has empty HTTP and code caches, and the reload uses them as a user's browser does (an incognito
    context's memory cache does not keep the 10 MB WebAssembly response)."""
    with tempfile.TemporaryDirectory(prefix="dicomview-bench-") as profile:
        context = chromium.launch_persistent_context(profile, viewport={"width": 1280, "height": 900}, **launch)
        try:
            return measure_in(context, viewer, cases)
        finally:
            context.close()


CONTROLLED = "navigator.serviceWorker.controller !== null"
MEASURE_MEMORY = "performance.measureUserAgentSpecificMemory().then((measured) => measured.bytes)"
# dicomview's Python heap, read in its worker (py/dicomview/web/main.py); 0 in any other worker
PYTHON_HEAP = "globalThis.dicomviewPythonHeapBytes ? globalThis.dicomviewPythonHeapBytes() : 0"


def measure_in(context, viewer: Viewer, cases: dict[str, list[Path]]) -> dict[str, float]:
    context.add_init_script(PROBE)
    page = context.new_page()
    out: dict[str, float] = {}
    progress(viewer, "cold start, reload")
    page.goto(viewer.url)
    out["cold start to ready (ms)"] = wait_ready(page)
    if viewer.offline_cache:  # a warm reload: once the offline cache is filled and controls the page, as
        page.wait_for_function(CONTROLLED, timeout=READY_TIMEOUT_MS)  # in startup.py
    page.reload()
    out["reload to ready (ms)"] = wait_ready(page)
    for case, label in (("ct512", "512x512"), ("img1760", "1760x1760")):
        if case != "ct512":
            page.reload()
            wait_ready(page)
        progress(viewer, f"open and drag {label}")
        opened = open_files(page, cases[case], FIRST_RENDER)
        out[f"open to first image, {label} (ms)"] = opened.first_render_after("change")
        dragged = drag_window(page, viewer)
        out[f"window/level, {label}: main-thread ms per update"] = median(dragged.update_costs())
        out[f"window/level, {label}: updates per second"] = dragged.render_rate()
    page.reload()
    wait_ready(page)
    if viewer.before_scroll:
        page.evaluate(viewer.before_scroll)
    progress(viewer, "open the 300-slice series, scroll")
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    series = open_files(page, cases["series300"], viewer.series_loaded)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    out["300-slice series: open to loaded (ms)"] = series.loaded_after("change")
    out["300-slice series: the browser's task handing over the chosen files (ms)"] = series.task_until("change")
    out["300-slice series: longest blocking task while loading (ms)"] = series.longest_task_after("change")
    heap = max(series.jsHeapPeak, metrics.get("JSHeapUsedSize", 0))
    wasm = series.wasmBytes
    out["300-slice series: page's JS heap peak (MB)"] = heap / 1e6
    out["300-slice series: page's WebAssembly memory (MB)"] = wasm / 1e6
    # Everything the tab holds, its workers included (dicomview's Python runs in one): the browser's own
    # count, which needs a cross-origin isolated page (both pages are served so).
    measured = page.evaluate(MEASURE_MEMORY)
    python_heap = sum(worker.evaluate(PYTHON_HEAP) for worker in page.workers)  # not in `measured`
    total = measured + python_heap
    out["300-slice series: the browser's measurement of the page and its workers (MB)"] = measured / 1e6
    out["300-slice series: Python's heap in the worker (MB)"] = python_heap / 1e6
    out["300-slice series: memory / pixel bytes"] = total / data.SERIES_PIXEL_BYTES
    scrolled = scroll_stack(page, viewer)
    out["scroll: main-thread ms per slice"] = median(scrolled.update_costs())
    out["scroll: slices per second the main thread sustains (1000 / ms per slice)"] = 1000 / median(
        scrolled.update_costs())
    out["scroll: slices per second reached (wheel events as fast as CDP sends them)"] = scrolled.render_rate()
    if viewer.stack_playback:
        out["stack playback at 60 asked: slices per second shown"] = play_stack(page)
    return out


# --- the command ------------------------------------------------------------------------------------------
TARGETS = {
    "cold start to ready (ms)": "<= 3000",
    "reload to ready (ms)": "<= 1500",
    "window/level, 512x512: main-thread ms per update": "<= 16",
    "scroll: slices per second the main thread sustains (1000 / ms per slice)": ">= 60",
    "300-slice series: open to loaded (ms)": "<= 3000",
    "300-slice series: longest blocking task while loading (ms)": "< 50",
    "300-slice series: memory / pixel bytes": "<= 1.3",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per viewer (default 5); medians are printed")
    parser.add_argument("--only", choices=("dicomview", "dwv"), help="measure one viewer only")
    parser.add_argument("--out", type=Path, default=CACHE / "results.md", help="markdown table written here")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"browser binary (default {CHROMIUM})")
    args = parser.parse_args(argv)

    cases = data.write_data(CACHE / "data")
    dwv_folder = install_dwv(CACHE)
    ours, ours_url = start_server(sys.executable, str(ROOT / "serve.py"), "--port", "0", "--no-vendor")
    dwv_server, dwv_url = serve_folder(dwv_folder)
    viewers = [
        Viewer("dicomview", ours_url, "canvas#image", FIRST_RENDER,  # it shows a series once all is read
               offline_cache=True, stack_playback=True),
        Viewer("dwv", dwv_url, "#layerGroup0", "__bench.marks.loaded !== undefined", "benchSetTool('Scroll')"),
    ]
    viewers = [v for v in viewers if args.only in (None, v.name)]
    results: dict[str, list[dict[str, float]]] = {v.name: [] for v in viewers}
    started = time.perf_counter()
    try:
        with sync_playwright() as playwright:
            launch = {"executable_path": args.chromium, "args": [*CHROMIUM_ARGS, "--enable-precise-memory-info",
                                                                          "--enable-blink-features=ForceEagerMeasureMemory"]}
            browser = playwright.chromium.launch(**launch)
            version = browser.version
            browser.close()
            for run in range(args.runs):
                for viewer in viewers:  # interleaved: both viewers see the same machine load
                    results[viewer.name].append(measure(playwright.chromium, launch, viewer, cases))
                    print(f"run {run + 1}/{args.runs} {viewer.name}: done", file=sys.stderr, flush=True)
    finally:
        dwv_server.shutdown()
        ours.send_signal(signal.SIGINT)
        ours.wait(timeout=10)
    table = summarise(results, TARGETS)
    heading = (f"Chromium {version}, {args.runs} run(s) per viewer, medians (min-max); ratio = dicomview / dwv; "
               f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {time.perf_counter() - started:.0f} s\n\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(heading + table)
    print(heading + table)
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
