"""Server-side rendering in the plugin: /dicomview/render/{instance} and /dicomview/thumbnail/{series}
inside a real Orthanc, compared with the CPython pipeline (dicomview.render.render_frame) on the
same files; the work runs in the plugin's process pool (spawned venv pythons, children of Orthanc)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from conftest import ROOT, OrthancServer, ensure_plugin_venv
from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.pipeline import Window
from dicomview.render import CUSTOM, render_frame


def expected_rgb(name: str, frame: int = 0, window: Window | None = None) -> np.ndarray:
    ds = read_dataset(corpus_file(name).read_bytes())
    return render_frame(ds, frame, CUSTOM if window else None, window).rgba[..., :3]


def picture(reply) -> np.ndarray:
    assert reply.status == 200, (reply.status, reply.body[:300])
    return np.asarray(Image.open(io.BytesIO(reply.body)).convert("RGB"))


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small_jpeg_ls_lossless.dcm", "SC_rgb_rle.dcm"])
def test_png_equals_the_pipeline(orthanc: OrthancServer, uploaded, name: str) -> None:
    reply = orthanc.request(f"/dicomview/render/{uploaded[name]['ID']}")
    assert reply.headers["content-type"] == "image/png"
    np.testing.assert_array_equal(picture(reply), expected_rgb(name))


def test_window_frame_and_uid(orthanc: OrthancServer, uploaded) -> None:
    uid = pydicom.dcmread(corpus_file("emri_small.dcm"), stop_before_pixels=True).SOPInstanceUID
    reply = orthanc.request(f"/dicomview/render/{uid}?frame=7&wc=300&ww=500")
    np.testing.assert_array_equal(picture(reply), expected_rgb("emri_small.dcm", 7, Window(300.0, 500.0)))
    assert not np.array_equal(picture(reply), expected_rgb("emri_small.dcm", 0, Window(300.0, 500.0)))


def test_jpeg(orthanc: OrthancServer, uploaded) -> None:
    reply = orthanc.request(f"/dicomview/render/{uploaded['CT_small.dcm']['ID']}?format=jpeg")
    assert reply.headers["content-type"] == "image/jpeg"
    got, want = picture(reply).astype(int), expected_rgb("CT_small.dcm").astype(int)
    assert got.shape == want.shape
    assert np.abs(got - want).mean() < 3  # lossy: close on average, not equal


@pytest.mark.parametrize(("query", "reason"), [
    ("frame=x", "frame='x' is not a number"), ("frame=-1", "must be 0 or more"), ("wc=40", "wc and ww go together"),
    ("wc=40&ww=0", "at least 1"), ("format=gif", "format='gif'"), ("frame=99", "frame 99 does not exist"),
])
def test_bad_requests_say_why(orthanc: OrthancServer, uploaded, query: str, reason: str) -> None:
    reply = orthanc.request(f"/dicomview/render/{uploaded['CT_small.dcm']['ID']}?{query}")
    assert reply.status in (400, 415)
    assert reason in reply.body.decode()


def test_unknown_instance_is_404(orthanc: OrthancServer, uploaded) -> None:
    for key in ("1.2.3.4.5.6.7.8.9", "00000000-00000000-00000000-00000000-00000000"):
        assert orthanc.request(f"/dicomview/render/{key}").status == 404


def test_series_thumbnail(orthanc: OrthancServer, uploaded) -> None:
    series = uploaded["SC_rgb_rle.dcm"]["ParentSeries"]
    reply = orthanc.request(f"/dicomview/thumbnail/{series}")
    want = Image.fromarray(expected_rgb("SC_rgb_rle.dcm"))
    want.thumbnail((128, 128), Image.Resampling.LANCZOS)
    np.testing.assert_array_equal(picture(reply), np.asarray(want))


def test_thumbnail_of_an_undecodable_file_uses_orthancs_transcoding(orthanc: OrthancServer, uploaded) -> None:
    """The plugin's decoders (its venv has pylibjpeg-libjpeg, not the tests' imagecodecs) cannot read this
    12-bit JPEG; Orthanc (DCMTK) can, and the thumbnail comes from that."""
    attempt = subprocess.run(
        [str(ensure_plugin_venv() / "bin" / "python"), "-c",
         "import sys; from dicomview.decode import read_dataset; from dicomview.render import render_frame; "
         "render_frame(read_dataset(open(sys.argv[1], 'rb').read()))", str(corpus_file("JPEG-lossy.dcm"))],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "py")}, timeout=120)
    assert attempt.returncode != 0 and "cannot be decoded" in attempt.stderr, attempt.stderr[-500:]
    reply = orthanc.request(f"/dicomview/thumbnail/{uploaded['JPEG-lossy.dcm']['ParentSeries']}")
    assert picture(reply).shape[2] == 3


def children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def test_rendering_runs_in_spawned_venv_workers(orthanc: OrthancServer, uploaded) -> None:
    assert orthanc.request(f"/dicomview/render/{uploaded['CT_small.dcm']['ID']}").status == 200
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in children(orthanc.process.pid)]
    workers = [command for command in commands if b"spawn_main" in b" ".join(command)]
    assert len(workers) == 2, commands  # "Workers": 2 in the fixture's configuration
    assert all(command[0].endswith(b".orthanc-venv/bin/python") for command in workers), commands
