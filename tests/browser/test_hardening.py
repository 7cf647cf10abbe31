"""Hostile input in the browser: 20 malformed files in one batch with good ones, and the CSP
blocking a request to any other origin (it must fail without the policy)."""

from __future__ import annotations

import http.server
import threading
from typing import ClassVar

import numpy as np
import pytest
from pydicom.uid import MPEG2MPML

from conftest import canvas_rgba, problem_lines, render_count, wait_for_render_after
from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.render import render_frame
from fuzz import regenerate
from synthetic import claiming, encapsulated

pytestmark = pytest.mark.browser

GOOD = ["693_UNCI.dcm", "MR_small.dcm", "US1_UNCR.dcm"]



def malformed_files() -> dict[str, bytes]:
    mr = corpus_file("MR_small.dcm").read_bytes()
    rng = np.random.default_rng(8)
    files = {f"cut-{n}.dcm": mr[:n] for n in (0, 100, 300, 1000, 5000)}
    files |= {f"random-{n}.bin": rng.bytes(n) for n in (10, 1000, 100_000)}
    files |= {
        "payload.html": b"<script>alert(1)</script><img src=x onerror=alert(2)>",
        "data.json": b'{"PatientName": "not an image"}',
        "fake.png": b"\x89PNG\r\n\x1a\n" + rng.bytes(500),
        "header-only.dcm": b"\0" * 128 + b"DICM",
        "huge.dcm": claiming(Rows=60000, Columns=60000, NumberOfFrames=1000),
        "no-rows.dcm": claiming(Rows=0),
        "bits-12.dcm": claiming(BitsAllocated=12),
        "samples-4.dcm": claiming(SamplesPerPixel=4),
        "mpeg2.dcm": encapsulated(MPEG2MPML),
        "fuzz-1-122.dcm": regenerate(1, 122),
        "fuzz-1-1353.dcm": regenerate(1, 1353),
        "fuzz-2-6488.dcm": regenerate(2, 6488),
    }
    assert len(files) == 20
    return files


def test_twenty_malformed_files_in_one_batch_leave_the_good_ones_shown(viewer, tmp_path):
    bad = malformed_files()
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    bad_names = list(bad)
    names = [*bad_names[:7], GOOD[0], *bad_names[7:14], GOOD[1], *bad_names[14:], GOOD[2]]
    paths = [str(corpus_file(n)) if n in GOOD else str(tmp_path / n) for n in names]
    before = render_count(viewer)
    viewer.set_input_files("#open-files", paths)
    viewer.wait_for_function("/image\\(s\\) open/.test(document.getElementById('status-text').textContent)",
                             timeout=60_000)
    wait_for_render_after(viewer, before)

    lines = problem_lines(viewer)
    assert len(lines) == len(bad)
    for name in bad:
        assert sum(line.startswith(f"{name}: ") for line in lines) == 1, (name, lines)
    assert any("too large to open" in line for line in lines if line.startswith("huge.dcm"))
    assert viewer.locator("#messages script, #messages img").count() == 0

    labels = viewer.eval_on_selector_all("#image-list button", "bs => bs.map(b => b.textContent.split(' · ')[0])")
    assert labels == GOOD
    for name in GOOD:  # the page still answers, and every good file renders exactly
        before = render_count(viewer)
        viewer.locator("#image-list button", has_text=name).click()
        wait_for_render_after(viewer, before)
        assert np.array_equal(canvas_rgba(viewer), render_frame(read_dataset(corpus_file(name).read_bytes())).rgba)
    assert viewer.errors == []


class CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        CountingHandler.hits.append(self.path)
        self.send_response(200)
        self.send_header("Access-Control-Allow-Origin", "*")  # so only the CSP can stop the request
        self.end_headers()
        self.wfile.write(b"leaked")

    def log_message(self, *args):
        pass


def test_the_csp_blocks_requests_to_any_other_origin(viewer):
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    CountingHandler.hits.clear()
    target = f"http://127.0.0.1:{other.server_port}/exfiltrate"
    try:
        outcome = viewer.evaluate(
            """async (url) => {
                const violations = [];
                document.addEventListener('securitypolicyviolation', e => violations.push(e.violatedDirective));
                let fetched;
                try { fetched = await (await fetch(url)).text(); } catch (error) { fetched = 'blocked'; }
                const image = new Image();
                const loaded = await new Promise(done => {
                    image.onload = () => done('loaded'); image.onerror = () => done('blocked');
                    image.src = url + '.png';
                });
                await new Promise(done => setTimeout(done, 100));
                return {fetched, loaded, violations};
            }""",
            target,
        )
    finally:
        other.shutdown()
        other.server_close()
    assert outcome["fetched"] == "blocked"
    assert outcome["loaded"] == "blocked"
    assert "connect-src" in outcome["violations"] and "img-src" in outcome["violations"]
    assert CountingHandler.hits == []
