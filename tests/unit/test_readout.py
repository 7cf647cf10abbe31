"""The cursor readout: values with units, patient position (PS3.3 C.7.6.2.1.1), client-to-pixel mapping."""

from __future__ import annotations

import numpy as np
import pydicom.pixels
import pytest

from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.readout import readout
from dicomview.render import frame_view
from dicomview.viewstate import client_to_pixel


def test_ct_value_in_hu_and_position_in_mm():
    ds = read_dataset(corpus_file("693_UNCI.dcm").read_bytes())
    stored = pydicom.pixels.pixel_array(ds)
    shown = readout(ds, stored, 256, 100)
    hu = float(stored[256, 100]) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert shown.stored == str(int(stored[256, 100])) and shown.value == f"{hu:.0f} HU"
    origin = np.array(ds.ImagePositionPatient, dtype=float)
    x_dir, y_dir = np.array(ds.ImageOrientationPatient[:3], float), np.array(ds.ImageOrientationPatient[3:], float)
    dr, dc = (float(v) for v in ds.PixelSpacing)
    assert shown.position == pytest.approx(tuple(origin + 100 * dc * x_dir + 256 * dr * y_dir))
    assert readout(ds, stored, 512, 0) is None


def test_enhanced_frames_use_their_plane_position():
    ds = read_dataset(corpus_file("eCT_Supplemental.dcm").read_bytes())
    stored = pydicom.pixels.pixel_array(ds, index=1)
    view = frame_view(ds, 1)
    expected = [float(v) for v in ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0].ImagePositionPatient]
    assert readout(view, stored, 0, 0).position == pytest.approx(tuple(expected))
    assert readout(view, stored, 0, 0).value.endswith("HU")


def test_colour_shows_the_three_samples():
    ds = read_dataset(corpus_file("US1_UNCR.dcm").read_bytes())
    stored = pydicom.pixels.pixel_array(ds)
    assert readout(ds, stored, 10, 20).stored == ", ".join(str(int(v)) for v in stored[10, 20])


def test_client_to_pixel_with_letterboxing():
    # a 200x100 image (columns x rows) in a 400x400 box at (10, 20): scale 2, centred vertically
    box = (10, 20, 400, 400)
    assert client_to_pixel(box, (200, 100), 10, 120) == (0, 0)
    assert client_to_pixel(box, (200, 100), 409.9, 319.9) == (99, 199)
    assert client_to_pixel(box, (200, 100), 10, 110)[0] < 0  # above the image


def test_pet_values_carry_the_series_units_and_rescale_type_wins():
    from dicomview.readout import modality_unit
    from synthetic import image_dataset

    pet = image_dataset(np.array([[100, 200]]), Modality="PT", Units="BQML", RescaleSlope=2.5, RescaleIntercept=0)
    assert readout(pet, pydicom.pixels.pixel_array(pet), 0, 1).value == "500 BQML"
    assert modality_unit(image_dataset(np.zeros((1, 1)), Modality="PT", Units="BQML", RescaleType="SUVbw")) == "SUVbw"
    assert modality_unit(image_dataset(np.zeros((1, 1)), Modality="MR")) == ""
    assert modality_unit(image_dataset(np.zeros((1, 1)), Modality="CT", RescaleType="US")) == "HU"
