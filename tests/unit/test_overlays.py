"""Overlay planes (PS3.3 C.9.2): where they are set, checked against DCMTK and by construction."""

from __future__ import annotations

import numpy as np
import pytest

from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.overlays import OVERLAY_COLOUR, frame_overlays, overlays_to_rgba, place
from dicomview.render import render_frame
from dicomview.tools.dcmtk import dcm2pnm, voi_options
from synthetic import image_dataset, write_dicom


@pytest.mark.parametrize("name", ["MR-SIEMENS-DICOM-WithOverlays.dcm", "examples_overlay.dcm"])
def test_overlay_pixels_are_exactly_those_dcmtk_burns_in(name):
    path = corpus_file(name)
    ds = read_dataset(path.read_bytes())
    options = voi_options(render_frame(ds))
    burnt, clean = dcm2pnm(path, *options, overlays=True), dcm2pnm(path, *options)
    changed = burnt != clean  # DCMTK paints overlay pixels white
    mask = np.logical_or.reduce([overlay.mask for overlay in frame_overlays(ds)])
    assert changed.sum() > 100
    assert not (changed & ~mask).any()
    assert not (mask & (clean != 255) & ~changed).any()


def test_the_layer_is_transparent_except_the_overlay():
    ds = read_dataset(corpus_file("examples_overlay.dcm").read_bytes())
    overlays = frame_overlays(ds)
    rgba = overlays_to_rgba(overlays, (int(ds.Rows), int(ds.Columns)))
    assert (rgba[overlays[0].mask] == (*OVERLAY_COLOUR, 255)).all()
    assert (rgba[~overlays[0].mask][:, 3] == 0).all()


def with_overlay(pixels: np.ndarray, elements: dict[int, tuple[str, object]]) -> bytes:
    ds = image_dataset(pixels)
    for tag, (vr, value) in elements.items():
        ds.add_new(tag, vr, value)
    return write_dicom(ds)


def test_embedded_overlay_bits_above_bits_stored():
    pixels = np.array([[5, 5 | 0x1000], [0x1000 | 4095, 7]], dtype=np.uint16)  # overlay in bit 12
    data = with_overlay(pixels, {
        0x60000010: ("US", 2), 0x60000011: ("US", 2), 0x60000040: ("CS", "G"), 0x60000050: ("SS", [1, 1]),
        0x60000100: ("US", 16), 0x60000102: ("US", 12)})
    ds = read_dataset(data)
    ds.BitsStored, ds.HighBit = 12, 11
    (overlay,) = frame_overlays(ds)
    assert overlay.mask.tolist() == [[False, True], [True, False]]
    assert render_frame(ds).rgba[1, 0, 0] == 255  # the image itself ignores the overlay bit


def test_origin_places_and_clips_the_plane():
    plane = np.ones((3, 3), dtype=bool)
    assert place(plane, (2, 2), (4, 4)).astype(int).tolist() == [
        [0, 0, 0, 0], [0, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1]]
    assert place(plane, (0, -1), (4, 4)).astype(int).tolist() == [
        [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert not place(plane, (10, 10), (4, 4)).any()


def test_a_multi_frame_overlay_follows_image_frame_origin():
    pixels = np.zeros((2, 8), dtype=np.uint16)
    ds = image_dataset(pixels, NumberOfFrames=3)
    ds.PixelData = np.zeros((3, 2, 8), dtype="<u2").tobytes()
    bits = np.array([[[1, 0, 0, 0, 0, 0, 0, 0], [0] * 8], [[0, 1, 0, 0, 0, 0, 0, 0], [0] * 8]], dtype=np.uint8)
    for tag, vr, value in ((0x60000010, "US", 2), (0x60000011, "US", 8), (0x60000040, "CS", "G"),
                           (0x60000050, "SS", [1, 1]), (0x60000100, "US", 1), (0x60000102, "US", 0),
                           (0x60000015, "IS", 2), (0x60000051, "US", 2),
                           (0x60003000, "OW", np.packbits(bits.ravel(), bitorder="little").tobytes())):
        ds.add_new(tag, vr, value)
    ds = read_dataset(write_dicom(ds))
    assert frame_overlays(ds, 0) == []  # the overlay starts at image frame 2 (1-based)
    assert frame_overlays(ds, 1)[0].mask[0].tolist() == [True] + [False] * 7
    assert frame_overlays(ds, 2)[0].mask[0].tolist() == [False, True] + [False] * 6
