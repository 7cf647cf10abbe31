"""Resource limits: a header that claims an absurd image is refused before anything is allocated."""

from __future__ import annotations

import tracemalloc

import pytest

from dicomview.decode import Limits
from dicomview.session import OpenedImage, Problem, Session
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


def test_a_real_file_with_a_malformed_number_of_frames_counts_its_frames():
    """badVR.dcm says Number of Frames '1A' (not an IS value); its Pixel Data holds 15 whole 10x10 32-bit
    frames, so it opens with 15 (DCMTK shows it too; test_conformance compares frame 1 with DCMTK)."""
    from corpus import corpus_file

    outcome = Session().open_file("badVR.dcm", corpus_file("badVR.dcm").read_bytes())
    assert isinstance(outcome, OpenedImage)
    assert outcome.frames == 15 == len(outcome.dataset.PixelData) // (10 * 10 * 4)


def test_a_malformed_number_of_frames_without_whole_frames_is_named():
    from corpus import corpus_file

    data = corpus_file("badVR.dcm").read_bytes()
    header = b"\xe0\x7f\x10\x00OW\x00\x00" + (6000).to_bytes(4, "little")  # Pixel Data, the last element
    at = data.index(header)
    assert len(data) - at == 12 + 6000
    cut = data[:at] + header[:-4] + (5598).to_bytes(4, "little") + data[at + 12:at + 12 + 5598]
    outcome = Session().open_file("bad.dcm", cut)  # 5598 bytes: not a whole number of 400-byte frames
    assert isinstance(outcome, Problem)
    assert outcome.reason == "Number of Frames is not a number ('1A')"
