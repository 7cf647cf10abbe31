"""The pipeline's pure functions against the formulas of PS3.3 C.11, worked by hand."""

import numpy as np
import pytest

from dicomview import pipeline
from dicomview.pipeline import Window


def test_linear_window_follows_c_11_2_1_2_1():
    # c=40, w=400: x <= -160 -> 0; x > 239 -> 255; middle ((x - 39.5)/399 + 0.5) * 255
    window = Window(40, 400)
    x = np.array([-1000, -160, -159, 39.5, 239, 240, 3000], dtype=np.float64)
    expected = [0, 0, ((-159 - 39.5) / 399 + 0.5) * 255, 127.5, ((239 - 39.5) / 399 + 0.5) * 255, 255, 255]
    assert pipeline.window_linear(x, window) == pytest.approx(expected)


def test_linear_window_of_width_one_is_a_threshold():
    window = Window(100, 1)
    grey = pipeline.window_linear(np.array([98.0, 99.0, 99.5, 100.0, 101.0]), window)
    assert grey.tolist() == [0, 0, 0, 255, 255]


def test_linear_exact_and_sigmoid_follow_c_11_2_1_3():
    window = Window(0, 100, "LINEAR_EXACT")
    assert pipeline.apply_window(np.array([-50.0, 0.0, 25.0, 50.0]), window) == pytest.approx(
        [0, 127.5, 191.25, 255])
    sigmoid = Window(0, 100, "SIGMOID")
    x = np.array([-100.0, 0.0, 50.0])
    assert pipeline.apply_window(x, sigmoid) == pytest.approx(255 / (1 + np.exp(-4 * x / 100)))


def test_unknown_voi_function_falls_back_to_linear():
    x = np.array([0.0, 50.0, 100.0])
    assert pipeline.apply_window(x, Window(50, 101, "CUBIC")).tolist() == pipeline.window_linear(
        x, Window(50, 101)).tolist()


@pytest.mark.parametrize(
    ("window", "usable"),
    [
        (None, False),
        (Window(40, 400), True),
        (Window(40, 1), True),
        (Window(40, 0), False),
        (Window(40, -5), False),
        (Window(40, 0.5, "LINEAR_EXACT"), True),
        (Window(40, 0, "SIGMOID"), False),
        (Window(float("nan"), 400), False),
    ],
)
def test_window_usability(window, usable):
    assert pipeline.window_is_usable(window) is usable


def test_min_max_window_maps_extremes_to_black_and_white():
    window = pipeline.min_max_window(-1024, 3071)
    grey = pipeline.window_linear(np.array([-1024.0, 3071.0]), window)
    assert grey.tolist() == [0, 255]


def test_monochrome1_inverts():
    assert pipeline.invert(np.array([0.0, 100.0, 255.0])).tolist() == [255, 155, 0]


def test_rgba_packing_is_grey_grey_grey_opaque_in_memory_order():
    rgba = pipeline.rgba32_to_bytes(pipeline.grey_to_rgba32(np.array([[0, 7, 255]], dtype=np.uint8)))
    assert rgba.shape == (1, 3, 4)
    assert rgba.reshape(-1, 4).tolist() == [[0, 0, 0, 255], [7, 7, 7, 255], [255, 255, 255, 255]]


def test_lut_path_equals_direct_path_for_every_stored_value():
    stored = np.arange(-2048, 4096, dtype=np.int16).reshape(96, 64)

    def modality(values):
        return values * 1.5 - 1024

    window = Window(40, 400)
    voi = pipeline.window_voi(window)
    lut = pipeline.grey_lut(-2048, 4095, modality, voi, inverted=True)
    via_lut = pipeline.apply_lut(stored, lut, -2048)
    direct = pipeline.grey_chain(stored, modality, voi, inverted=True)
    assert np.array_equal(via_lut, direct)


def test_voi_lut_output_scales_by_its_nominal_depth():
    grey = pipeline.voi_lut_to_grey(np.array([0, 32768, 65535]), 16)
    assert grey.tolist() == pytest.approx([0, 127.5019, 255], abs=1e-3)
    assert pipeline.voi_lut_to_grey(np.array([0, 1023]), 10).tolist() == [0, 255]
