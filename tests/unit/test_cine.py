"""Cine frame rate (PS3.3 C.7.6.5) and the time-based choice of the frame due."""

from __future__ import annotations

import numpy as np
import pytest

from corpus import corpus_file
from dicomview.cine import DEFAULT_FPS, MAX_FPS, FrameRate, frame_due, frame_rate
from dicomview.decode import read_dataset
from synthetic import image_dataset


def timed(**attributes):
    return image_dataset(np.zeros((2, 2)), NumberOfFrames=4, **attributes)


def test_a_real_ultrasound_loop_plays_at_its_frame_time():
    ds = read_dataset(corpus_file("examples_ybr_color.dcm").read_bytes())  # Frame Time 33.333 ms
    rate = frame_rate(ds)
    assert rate.source == "FrameTime"
    assert rate.fps == pytest.approx(1000 / 33.333)


def test_recommended_display_frame_rate_then_cine_rate_then_frame_time_then_the_vector():
    assert frame_rate(timed(RecommendedDisplayFrameRate=12, CineRate=25, FrameTime=50)) == FrameRate(
        12, "RecommendedDisplayFrameRate")
    assert frame_rate(timed(CineRate=25, FrameTime=50)) == FrameRate(25, "CineRate")
    assert frame_rate(timed(FrameTime=50)) == FrameRate(20, "FrameTime")
    # the vector's first value is 0 (no frame before the first); the rest are the intervals
    vector = frame_rate(timed(FrameTimeVector=[0, 40, 60, 50]))
    assert vector == FrameRate(pytest.approx(20), "FrameTimeVector", (40, 60, 50))


def test_unusable_values_fall_through_to_the_next_source_and_the_default():
    assert frame_rate(timed(CineRate=0, FrameTime=100)) == FrameRate(10, "FrameTime")
    assert frame_rate(timed(FrameTime=-5)) == FrameRate(DEFAULT_FPS, "default")
    assert frame_rate(timed(FrameTimeVector=[0])) == FrameRate(DEFAULT_FPS, "default")
    # an unusable increment: the mean rate of the others, not a broken schedule
    assert frame_rate(timed(FrameTimeVector=[0, 40, -1, 60])) == FrameRate(20, "FrameTimeVector")
    assert frame_rate(read_dataset(corpus_file("emri_small.dcm").read_bytes())) == FrameRate(DEFAULT_FPS, "default")
    assert frame_rate(timed(FrameTime=0.001)).fps == MAX_FPS


def test_the_frame_due_counts_from_the_start_and_loops():
    assert frame_due(0.0, 10, 3, 10) == 3
    assert frame_due(0.099, 10, 3, 10) == 3
    assert frame_due(0.1, 10, 3, 10) == 4
    assert frame_due(0.75, 10, 3, 10) == 0  # 3 + 7 frames, looped over 10
    assert frame_due(2.0, 1, 0, 2) == 0
    assert frame_due(-1.0, 10, 2, 5) == 2
    assert frame_due(1.0, 10, 0, 0) == 0


def test_a_frame_time_vector_is_played_as_given():
    intervals = (100.0, 300.0, 200.0)  # frame 0 -> 1 in 100 ms, 1 -> 2 in 300, 2 -> 3 in 200; 3 -> 0 in 200
    due = [frame_due(t / 1000, 999, 0, 4, intervals) for t in (0, 99, 100, 399, 400, 599, 600, 799, 800, 900)]
    assert due == [0, 0, 1, 1, 2, 2, 3, 3, 0, 1]
    assert frame_due(0.3, 999, 1, 4, intervals) == 2  # started at frame 1 (100 ms into the loop)
    assert frame_due(0.25, 10, 0, 3, intervals) == 2  # not one interval per step: evenly, at fps
