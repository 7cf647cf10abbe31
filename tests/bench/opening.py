#!/usr/bin/env python3
"""Opening benchmark (not a test): a folder of N 512x512 16-bit CT-like slices, and the same as a zip,
opened in headless Chromium; time to "image(s) open" and to the series thumbnail, and the longest gap
between animation frames while reading (how long the page was unresponsive at worst). Medians of 3.

    .venv/bin/python tests/bench/opening.py [N]   (default 200)
"""

import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "tests"), str(ROOT / "py")]
from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, open_viewer, start_server  # noqa: E402
from dicomview.opening import Batch, Entry  # noqa: E402
from dicomview.session import Session  # noqa: E402
from synthetic import image_dataset, write_dicom  # noqa: E402

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 200
OPEN_DONE = "/image\\(s\\) open/.test(document.getElementById('status-text').textContent)"
FRAME_GAPS = """() => {
    window.gaps = []; let last = performance.now();
    const tick = (now) => { gaps.push(now - last); last = now; if (!window.stopTicks) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
}"""


def make_folder(root: Path) -> tuple[Path, Path]:
    folder = root / "series"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for number in range(COUNT):
        pixels = rng.integers(0, 4096, (512, 512))
        ds = image_dataset(pixels, StudyInstanceUID="1.2.3", SeriesInstanceUID="1.2.3.4", InstanceNumber=number + 1,
                           Modality="CT", BitsStored=12, HighBit=11)
        (folder / f"IM{number:04d}").write_bytes(write_dicom(ds))
    archive = root / "series.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(folder.iterdir()):
            zipped.write(path, f"series/{path.name}")
    return folder, archive


def cpython(folder: Path) -> float:
    start = time.perf_counter()
    batch = Batch(Session())
    batch.add([Entry(f"series/{p.name}", False, handle=p) for p in sorted(folder.iterdir())])
    batch.run(lambda entry: entry.handle.read_bytes())
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder, archive = make_folder(Path(tmp))
        print(f"{COUNT} files of 512x512x16 bit, {sum(p.stat().st_size for p in folder.iterdir()) / 1e6:.0f} MB; "
              f"zip {archive.stat().st_size / 1e6:.0f} MB")
        native = statistics.median(cpython(folder) for _ in range(3))
        print(f"CPython Batch.run (read + parse + arrange): {native:.2f} s")
        process, url = start_server(sys.executable, str(ROOT / "serve.py"), "--port", "0", "--no-vendor")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for label, selector, path in (("folder", "#open-folder", folder), ("zip", "#open-files", archive)):
                    opened, thumbs, worst = [], [], []
                    for _ in range(3):
                        page = open_viewer(browser, url)
                        page.evaluate(FRAME_GAPS)
                        start = time.perf_counter()
                        page.set_input_files(selector, str(path))
                        page.wait_for_function(OPEN_DONE, timeout=600_000)
                        opened.append(time.perf_counter() - start)
                        page.wait_for_function("document.querySelector('#series-list canvas')?.dataset.sopInstanceUid",
                                               timeout=600_000)
                        thumbs.append(time.perf_counter() - start)
                        worst.append(max(page.evaluate("window.stopTicks = true; window.gaps")))
                        page.close()
                    print(f"{label}: open {statistics.median(opened):.2f} s, "
                          f"thumbnail {statistics.median(thumbs):.2f} s, "
                          f"longest frame gap while reading {statistics.median(worst):.0f} ms (median of 3)")
                browser.close()
        finally:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
