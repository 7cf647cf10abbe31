"""Enhanced multi-frame objects: per-frame Pixel Value Transformation and Frame VOI LUT functional
groups (PS3.3 C.7.6.16) steer each frame's rescale and window.

DCMTK 3.6.7 ignores functional groups, so its reference is its rendering of a classic copy of the
frame, written by the test with that frame's rescale and window at the top level.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.render import frame_view, render_frame, voi_choices
from dicomview.tools.dcmtk import classic_frame_copy, dcm2pnm
from synthetic import image_dataset, write_dicom


@pytest.mark.parametrize("index", [0, 1])
def test_real_enhanced_ct_frames_match_dcmtk_on_their_classic_copies(index, tmp_path):
    path = corpus_file("eCT_Supplemental.dcm")
    ds = read_dataset(path.read_bytes())
    assert "RescaleIntercept" not in ds and "WindowCenter" not in ds  # only in the functional groups
    rendered = render_frame(ds, index)
    assert (rendered.window.center, rendered.window.width) == (49.0, 102.0) and rendered.notes == ()
    reference = dcm2pnm(classic_frame_copy(path, index, tmp_path), "+Wi", "1")
    assert np.abs(rendered.rgba[..., 0].astype(np.int16) - reference).max() <= 1
    assert "RescaleIntercept" not in ds  # the frame view never changes the dataset


def two_frames_with_their_own_groups() -> Dataset:
    """Two identical frames 0..399; frame 0 rescales by 1, frame 1 by 2 - 100; windows differ too."""
    pixels = np.tile(np.arange(400, dtype=np.uint16).reshape(20, 20), (2, 1, 1))
    ds = image_dataset(pixels[0], NumberOfFrames=2)
    ds.PixelData = pixels.astype("<u2").tobytes()

    def group(slope, intercept, center, width):
        item = Dataset()
        transformation, window = Dataset(), Dataset()
        transformation.RescaleSlope, transformation.RescaleIntercept = slope, intercept
        window.WindowCenter, window.WindowWidth = center, width
        item.PixelValueTransformationSequence = Sequence([transformation])
        item.FrameVOILUTSequence = Sequence([window])
        return item

    ds.PerFrameFunctionalGroupsSequence = Sequence([group(1, 0, 200, 400), group(2, -100, 300, 201)])
    return ds


def test_each_frame_uses_its_own_rescale_and_window():
    ds = read_dataset(write_dicom(two_frames_with_their_own_groups()))
    first, second = render_frame(ds, 0), render_frame(ds, 1)
    assert (first.window.center, first.window.width) == (200, 400)
    assert (second.window.center, second.window.width) == (300, 201)
    stored = np.arange(400.0).reshape(20, 20)
    for rendered, modality, (c, w) in ((first, stored, (200, 400)), (second, stored * 2 - 100, (300, 201))):
        expected = np.rint(np.clip(((modality - (c - 0.5)) / (w - 1) + 0.5) * 255, 0, 255))
        expected[modality <= c - 0.5 - (w - 1) / 2] = 0
        assert rendered.rgba[..., 0].tolist() == expected.tolist()
    assert [c.key for c in voi_choices(frame_view(ds, 1))] == ["window:0", "auto", "min-max"]


def test_shared_groups_apply_when_a_frame_has_none():
    source = two_frames_with_their_own_groups()
    source.SharedFunctionalGroupsSequence = Sequence([copy.deepcopy(source.PerFrameFunctionalGroupsSequence[1])])
    del source.PerFrameFunctionalGroupsSequence[1].FrameVOILUTSequence
    source.PerFrameFunctionalGroupsSequence[0] = Dataset()
    ds = read_dataset(write_dicom(source))
    assert (render_frame(ds, 0).window.center, render_frame(ds, 0).window.width) == (300, 201)
