#!/usr/bin/env python3
"""Where dicomview's start-up time goes (not a test): cold start and reload in headless Chromium, each
split into steps on the page's own clock (performance.now, 0 = navigation start), medians of N runs.

    .venv/bin/python tests/bench/startup.py [--runs 5] [--no-service-worker]

Each run uses a new browser profile on disk, as a user's browser has. The reload waits until the
offline cache (site/sw.js) controls the page, unless --no-service-worker blocks it (the 304 path).
Steps come from Resource Timing (when each runtime file arrived) and the marks main.py sets
(dicomview:main when PyScript runs it, :packages once numpy's and pydicom's wheels are in place,
:imported after the imports, which now include unpacking and linking numpy's extensions).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "tests")]
from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, READY_TIMEOUT_MS, start_server  # noqa: E402

FILES = ['boot.js', 'core.js', 'pyscript.toml', 'pyodide.mjs', 'pyodide.asm.js', 'pyodide.asm.wasm', 'python_stdlib',
         'pyodide-lock.json', 'dicomview/__init__.py', 'dicomview.zip', 'numpy-', 'pillow-', 'pydicom-', 'codecs/']
# PyScript's own steps in its worker (py:progress events, forwarded to the page): the [files] phase.
PROGRESS = ["Loading Pyodide", "Loading files", "Loaded files", "Loaded Pyodide"]
# Resource timings of one global scope (the page, or its Python worker, which fetches the runtime), on
# the page's clock: a worker's entries start at its own time origin.
RESOURCES = """(pageOrigin) => {
    const shift = performance.timeOrigin - pageOrigin;
    return performance.getEntriesByType('resource').map(
        e => [e.name, e.startTime + shift, e.responseEnd + shift, e.transferSize]);
}"""
MARKS = """() => {
    const mark = (name) => (performance.getEntriesByName(name)[0] || {startTime: NaN}).startTime;
    return {'main.py starts': [mark('dicomview:main')], 'packages loaded': [mark('dicomview:packages')],
            'app imported': [mark('dicomview:imported')], 'ready': [window.readyAt]};
}"""


def timeline(page) -> dict[str, list[float]]:
    origin = page.evaluate("performance.timeOrigin")
    entries = [entry for scope in (page, *page.workers) for entry in scope.evaluate(RESOURCES, origin)]
    out: dict[str, list[float]] = {}
    for part in FILES:
        found = next((entry for entry in entries if part in entry[0]), None)
        out["fetched " + part] = found[1:] if found else [float("nan"), float("nan"), 0]
    progress = page.evaluate("window.progressAt")
    out.update({"PyScript: " + step: [progress.get(step, float("nan"))] for step in PROGRESS})
    out.update(page.evaluate(MARKS))
    out["bytes transferred"] = [sum(entry[3] for entry in entries)]
    return out


READY_AT = """new MutationObserver(() => {
    if (document.documentElement.dataset.runtime === 'ready' && !window.readyAt) window.readyAt = performance.now();
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-runtime']});
window.progressAt = {};
addEventListener('py:progress', (event) => { window.progressAt[event.detail] ??= performance.now(); });"""


CONTROLLED = "navigator.serviceWorker.controller !== null"


def load(page, action) -> dict[str, list[float]]:
    action()
    page.wait_for_function("window.readyAt !== undefined", timeout=READY_TIMEOUT_MS)
    return timeline(page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-service-worker", action="store_true", help="block site/sw.js (reload revalidates)")
    args = parser.parse_args()
    proc, url = start_server(sys.executable, str(ROOT / "serve.py"), "--port", "0", "--no-vendor")
    runs: dict[str, list[dict]] = {"cold start": [], "reload": []}
    try:
        with sync_playwright() as p:
            for _ in range(args.runs):  # a new profile on disk each run: empty caches, then a user's reload
                with tempfile.TemporaryDirectory(prefix="dicomview-startup-") as profile:
                    context = p.chromium.launch_persistent_context(
                        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                        service_workers="block" if args.no_service_worker else "allow")
                    context.add_init_script(READY_AT)
                    page = context.new_page()
                    runs["cold start"].append(load(page, partial(page.goto, url)))
                    if not args.no_service_worker:
                        page.wait_for_function(CONTROLLED, timeout=READY_TIMEOUT_MS)
                    runs["reload"].append(load(page, page.reload))
                    context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    for name, samples in runs.items():
        print(f"\n{name} (ms after navigation, median of {len(samples)}; fetch start -> arrived, KB sent)")
        for step in samples[0]:
            columns = list(zip(*(sample[step] for sample in samples), strict=True))
            cells = [statistics.median(column) for column in columns]
            if step == "bytes transferred":
                print(f"  {step:32s} {cells[0] / 1e6:8.1f} MB")
            elif len(cells) == 3:
                print(f"  {step:32s} {cells[0]:8.0f} -> {cells[1]:6.0f}  {cells[2] / 1e3:8.0f} KB")
            else:
                print(f"  {step:32s} {cells[0]:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
