"""High-Throughput JPEG 2000 (HTJ2K, ISO 15444-15) in the browser through OpenJPH built as WebAssembly
(npm @cornerstonejs/codec-openjph), checked against truths that do not come from that decoder.

Neither corpus holds an HTJ2K file, so they are made here out of real pixel data: each frame of a
corpus file is encoded losslessly by OpenJPH's WebAssembly encoder run under Node.js
(tests/openjph.cjs) and wrapped with pydicom (encapsulate, the source's attributes, an HTJ2K transfer
syntax). Lossless means the truth is the source file's own pixels: the page must render each HTJ2K file
bit for bit as CPython renders the source file, and CPython's own HTJ2K decoder (pylibjpeg-openjpeg,
OpenJPEG 2.5) must give the source's stored values back.

Lossy HTJ2K has no such truth and two conforming decoders may round differently: OpenJPEG and OpenJPH
differ by one stored unit on up to a few per cent of samples. There the page must show exactly what OpenJPH
decodes under Node.js (clamped to the precision, as OpenJPEG does), and where the two decoders agree
exactly what CPython shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pydicom
import pytest
from pydicom.uid import HTJ2K, HTJ2KLossless, HTJ2KLosslessRPCL

from conftest import canvas_rgba, open_viewer, problem_lines, render_count, wait_for_render_after
from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.render import render_frame
from synthetic import (
    OpenJPHUnavailable,
    htj2k_decode,
    htj2k_from,
    image_dataset,
    stored_frames,
    uncompressed_twin,
)

pytestmark = pytest.mark.browser

# name: (source, transfer syntax, reversible colour transform)
LOSSLESS = {
    "ct_signed_14bit.dcm": ("693_UNCR.dcm", HTJ2KLossless, False),
    "mr_signed_16bit_rpcl.dcm": ("MR_small.dcm", HTJ2KLosslessRPCL, False),
    "mr_12bit_10_frames.dcm": ("emri_small.dcm", HTJ2KLossless, False),
    "us_rgb_rct.dcm": ("US1_UNCR.dcm", HTJ2KLossless, True),
    "us_rgb_no_transform.dcm": ("US1_UNCR.dcm", HTJ2K, False),  # a lossless codestream under the general syntax
}
# name: (source, irreversible colour transform, quantization step)
LOSSY = {
    "ct_lossy.dcm": ("693_UNCR.dcm", False, 0.005),
    "us_rgb_lossy_ict.dcm": ("US1_UNCR.dcm", True, 0.005),
    "checkerboard_12bit_lossy.dcm": (None, False, 0.05),  # rings past 4095: the precision clamp
}


@dataclass(frozen=True)
class Made:
    path: Path
    codestreams: list[bytes]
    source: pydicom.Dataset


def checkerboard_12bit() -> pydicom.Dataset:
    """0 and 4095 in 2x2 squares: lossy coding rings past the 12-bit range (OpenJPH returns 4096)."""
    y, x = np.mgrid[0:64, 0:64]
    return image_dataset(np.where((x // 2 + y // 2) % 2, 4095, 0), BitsStored=12, HighBit=11)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Made]:
    """Every HTJ2K file of this module, written into a temporary folder."""
    folder = tmp_path_factory.mktemp("htj2k")
    todo = [(name, corpus_file(source), dict(transfer_syntax=syntax, colour_transform=rct))
            for name, (source, syntax, rct) in LOSSLESS.items()]
    todo += [(name, source and corpus_file(source), dict(transfer_syntax=HTJ2K, colour_transform=ict,
                                                        lossless=False, quantization_step=step))
             for name, (source, ict, step) in LOSSY.items()]
    files = {}
    try:
        for name, source, options in todo:
            ds = pydicom.dcmread(source) if source else checkerboard_12bit()
            data, codestreams = htj2k_from(ds, **options)
            (folder / name).write_bytes(data)
            files[name] = Made(folder / name, codestreams, ds)
    except OpenJPHUnavailable as exc:
        pytest.skip(f"cannot make HTJ2K files here: {exc}")
    return files


def open_in(page, path: Path) -> None:
    before = render_count(page)
    page.set_input_files("#open-files", [str(path)])
    wait_for_render_after(page, before)
    assert not [line for line in problem_lines(page) if line.startswith(f"{path.name}: ")]


def show_frame(page, frame: int) -> None:
    before = render_count(page)
    page.eval_on_selector("#frame", f"s => {{ s.value = '{frame}'; s.dispatchEvent(new Event('input')); }}")
    wait_for_render_after(page, before)
    assert page.get_attribute("canvas#image", "data-frame") == str(frame)


def source_render(name: str, frame: int = 0) -> np.ndarray:
    """CPython's rendering of the uncompressed corpus file an HTJ2K file was made from."""
    return render_frame(read_dataset(corpus_file(LOSSLESS[name][0]).read_bytes()), frame).rgba


def test_made_files_are_htj2k(made):
    """Each frame is a High-Throughput codestream: CAP marker, HT code blocks, the 5-3 wavelet for
    lossless; RPCL with a TLM marker for HTJ2K Lossless RPCL, as DICOM requires of that syntax."""
    for name, item in made.items():
        ds = read_dataset(item.path.read_bytes())
        assert ds.file_meta.TransferSyntaxUID == LOSSLESS.get(name, (None, HTJ2K))[1]
        assert len(item.codestreams) == int(ds.get("NumberOfFrames", 1) or 1)
        for codestream in item.codestreams:
            header = codestream[: codestream.index(b"\xff\x90")]  # the main header ends at the first SOT
            assert header.startswith(b"\xff\x4f\xff\x51") and b"\xff\x50" in header, name
            cod = header.index(b"\xff\x52")
            progression, block_style, wavelet = header[cod + 5], header[cod + 12], header[cod + 13]
            assert block_style & 0x40, name
            assert wavelet == (1 if name in LOSSLESS else 0), name
            if name == "mr_signed_16bit_rpcl.dcm":
                assert progression == 2 and b"\xff\x55" in header


@pytest.mark.parametrize("name", list(LOSSLESS))
def test_cpython_decodes_htj2k_to_the_source_pixels(made, name):
    """pylibjpeg-openjpeg (OpenJPEG 2.5) under CPython: an HTJ2K decoder independent of OpenJPH."""
    ds = read_dataset(made[name].path.read_bytes())
    assert np.array_equal(stored_frames(ds), stored_frames(made[name].source))
    for frame in range(int(ds.get("NumberOfFrames", 1) or 1)):
        assert np.array_equal(render_frame(ds, frame).rgba, source_render(name, frame))


@pytest.mark.parametrize("name", list(LOSSLESS))
def test_page_renders_htj2k_as_cpython_renders_the_source(viewer, made, name):
    open_in(viewer, made[name].path)
    assert np.array_equal(canvas_rgba(viewer), source_render(name))


def test_htj2k_frames_beyond_the_first(viewer, made):
    name = "mr_12bit_10_frames.dcm"
    open_in(viewer, made[name].path)
    for frame in (4, 9):
        show_frame(viewer, frame)
        assert np.array_equal(canvas_rgba(viewer), source_render(name, frame)), frame


@pytest.mark.parametrize("name", list(LOSSY))
def test_lossy_htj2k_is_openjphs_decoding_and_agrees_with_cpython(viewer, made, name):
    item = made[name]
    source, bits = item.source, int(item.source.BitsStored)
    signed = bool(source.PixelRepresentation)
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    openjph = np.clip(htj2k_decode(item.codestreams, stored_frames(source).shape, bits, signed), low, high)
    lossy = read_dataset(item.path.read_bytes())
    openjpeg = stored_frames(lossy)
    assert not np.array_equal(openjpeg, stored_frames(source)), "the file is not lossy"
    disagree = np.abs(openjph.astype(np.int32) - openjpeg) > 0
    assert np.abs(openjph.astype(np.int32) - openjpeg).max() <= 1
    assert disagree.mean() < 0.05, f"the decoders disagree on {disagree.mean():.2%} of samples"

    open_in(viewer, item.path)
    ours = canvas_rgba(viewer)
    assert np.array_equal(ours, render_frame(read_dataset(uncompressed_twin(source, openjph))).rgba)
    agree = ~(disagree[0].any(axis=-1) if disagree.ndim == 4 else disagree[0])
    assert np.array_equal(ours[agree], render_frame(lossy).rgba[agree])


def test_page_names_the_file_when_the_htj2k_codec_cannot_load(browser, server_url, made):
    """Without OpenJPH (its files unreachable) the other codecs still load and an HTJ2K file gets a line
    in #messages naming it and its transfer syntax."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/codecs/openjph/**", lambda route: route.abort())
    try:
        page = open_viewer(SimpleNamespace(new_page=lambda **_: context.new_page()), server_url)
        path = made["mr_signed_16bit_rpcl.dcm"].path
        page.set_input_files("#open-files", [str(path)])
        page.wait_for_function("document.querySelectorAll('#messages li').length > 0", timeout=20_000)
        lines = problem_lines(page)
        assert len(lines) == 1 and lines[0].startswith(f"{path.name}: "), lines
        assert HTJ2KLosslessRPCL in lines[0] and "not supported" in lines[0], lines
        open_in(page, corpus_file("MR_small_jp2klossless.dcm"))  # JPEG 2000 (OpenJPEG) still decodes
    finally:
        context.close()
