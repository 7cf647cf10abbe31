"""Our rendering against DCMTK's, on every greyscale and 8-bit RGB file of pydicom and pydicom-data
that both can decode here (native, deflated and RLE transfer syntaxes: what dcm2pnm reads).

Greyscale within ±1 grey level (DCMTK truncates where the standard's formula is rounded), colour
within ±2 per channel (DESIGN §8). Compressed syntaxes join with the codec work (issue 3).
"""

from __future__ import annotations

import numpy as np
import pydicom.pixels
import pydicom.uid
import pytest

from corpus import all_dicom_files, corpus_file
from dicomview.decode import UnreadableFile, check_pixels, read_dataset, transfer_syntax
from dicomview.render import render_frame, voi_choices
from dicomview.tools.conformance import DCMTK_WRONG_USE_TWIN, reference_path
from dicomview.tools.dcmtk import DCM2PNM_SYNTAXES, dcm2pnm, uses_frame_groups, voi_options

# DCMTK 3.6.7 renders 32-bit big-endian pixel data unlike its own rendering of the little-endian
# twin, whose stored values are identical (test_dcmtk_is_wrong_on_32_bit_big_endian proves both).
# For those files the reference is DCMTK's rendering of the twin (one mapping, in the conformance tool).


def reference_file(path):
    """The file DCMTK renders as our reference (the conformance tool's rule: the twin where DCMTK is wrong)."""
    return reference_path(path)[0]

pytestmark = pytest.mark.dcmtk



def comparable_files():
    """(file, kind) for each corpus file in a syntax dcm2pnm reads and that we render."""
    chosen = []
    for path in all_dicom_files():
        try:
            ds = read_dataset(path.read_bytes())
            check_pixels(ds)
            render_frame(ds, 0)
        except UnreadableFile:
            continue  # the viewer names these files in #messages: test_decode_errors
        if "PixelData" not in ds or transfer_syntax(ds) not in DCM2PNM_SYNTAXES or uses_frame_groups(ds):
            continue  # enhanced objects with functional groups: test_enhanced.py
        photometric = str(ds.get("PhotometricInterpretation", ""))
        if photometric in ("MONOCHROME1", "MONOCHROME2"):
            chosen.append(pytest.param(path, "grey", id=path.name))
        elif photometric == "RGB" and ds.get("BitsAllocated") == 8:
            chosen.append(pytest.param(path, "rgb", id=path.name))
    return chosen


COMPARABLE = comparable_files()


def test_the_corpus_covers_what_the_skeleton_promises():
    names = {param.values[0].name for param in COMPARABLE}
    # the 512x512 16-bit CT with rescale, MONOCHROME1 CR, RLE, deflated, big endian, 32-bit, 1-bit
    for name in ("693_UNCI.dcm", "RG3_UNCI.dcm", "MR_small_RLE.dcm", "image_dfl.dcm",
                 "MR_small_bigendian.dcm", "rtdose_1frame.dcm", "liver_1frame.dcm", "US1_UNCR.dcm"):
        assert name in names
    assert len(COMPARABLE) >= 40


@pytest.mark.parametrize(("path", "kind"), COMPARABLE)
def test_matches_dcmtk(path, kind):
    ds = read_dataset(path.read_bytes())
    rendered = render_frame(ds, 0)
    if kind == "rgb":
        reference = dcm2pnm(path)
        ours = rendered.rgba[..., :3]
        tolerance = 2
    else:
        reference = dcm2pnm(reference_file(path), *voi_options(rendered))
        ours = rendered.rgba[..., 0]
        assert np.array_equal(rendered.rgba[..., 0], rendered.rgba[..., 1])
        assert np.array_equal(rendered.rgba[..., 0], rendered.rgba[..., 2])
        tolerance = 1
    assert (rendered.rgba[..., 3] == 255).all()
    assert ours.shape == reference.shape
    difference = np.abs(ours.astype(np.int16) - reference.astype(np.int16))
    assert difference.max() <= tolerance, f"{(difference > tolerance).sum()} pixels differ by up to {difference.max()}"


def test_the_512_ct_uses_its_own_window_and_matches_dcmtk_within_one():
    path = corpus_file("693_UNCI.dcm")
    rendered = render_frame(read_dataset(path.read_bytes()), 0)
    assert (rendered.window.center, rendered.window.width) == (40.0, 100.0)
    assert rendered.notes == ()
    assert rendered.rgba.shape == (512, 512, 4)
    reference = dcm2pnm(path, "+Wi", "1")
    assert np.abs(rendered.rgba[..., 0].astype(int) - reference).max() <= 1
    # a real image, not a blank: both black and white and many greys in between
    assert len(np.unique(reference)) > 50


def test_a_wrong_window_would_be_caught():
    """The comparison is sharp enough to fail: DCMTK with another window differs by far more than 1."""
    path = corpus_file("693_UNCI.dcm")
    rendered = render_frame(read_dataset(path.read_bytes()), 0)
    other = dcm2pnm(path, "+Ww", "40", "400")
    assert np.abs(rendered.rgba[..., 0].astype(int) - other).max() > 1


@pytest.mark.parametrize(("big", "little"), sorted(DCMTK_WRONG_USE_TWIN.items()))
def test_dcmtk_is_wrong_on_32_bit_big_endian(big, little):
    big_ds, little_ds = (read_dataset(corpus_file(name).read_bytes()) for name in (big, little))
    assert np.array_equal(pydicom.pixels.pixel_array(big_ds), pydicom.pixels.pixel_array(little_ds))
    assert np.array_equal(render_frame(big_ds).rgba, render_frame(little_ds).rgba)
    # if this starts failing, DCMTK was fixed: drop the twin substitution
    assert not np.array_equal(dcm2pnm(corpus_file(big), "+Wm"), dcm2pnm(corpus_file(little), "+Wm"))


def every_voi_choice():
    """Each VOI choice of each greyscale file that has more than the min-max."""
    params = []
    for param in COMPARABLE:
        path, kind = param.values
        if kind != "grey":
            continue
        for choice in voi_choices(read_dataset(path.read_bytes()))[:-1]:
            params.append(pytest.param(path, choice.key, id=f"{path.name}-{choice.key}"))
    return params


VOI_CHOICES = every_voi_choice()


def test_files_with_several_windows_and_a_voi_lut_are_covered():
    ids = {(p.values[0].name, p.values[1]) for p in VOI_CHOICES}
    assert {("MR-SIEMENS-DICOM-WithOverlays.dcm", "window:1"), ("vlut_04.dcm", "voi-lut:0")} <= ids


@pytest.mark.parametrize(("path", "voi_key"), VOI_CHOICES)
def test_every_voi_choice_matches_dcmtk(path, voi_key):
    rendered = render_frame(read_dataset(path.read_bytes()), 0, voi_key)
    assert rendered.voi_key == voi_key
    reference = dcm2pnm(reference_file(path), *voi_options(rendered))
    assert np.abs(rendered.rgba[..., 0].astype(np.int16) - reference).max() <= 1


@pytest.mark.parametrize("name", ["CT_small.dcm", "693_UNCI.dcm"])
def test_min_max_on_request_matches_dcmtk(name):
    path = corpus_file(name)
    rendered = render_frame(read_dataset(path.read_bytes()), 0, "min-max")
    assert rendered.voi_key == "min-max" and rendered.notes == ()
    assert np.abs(rendered.rgba[..., 0].astype(np.int16) - dcm2pnm(path, "+Wm")).max() <= 1


def test_other_frames_match_dcmtk():
    path = corpus_file("emri_small.dcm")  # 10 frames
    ds = read_dataset(path.read_bytes())
    for frame in (0, 4, 9):
        rendered = render_frame(ds, frame)
        reference = dcm2pnm(path, *voi_options(rendered), frame=frame)
        assert np.abs(rendered.rgba[..., 0].astype(np.int16) - reference).max() <= 1
    assert not np.array_equal(render_frame(ds, 0).rgba, render_frame(ds, 9).rgba)


def test_a_file_without_transfer_syntax_in_its_meta_decodes_and_matches_dcmtk():
    path = corpus_file("OT-PAL-8-face.dcm")  # PALETTE COLOR, file meta without (0002,0010)
    ds = read_dataset(path.read_bytes())
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
    reference = dcm2pnm(path)
    assert np.abs(render_frame(ds).rgba[..., :3].astype(np.int16) - reference).max() <= 2
