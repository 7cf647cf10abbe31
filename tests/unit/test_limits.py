"""Resource limits: a header that claims an absurd image is refused before anything is allocated."""

from __future__ import annotations

import tracemalloc

import pytest

from dicomview.decode import Limits
from dicomview.session import Problem, Session
from synthetic import claiming


def test_sixty_thousand_squared_times_a_thousand_frames_is_refused_cheaply():
    tracemalloc.start()
    outcome = Session().open_file("huge.dcm", claiming(Rows=60000, Columns=60000, NumberOfFrames=1000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert isinstance(outcome, Problem)
    assert outcome.reason.startswith("the image is too large to open: 60000 × 60000 × 1000 frame(s)")
    assert peak < 5_000_000


def test_the_limits_are_configurable():
    data = claiming(Rows=1000, Columns=1000, NumberOfFrames=100)
    assert "too large" in Session(limits=Limits(max_samples=10**7)).open_file("a.dcm", data).reason
    # within a budget that admits it, the same header fails on its real problem: the missing pixels
    assert "truncated" in Session(limits=Limits(max_samples=10**9)).open_file("a.dcm", data).reason


def test_a_single_huge_frame_hits_the_frame_limit():
    outcome = Session(limits=Limits(max_frame_samples=1000)).open_file("f.dcm", claiming(Rows=100, Columns=100))
    assert "too large" in outcome.reason


@pytest.mark.parametrize(
    ("attributes", "words"),
    [
        ({"Rows": 0}, "the image has no pixels"),
        ({"Columns": 0}, "the image has no pixels"),
        ({"BitsAllocated": 12}, "Bits Allocated must be one of"),
        ({"SamplesPerPixel": 4}, "Samples per Pixel must be 1 or 3"),
    ],
)
def test_impossible_image_attributes_are_named(attributes, words):
    outcome = Session().open_file("bad.dcm", claiming(**attributes))
    assert isinstance(outcome, Problem)
    assert words in outcome.reason


def test_a_real_file_with_a_malformed_number_of_frames():
    from corpus import corpus_file

    outcome = Session().open_file("badVR.dcm", corpus_file("badVR.dcm").read_bytes())
    assert isinstance(outcome, Problem)
    assert outcome.reason == "Number of Frames is not a number ('1A')"
