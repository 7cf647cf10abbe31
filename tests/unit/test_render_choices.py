"""VOI choices, frames on demand and float pixel data (PS3.3 C.7.6.24), on files written by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from corpus import corpus_file
from dicomview.decode import UnreadableFile, read_dataset
from dicomview.render import MIN_MAX, NOTE_MIN_MAX, default_voi_key, render_frame, voi_choices
from synthetic import base_dataset, image_dataset, write_dicom


def float_image(values: np.ndarray, **attributes) -> bytes:
    ds = base_dataset(Rows=values.shape[0], Columns=values.shape[1], SamplesPerPixel=1,
                      PhotometricInterpretation="MONOCHROME2", BitsAllocated=32, **attributes)
    ds.FloatPixelData = values.astype("<f4").tobytes()
    return write_dicom(ds)


def test_float_pixel_data_renders_with_its_min_max():
    values = np.array([[-1.5, 0.0], [2.5, 10.5]])
    rendered = render_frame(read_dataset(float_image(values)))
    assert rendered.notes == (NOTE_MIN_MAX,)
    lo, hi = -1.5, 10.5  # LINEAR window c=(lo+hi+1)/2, w=hi-lo+1 maps lo->0, hi->255
    c, w = (lo + hi + 1) / 2, hi - lo + 1
    expected = np.rint(np.clip(((values - (c - 0.5)) / (w - 1) + 0.5) * 255, 0, 255))
    assert rendered.rgba[..., 0].tolist() == expected.tolist()


def test_float_pixel_data_with_a_window_and_nan():
    values = np.array([[0.0, np.nan], [50.0, 100.0]])
    rendered = render_frame(read_dataset(float_image(values, WindowCenter=50, WindowWidth=101)))
    assert rendered.voi_key == "window:0"
    # c=50, w=101: ((x - 49.5) / 100 + 0.5) * 255 -> x=0: 1.275, x=50: 128.775; x=100 > 99.5 -> 255.
    # NaN is shown as 0.
    assert rendered.rgba[..., 0].tolist() == [[1, 1], [129, 255]]


def test_choices_list_every_window_with_its_explanation_then_min_max():
    ds = read_dataset(corpus_file("MR-SIEMENS-DICOM-WithOverlays.dcm").read_bytes())
    choices = voi_choices(ds)
    assert [c.key for c in choices] == ["window:0", "window:1", "auto", "min-max"]
    assert choices[0].label == "WINDOW1 (C 450 / W 790)" and choices[1].label == "WINDOW2 (C 200 / W 443)"
    assert choices[-1] == MIN_MAX


def test_a_voi_lut_is_the_default_when_there_is_no_window():
    ds = read_dataset(corpus_file("vlut_04.dcm").read_bytes())
    assert default_voi_key(ds) == "voi-lut:0"
    rendered = render_frame(ds)
    assert rendered.voi_key == "voi-lut:0" and rendered.window is None and rendered.notes == ()


def test_choosing_another_window_changes_the_pixels_and_reports_it():
    ds = read_dataset(corpus_file("MR-SIEMENS-DICOM-WithOverlays.dcm").read_bytes())
    first, second = render_frame(ds, 0, "window:0"), render_frame(ds, 0, "window:1")
    assert (second.window.center, second.window.width) == (200, 443)
    assert not np.array_equal(first.rgba, second.rgba)


def test_a_missing_choice_falls_back_to_min_max_and_says_so():
    ds = read_dataset(corpus_file("MR_small.dcm").read_bytes())
    rendered = render_frame(ds, 0, "window:7")
    assert rendered.voi_key == "min-max" and rendered.notes == (NOTE_MIN_MAX,)
    with pytest.raises(UnreadableFile, match="unknown VOI choice"):
        render_frame(ds, 0, "sideways")


def test_ct_files_offer_the_modality_presets_and_others_do_not():
    ct = voi_choices(read_dataset(corpus_file("693_UNCI.dcm").read_bytes()))
    assert [c.key for c in ct][:2] == ["window:0", "preset:brain"]
    assert "CT lung (C -600 / W 1500)" in [c.label for c in ct]
    mr = voi_choices(read_dataset(corpus_file("MR_small.dcm").read_bytes()))
    assert not any(c.key.startswith("preset:") for c in mr)


def test_auto_window_spans_the_1st_to_99th_percentile():
    values = np.arange(10000, dtype=np.uint16).reshape(100, 100)
    values[0, 0] = 65000  # one extreme pixel must not stretch the window
    ds = read_dataset(write_dicom(image_dataset(values)))
    rendered = render_frame(ds, 0, "auto")
    low, high = np.percentile(values, (1, 99))  # every pixel of a frame this size
    assert rendered.voi_key == "auto"
    assert (rendered.window.center, rendered.window.width) == pytest.approx(((low + high + 1) / 2, high - low + 1))
    assert render_frame(ds, 0, "min-max").window.width == 65000  # 1..65000: the 0 was overwritten


def test_the_auto_window_of_a_very_large_frame_reads_a_regular_subsample():
    from dicomview.render import MAX_AUTO_SAMPLES, percentile_window

    values = np.arange(2048 * 2048, dtype=np.uint32).reshape(2048, 2048) % 5000
    window = percentile_window(values, lambda stored: stored.astype(float))
    low, high = np.percentile(values, (1, 99))
    assert values.size > MAX_AUTO_SAMPLES
    assert (window.center, window.width) == pytest.approx(((low + high + 1) / 2, high - low + 1), abs=5)
