"""The annotation layer's content: corner texts, orientation markers, scale bar (dicomview.annotations)."""

from __future__ import annotations

import numpy as np
import pytest

from corpus import corpus_file
from dicomview.annotations import (
    Place,
    Spacing,
    direction_letters,
    edge_markers,
    layout,
    person_name,
    pixel_spacing,
    round_length,
    scale_bar,
)
from dicomview.decode import read_dataset
from dicomview.pipeline import Window
from dicomview.render import frame_view
from synthetic import image_dataset

AXIAL = [1, 0, 0, 0, 1, 0]
CORONAL = [1, 0, 0, 0, 0, -1]
SAGITTAL = [0, 1, 0, 0, 0, -1]


def oriented(cosines, **attributes):
    return image_dataset(np.zeros((4, 4)), ImageOrientationPatient=cosines, **attributes)


@pytest.mark.parametrize(("cosines", "expected"), [
    # the radiological convention: an axial image shows the patient's right on the left of the view
    (AXIAL, {"top": "A", "right": "L", "bottom": "P", "left": "R"}),
    (CORONAL, {"top": "H", "right": "L", "bottom": "F", "left": "R"}),
    (SAGITTAL, {"top": "H", "right": "P", "bottom": "F", "left": "A"}),
])
def test_the_three_planes_have_the_markers_of_clinical_viewers(cosines, expected):
    assert edge_markers(oriented(cosines)) == expected


def test_oblique_directions_name_their_strongest_component_first():
    assert direction_letters((0.0, 0.927, -0.375)) == "PF"
    assert direction_letters((-0.375, 0.0, 0.927)) == "HR"
    assert direction_letters((0.6, -0.64, 0.48)) == "ALH"
    assert direction_letters((1.0, 0.00005, 0.0)) == "L"  # below the threshold: not a direction


def test_markers_agree_with_the_patient_orientation_the_modality_wrote():
    """J2K_pixelrep_mismatch.dcm (pydicom's corpus) is a tilted CT whose Patient Orientation (0020,0020)
    gives the row and column directions as letters, independently of its direction cosines."""
    ds = read_dataset(corpus_file("J2K_pixelrep_mismatch.dcm").read_bytes())
    markers = edge_markers(ds)
    assert [markers["right"], markers["bottom"]] == list(ds.PatientOrientation) == ["L", "PF"]
    assert (markers["left"], markers["top"]) == ("R", "AH")


def test_patient_orientation_alone_gives_the_markers_of_a_radiograph():
    ds = image_dataset(np.zeros((4, 4)), PatientOrientation=["A", "FR"])
    assert edge_markers(ds) == {"top": "HL", "right": "A", "bottom": "FR", "left": "P"}
    assert edge_markers(image_dataset(np.zeros((4, 4)), PatientOrientation="")) == {}
    assert edge_markers(image_dataset(np.zeros((4, 4)), PatientOrientation=["X", "Y"])) == {}


def test_flips_swap_the_edges_they_mirror():
    ds = oriented(AXIAL)
    assert edge_markers(ds, flip_horizontal=True) == {"top": "A", "right": "R", "bottom": "P", "left": "L"}
    assert edge_markers(ds, flip_vertical=True) == {"top": "P", "right": "L", "bottom": "A", "left": "R"}


def test_pixel_spacing_wins_over_imager_pixel_spacing_and_says_which():
    both = image_dataset(np.zeros((2, 2)), PixelSpacing=[0.5, 0.25], ImagerPixelSpacing=[0.6, 0.3])
    assert pixel_spacing(both) == Spacing(0.5, 0.25, "PixelSpacing")
    detector = image_dataset(np.zeros((2, 2)), ImagerPixelSpacing=[0.143, 0.143])
    assert pixel_spacing(detector) == Spacing(0.143, 0.143, "ImagerPixelSpacing")
    assert scale_bar(pixel_spacing(detector), 1.0, 200).label == "2 cm (at detector)"
    assert pixel_spacing(image_dataset(np.zeros((2, 2)), PixelSpacing=[0, 0])) is None
    assert pixel_spacing(image_dataset(np.zeros((2, 2)))) is None


def test_ultrasound_takes_the_calibration_of_its_first_2d_region_in_cm():
    """Real scanner files: the region's Physical Delta X/Y are in cm per pixel (units code 3)."""
    ds = read_dataset(corpus_file("examples_ybr_color.dcm").read_bytes())
    region = ds.SequenceOfUltrasoundRegions[0]
    spacing = pixel_spacing(ds)
    assert (spacing.row_mm, spacing.column_mm) == (float(region.PhysicalDeltaY) * 10, float(region.PhysicalDeltaX) * 10)
    assert scale_bar(spacing, 1.0, 100).label.endswith("(in the US region)")
    # OBXXXX1A.dcm: a 2D region, then a spectral Doppler region (format 4) with other units
    obstetric = read_dataset(corpus_file("OBXXXX1A.dcm").read_bytes())
    assert pixel_spacing(obstetric).column_mm == float(obstetric.SequenceOfUltrasoundRegions[0].PhysicalDeltaX) * 10
    doppler_only = read_dataset(corpus_file("OBXXXX1A.dcm").read_bytes())
    del doppler_only.SequenceOfUltrasoundRegions[0]
    assert pixel_spacing(doppler_only) is None


@pytest.mark.parametrize(("limit", "expected"), [(37.3, 20), (0.7, 0.5), (10, 10), (199, 100), (5.2, 5), (2.9, 2)])
def test_round_lengths_are_one_two_or_five_times_a_power_of_ten(limit, expected):
    assert round_length(limit) == pytest.approx(expected)


def test_the_scale_bar_follows_the_zoom():
    spacing = Spacing(0.5, 0.5, "PixelSpacing")
    fitted = scale_bar(spacing, 1.0, 200)  # 200 px show 100 mm
    assert (fitted.mm, fitted.pixels, fitted.label) == (100, 200, "10 cm")
    zoomed = scale_bar(spacing, 3.0, 200)  # 200 px now show 33.3 mm: the bar says 20 mm, 120 px long
    assert (zoomed.mm, zoomed.pixels, zoomed.label) == (20, pytest.approx(120), "2 cm")
    assert scale_bar(None, 1.0, 200) is None


def test_person_names_read_family_name_first():
    assert person_name("CompressedSamples^CT1") == "CompressedSamples, CT1"
    assert person_name("Doe^John^Q^Dr^Jr") == "Doe, Dr John Q Jr"
    assert person_name("") == person_name(None) == ""
    assert person_name("=山田^太郎=やまだ^たろう") == "山田 太郎 やまだ たろう"  # no alphabetic group


def test_corner_texts_of_a_real_ct():
    ds = read_dataset(corpus_file("CT_small.dcm").read_bytes())
    shown = layout(ds, Place(3, 12, False), Window(40, 400), "", 1.5, 200, inverted=True)
    assert shown.corners == {
        "top-left": ("CompressedSamples, CT1", "ID 1CT1", "Sex O"),
        "top-right": ("e+1", "2004-01-19 07:27"),
        # the slice position is Image Position (Patient) along the normal of the plane, as the stack order
        "bottom-left": ("Se 1", "CT", "Im 3/12", "Pos -75.7 mm", "Th 5.0 mm"),
        "bottom-right": ("W 400 L 40", "Zoom 150%", "Inverted"),
    }
    assert shown.markers == {"top": "A", "right": "L", "bottom": "P", "left": "R"}
    spacing = float(ds.PixelSpacing[1])  # 0.661468 mm: 200 px at 1.5 px per pixel cover 88 mm
    assert (shown.scale.mm, shown.scale.pixels) == (50, pytest.approx(50 / spacing * 1.5))


def test_enhanced_frames_take_position_and_thickness_from_their_functional_groups():
    from pydicom.dataset import Dataset

    def item(**attributes):
        group = Dataset()
        for name, value in attributes.items():
            setattr(group, name, value)
        return group

    ds = image_dataset(np.zeros((2, 2)), Modality="MR", NumberOfFrames=2)
    ds.SharedFunctionalGroupsSequence = [item(
        PlaneOrientationSequence=[item(ImageOrientationPatient=SAGITTAL)],
        PixelMeasuresSequence=[item(PixelSpacing=[0.5, 0.5], SliceThickness=1.5)])]
    ds.PerFrameFunctionalGroupsSequence = [
        item(PlanePositionSequence=[item(ImagePositionPatient=[x, 0, 0])]) for x in (-4.0, 2.5)]
    shown = layout(frame_view(ds, 1), Place(2, 2, True), None, "", 1.0, 100)
    assert shown.corners["bottom-left"] == ("MR", "Fr 2/2", "Pos 2.5 mm", "Th 1.5 mm")
    assert shown.corners["bottom-right"] == ("Zoom 100%",)  # no window (colour or none): nothing to say
    assert shown.markers["right"] == "P"


def test_birth_date_and_sex_share_a_line():
    ds = image_dataset(np.zeros((2, 2)), PatientName="Doe^Jo", PatientBirthDate="19700102", PatientSex="F")
    assert layout(ds, Place(1, 1, False), None, "", 1.0, 100).corners["top-left"] == (
        "Doe, Jo", "DOB 1970-01-02 Sex F")


def test_tag_values_stay_text():
    hostile = "<img src=x onerror=alert(1)>"
    ds = image_dataset(np.zeros((2, 2)), PatientName="<b>Doe</b>^<i>Jo</i>", StudyDescription=hostile)
    shown = layout(ds, Place(1, 1, False), None, "VOI LUT", 1.0, 100)
    assert shown.corners["top-left"] == ("<b>Doe</b>, <i>Jo</i>",)
    assert shown.corners["top-right"] == (hostile,)
    assert shown.corners["bottom-right"][0] == "VOI LUT"


MARKED = {  # attribute: a valid value whose bytes the test overwrites with garbage of the same length
    "ImageOrientationPatient": [1, 0, 0, 0, 1, 0], "ImagePositionPatient": [-10, 20, 30],
    "PixelSpacing": [0.5, 0.5], "ImagerPixelSpacing": [0.25, 0.25], "SliceThickness": 5, "SliceLocation": 7,
    "PatientName": "Doe^Jo", "PatientBirthDate": "19700101", "StudyDate": "20200202", "StudyTime": "101010",
    "SeriesNumber": 12, "PatientOrientation": ["L", "P"], "FrameTime": 33.3, "CineRate": 30,
    "RecommendedDisplayFrameRate": 25, "FrameTimeVector": [0, 40, 40],
}


def test_garbage_in_any_annotated_attribute_never_raises():
    """Each attribute's value bytes in a written file replaced by random bytes (same length), read back
    the way the page reads files: layout and frame rate still answer."""
    import random
    import struct

    from pydicom.datadict import tag_for_keyword
    from pydicom.dataset import Dataset

    from dicomview.cine import frame_rate
    from synthetic import write_dicom

    ds = image_dataset(np.zeros((4, 4)), NumberOfFrames=1, **MARKED)
    ds.SequenceOfUltrasoundRegions = [Dataset()]
    region = ds.SequenceOfUltrasoundRegions[0]
    region.RegionSpatialFormat, region.PhysicalUnitsXDirection, region.PhysicalUnitsYDirection = 1, 3, 3
    region.PhysicalDeltaX, region.PhysicalDeltaY = 0.05, 0.05
    clean = write_dicom(ds)
    rng = random.Random(4)
    for keyword in [*MARKED, "PhysicalDeltaX", "PhysicalUnitsXDirection"]:
        tag = tag_for_keyword(keyword)
        at = clean.index(struct.pack("<HH", tag >> 16, tag & 0xFFFF)) + 8  # explicit VR, short length
        (length,) = struct.unpack_from("<H", clean, at - 2)
        for _ in range(40):
            garbage = bytes(rng.choice(b"0123456789.-+eE\\ ^=abcXYZ\x00\xff") for _ in range(length))
            broken = read_dataset(clean[:at] + garbage + clean[at + length:])
            shown = layout(broken, Place(1, 1, True), None, "", 1.0, 100.0)
            assert set(shown.corners) == {"top-left", "top-right", "bottom-left", "bottom-right"}
            assert frame_rate(broken).fps > 0


def test_the_place_is_the_frame_of_a_multiframe_image_else_the_image_in_its_series():
    from dicomview.annotations import place_of

    keys = ["a", "b", "a", "a"]
    assert place_of(10, 3, keys, 1) == Place(4, 10, True)
    assert place_of(1, 0, keys, 2) == Place(2, 3, False)
    assert place_of(1, 0, keys, 1) == Place(1, 1, False)
    assert place_of(1, 0, [], -1) == Place(1, 1, False)  # nothing open
