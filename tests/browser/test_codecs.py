"""Compressed transfer syntaxes and colour models in the browser, each compared bit for bit with CPython.

JPEG baseline and 12-bit JPEG Extended by DCMTK's IJG codecs as WebAssembly (npm dcmjs-codecs) in the browser
and by libjpeg-turbo under CPython (PyPI Pillow for 8-bit, PyPI imagecodecs for 12-bit);
JPEG-LS by CharLS built as WebAssembly (npm @cornerstonejs/codec-charls) and by PyPI pyjpegls (CharLS);
JPEG 2000 by OpenJPEG as WebAssembly (npm @cornerstonejs/codec-openjpeg) and by PyPI pylibjpeg-openjpeg;
JPEG Lossless by npm jpeg-lossless-decoder-js and by PyPI pylibjpeg-libjpeg.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import canvas_rgba, open_viewer, problem_lines, render_count, wait_for_render_after
from corpus import ONE_FILE_PER_SYNTAX, corpus_file
from dicomview.decode import read_dataset
from dicomview.render import render_frame
from synthetic import jpeg_without_scan

pytestmark = pytest.mark.browser


def browser_and_cpython(page, name: str) -> tuple[np.ndarray, np.ndarray]:
    before = render_count(page)
    page.set_input_files("#open-files", [str(corpus_file(name))])
    wait_for_render_after(page, before)
    return canvas_rgba(page), render_frame(read_dataset(corpus_file(name).read_bytes())).rgba


@pytest.mark.parametrize(
    "name",
    ["SC_rgb_jpeg.dcm", "SC_rgb_jpeg_dcmtk.dcm", "SC_jpeg_no_color_transform.dcm", "SC_rgb_small_odd_jpeg.dcm",
     "SC_rgb_jpeg_app14_dcmd.dcm", "SC_jpeg_no_color_transform_2.dcm", "SC_rgb_dcmtk_+eb+cr.dcm",
     "SC_rgb_dcmtk_+eb+cy+n1.dcm", "SC_rgb_dcmtk_+eb+cy+n2.dcm", "SC_rgb_dcmtk_+eb+cy+s4.dcm",
     "SC_rgb_jpeg_lossy_gdcm.dcm"],
)
def test_jpeg_baseline_matches_cpython_bit_for_bit(viewer, name):
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)


@pytest.mark.parametrize("name", ["SC_rgb_dcmtk_+eb+cy+np.dcm", "SC_rgb_dcmtk_+eb+cy+s2.dcm", "examples_ybr_color.dcm",
                                  "color3d_jpeg_baseline.dcm"])
def test_jpeg_baseline_ybr_422_matches_cpython_bit_for_bit(viewer, name):
    """4:2:2 chroma: Pyodide's Pillow 10.2 upsampled it up to 37 levels away from libjpeg-turbo and DCMTK."""
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)


@pytest.mark.parametrize("name", ["JPGExtended.dcm", "JPEG-lossy.dcm"])
def test_12_bit_jpeg_extended_matches_cpython_bit_for_bit(viewer, name):
    """JPEG-lossy.dcm has a scan header (Se=0) that IJG, libjpeg-turbo and DCMTK accept with a warning."""
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)


@pytest.mark.parametrize(
    "name",
    ["MR_small_jpeg_ls_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm", "JPEGLSNearLossless_08.dcm",
     "JPEGLSNearLossless_16.dcm", "SC_rgb_jls_lossy_line.dcm", "SC_rgb_jls_lossy_sample.dcm"],
)
def test_jpeg_ls_matches_cpython_bit_for_bit(viewer, name):
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)


def test_jpeg_ls_frames_beyond_the_first(viewer):
    name = "emri_small_jpeg_ls_lossless.dcm"
    browser_and_cpython(viewer, name)
    before = render_count(viewer)
    viewer.eval_on_selector("#frame", "s => { s.value = '7'; s.dispatchEvent(new Event('input')); }")
    wait_for_render_after(viewer, before)
    expected = render_frame(read_dataset(corpus_file(name).read_bytes()), 7).rgba
    assert np.array_equal(canvas_rgba(viewer), expected)


@pytest.mark.parametrize(
    "name",
    ["OBXXXX1A.dcm", "OBXXXX1A_expb.dcm", "OBXXXX1A_rle.dcm", "gdcm-US-ALOKA-16_big.dcm", "examples_palette.dcm",
     "SC_rgb_16bit.dcm", "SC_rgb_expb_32bit.dcm", "color-pl.dcm", "SC_ybr_full_422_uncompressed.dcm"],
)
def test_colour_models_match_cpython_bit_for_bit(viewer, name):
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)


def test_big_endian_palette_looks_like_its_little_endian_twin(viewer):
    """pydicom 3.0.2 reads big-endian palette data in the wrong byte order; the page must not."""
    big, _ = browser_and_cpython(viewer, "OBXXXX1A_expb.dcm")
    little, _ = browser_and_cpython(viewer, "OBXXXX1A.dcm")
    assert np.array_equal(big, little)


@pytest.mark.parametrize(
    "name",
    ["MR_small_jp2klossless.dcm", "693_J2KR.dcm", "693_J2KI.dcm", "RG1_J2KI.dcm", "US1_J2KI.dcm", "US1_J2KR.dcm",
     "J2K_pixelrep_mismatch.dcm", "GDCMJ2K_TextGBR.dcm", "examples_jpeg2k.dcm", "SC_rgb_gdcm_KY.dcm"],
)
def test_jpeg_2000_matches_cpython_bit_for_bit(viewer, name):
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)


@pytest.mark.parametrize(
    "name", ["JPEG-LL.dcm", "JPGLosslessP14SV1_1s_1f_8b.dcm", "bad_sequence.dcm", "SC_rgb_jpeg_gdcm.dcm"])
def test_jpeg_lossless_matches_cpython_bit_for_bit(viewer, name):
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)


@pytest.mark.parametrize("name", ["JPGExtended.dcm", "SC_rgb_jpeg_dcmtk.dcm"])
def test_an_undecodable_dct_frame_is_named_with_its_transfer_syntax(viewer, tmp_path, name):
    """The codec's own error (raised inside the WebAssembly call) reaches #messages with the syntax named."""
    path = tmp_path / f"no-scan-{name}"
    path.write_bytes(jpeg_without_scan(name))
    syntax = read_dataset(path.read_bytes()).file_meta.TransferSyntaxUID
    before = len(problem_lines(viewer))
    viewer.set_input_files("#open-files", [str(path)])
    viewer.wait_for_function(f"document.querySelectorAll('#messages li').length > {before}")
    line = problem_lines(viewer)[-1]
    assert line.startswith(f"{path.name}: the {syntax.name} ({syntax}) pixel data cannot be decoded ("), line
    assert "missing SOS marker" in line, line  # IJG's JERR_SOF_NO_SOS, from inside the codec


def test_without_the_ijg_codec_12_bit_is_named_and_8_bit_falls_back_to_pillow(browser, server_url):
    """dcmjs-codecs unreachable: a 12-bit JPEG Extended file gets a #messages line naming its transfer syntax,
    and 8-bit JPEG baseline still opens through Pyodide's Pillow (4:4:4 colour: the same pixels as CPython)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/codecs/dcmjs/**", lambda route: route.abort())
    try:
        page = open_viewer(SimpleNamespace(new_page=lambda **_: context.new_page()), server_url)
        page.set_input_files("#open-files", [str(corpus_file("JPGExtended.dcm"))])
        page.wait_for_function("document.querySelectorAll('#messages li').length > 0", timeout=60_000)
        (line,) = problem_lines(page)  # Pyodide's Pillow is the one decoder left, and it says why it cannot
        assert line.startswith("JPGExtended.dcm: the JPEG Extended (Process 2 and 4) (1.2.840.10008.1.2.4.51) "
                               "pixel data cannot be decoded ("), line
        assert "12-bit" in line, line
        ours, cpython = browser_and_cpython(page, "SC_rgb_jpeg_dcmtk.dcm")
        assert np.array_equal(ours, cpython)
    finally:
        context.close()


@pytest.mark.parametrize(("uid", "name"), sorted(ONE_FILE_PER_SYNTAX.items()))
def test_one_real_file_of_each_transfer_syntax_matches_cpython_bit_for_bit(viewer, uid, name):
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)
