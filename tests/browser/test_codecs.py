"""Compressed transfer syntaxes decoded in the browser, each compared bit for bit with CPython.

JPEG baseline is decoded by Pyodide's Pillow 10.2 in the browser and by PyPI Pillow under CPython.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import canvas_rgba, render_count, wait_for_render_after
from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.render import render_frame

pytestmark = pytest.mark.browser


def browser_and_cpython(page, name: str) -> tuple[np.ndarray, np.ndarray]:
    before = render_count(page)
    page.set_input_files("#open-files", [str(corpus_file(name))])
    wait_for_render_after(page, before)
    return canvas_rgba(page), render_frame(read_dataset(corpus_file(name).read_bytes())).rgba


@pytest.mark.parametrize(
    "name",
    ["SC_rgb_jpeg.dcm", "SC_rgb_jpeg_dcmtk.dcm", "SC_jpeg_no_color_transform.dcm", "SC_rgb_small_odd_jpeg.dcm"],
)
def test_jpeg_baseline_matches_cpython_bit_for_bit(viewer, name):
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)


@pytest.mark.xfail(
    strict=True,
    reason="Pyodide's Pillow 10.2 upsamples 4:2:2 chroma differently from PyPI Pillow (which matches "
    "DCMTK exactly): up to 37 levels on these files. Needs a libjpeg-turbo decoder in the browser.",
)
@pytest.mark.parametrize("name", ["SC_rgb_dcmtk_+eb+cy+np.dcm", "examples_ybr_color.dcm"])
def test_jpeg_baseline_ybr_422_matches_cpython(viewer, name):
    ours, cpython = browser_and_cpython(viewer, name)
    assert np.array_equal(ours, cpython)
