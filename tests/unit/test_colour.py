"""colour_to_rgba against DCMTK's dcm2pnm on every colour file of pydicom and pydicom-data that both
read here (native little and big endian, deflated and RLE), within ±2 per channel (DESIGN §8).

Where DCMTK 3.6.7 refuses a file, a test proves it and the reference is DCMTK's rendering of a twin
whose pixels are proven identical; where its arithmetic departs from the standard (YBR), a test
reproduces DCMTK's formula exactly and shows ours is the standard's.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pydicom
import pydicom.pixels
import pydicom.uid
import pytest
from pydicom.dataelem import DataElement
from pydicom.pixels.processing import apply_color_lut

from corpus import all_dicom_files, corpus_file
from dicomview.colour import CHANNELS, colour_to_rgba, lut_entries, scale_to_8_bits
from dicomview.decode import UnreadableFile, check_pixels, read_dataset, transfer_syntax
from dicomview.tools.dcmtk import DCM2PNM_SYNTAXES, DcmtkRefused, dcm2pnm

pytestmark = pytest.mark.dcmtk

TOLERANCE = 2

# DCMTK 3.6.7 refuses 32-bit Pixel Data encoded as OB (PS3.5 A.2 wants OW above 8 bits allocated);
# it renders the RLE twins, whose stored values are identical (test_dcmtk_refuses_32_bit_ob_pixel_data).
# It does not implement segmented palettes (PS3.3 C.7.9.2); the big-endian ALOKA is compared through
# its little-endian twin, which is rendered with its palette expanded into plain LUT Data.
DCMTK_REFUSES_USE_TWIN = {
    "SC_rgb_32bit.dcm": "SC_rgb_rle_32bit.dcm",
    "SC_rgb_32bit_2frame.dcm": "SC_rgb_rle_32bit_2frame.dcm",
    "SC_rgb_expb_32bit.dcm": "SC_rgb_rle_32bit.dcm",
    "SC_rgb_expb_32bit_2frame.dcm": "SC_rgb_rle_32bit_2frame.dcm",
    "gdcm-US-ALOKA-16_big.dcm": "gdcm-US-ALOKA-16.dcm",
}
DCMTK_REFUSES_SEGMENTED = ("gdcm-US-ALOKA-16.dcm",)
# GDCM 3.2.6 (python-gdcm, gdcm.ImageApplyLookupTable) renders both ALOKA files to these 16-bit RGB
# pixels; sha256 of their top 8 bits, as (rows, columns, 3) uint8: an independent segmented-LUT check.
GDCM_ALOKA_SHA256 = "97697b719ccd7c15c9cfbee12cb1285b2423b8bc3adf6bf45cb3858e4f0f3db4"


def is_colour(ds: pydicom.Dataset) -> bool:
    return ds.get("SamplesPerPixel", 1) == 3 or str(ds.get("PhotometricInterpretation", "")) == "PALETTE COLOR"


def comparable_files() -> list:
    """Each colour corpus file in a syntax dcm2pnm reads whose first frame pydicom decodes here.

    Chosen by pydicom alone: a file colour_to_rgba fails on stays in the list and fails the test.
    """
    chosen = []
    for path in all_dicom_files():
        try:
            ds = read_dataset(path.read_bytes())
            check_pixels(ds)
        except UnreadableFile:
            continue
        if not is_colour(ds) or transfer_syntax(ds) not in DCM2PNM_SYNTAXES:
            continue
        try:
            pydicom.pixels.pixel_array(ds, index=0)
        except Exception:  # noqa: S112 (OT-PAL-8-face.dcm: no file meta, pydicom will not decode it)
            continue
        chosen.append(pytest.param(path, id=path.name))
    return chosen


COMPARABLE = comparable_files()


def ours(path: Path, frame: int = 0) -> np.ndarray:
    ds = read_dataset(path.read_bytes())
    return colour_to_rgba(ds, pydicom.pixels.pixel_array(ds, index=frame))


def with_plain_palette(path: Path, folder: Path) -> Path:
    """A copy of a segmented-palette file with the palette expanded (by pydicom) into plain LUT Data."""
    ds = pydicom.dcmread(path)
    entries = ds.RedPaletteColorLookupTableDescriptor[0] or 1 << 16
    expanded = apply_color_lut(np.arange(entries), ds)
    for index, channel in enumerate(CHANNELS):
        del ds[f"Segmented{channel}PaletteColorLookupTableData"]
        keyword = f"{channel}PaletteColorLookupTableData"
        tag = pydicom.datadict.tag_for_keyword(keyword)
        ds[tag] = DataElement(tag, "OW", expanded[:, index].astype("<u2").tobytes())
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    out = folder / f"plain-{path.name}"
    ds.save_as(out, enforce_file_format=True)
    return out


def dcmtk_reference(path: Path, folder: Path) -> np.ndarray:
    source = corpus_file(DCMTK_REFUSES_USE_TWIN.get(path.name, path.name))
    if source.name in DCMTK_REFUSES_SEGMENTED:
        source = with_plain_palette(source, folder)
    return dcm2pnm(source)


def difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


def test_the_comparison_covers_every_kind_of_colour_file():
    names = {param.values[0].name for param in COMPARABLE}
    for name in (
        "SC_rgb.dcm", "SC_rgb_16bit.dcm", "SC_rgb_32bit.dcm", "SC_rgb_expb_16bit.dcm", "US1_UNCR.dcm",
        "color-pl.dcm", "SC_ybr_full_uncompressed.dcm", "SC_ybr_full_422_uncompressed.dcm",
        "OBXXXX1A.dcm", "OBXXXX1A_expb.dcm", "OBXXXX1A_rle.dcm", "examples_palette.dcm",
        "gdcm-US-ALOKA-16.dcm", "gdcm-US-ALOKA-16_big.dcm",
    ):
        assert name in names
    assert pydicom.dcmread(corpus_file("color-pl.dcm")).PlanarConfiguration == 1
    assert len(COMPARABLE) >= 45


@pytest.mark.parametrize("path", COMPARABLE)
def test_matches_dcmtk(path, tmp_path):
    rgba = ours(path)
    reference = dcmtk_reference(path, tmp_path)
    assert rgba.dtype == np.uint8
    assert rgba.shape == (*reference.shape[:2], 4)
    assert (rgba[..., 3] == 255).all()
    diff = difference(rgba[..., :3], reference)
    assert diff.max() <= TOLERANCE, f"{(diff > TOLERANCE).sum()} samples differ by up to {diff.max()}"


def test_big_endian_palette_regression():
    """pydicom 3.0.2's apply_color_lut reads plain big-endian LUT Data in the machine's byte order."""
    little, big = corpus_file("OBXXXX1A.dcm"), corpus_file("OBXXXX1A_expb.dcm")
    little_ds, big_ds = (read_dataset(path.read_bytes()) for path in (little, big))
    little_stored, big_stored = (pydicom.pixels.pixel_array(ds) for ds in (little_ds, big_ds))
    assert np.array_equal(little_stored, big_stored)
    # ours: both byte orders give one image, and DCMTK's, which also agrees with itself
    assert np.array_equal(colour_to_rgba(big_ds, big_stored), colour_to_rgba(little_ds, little_stored))
    reference = dcm2pnm(big)
    assert np.array_equal(reference, dcm2pnm(little))
    assert difference(colour_to_rgba(big_ds, big_stored)[..., :3], reference).max() == 0
    # pydicom's: the big-endian twin comes out wrong (if this starts failing, pydicom was fixed)
    pydicom_little = apply_color_lut(little_stored, little_ds) >> 8
    pydicom_big = apply_color_lut(big_stored, big_ds) >> 8
    assert difference(pydicom_little, reference).max() == 0
    assert difference(pydicom_big, reference).max() > 100


@pytest.mark.parametrize(("refused", "twin"), sorted(
    (name, twin) for name, twin in DCMTK_REFUSES_USE_TWIN.items() if "32bit" in name))
def test_dcmtk_refuses_32_bit_ob_pixel_data(refused, twin):
    refused_ds, twin_ds = (read_dataset(corpus_file(name).read_bytes()) for name in (refused, twin))
    assert (refused_ds["PixelData"].VR, refused_ds.BitsAllocated) == ("OB", 32)
    assert np.array_equal(pydicom.pixels.pixel_array(refused_ds, index=0), pydicom.pixels.pixel_array(twin_ds, index=0))
    # if this starts failing, DCMTK reads these files: drop the twin substitution
    with pytest.raises(DcmtkRefused, match="value representation other than OB"):
        dcm2pnm(corpus_file(refused))
    assert dcm2pnm(corpus_file(twin)).shape == (100, 100, 3)


@pytest.mark.parametrize("name", ["gdcm-US-ALOKA-16.dcm", "gdcm-US-ALOKA-16_big.dcm"])
def test_dcmtk_does_not_implement_segmented_palettes(name):
    # if this starts failing, DCMTK expands segmented palettes: compare with it directly
    with pytest.raises(DcmtkRefused, match="segmented palettes not yet supported"):
        dcm2pnm(corpus_file(name))


def test_the_segmented_palette_twins_are_one_image_and_match_gdcm():
    little, big = (read_dataset(corpus_file(name).read_bytes())
                   for name in ("gdcm-US-ALOKA-16.dcm", "gdcm-US-ALOKA-16_big.dcm"))
    assert little.RedPaletteColorLookupTableDescriptor == [0, 0, 16]  # 65536 entries of 16 bits
    assert np.array_equal(pydicom.pixels.pixel_array(little), pydicom.pixels.pixel_array(big))
    entries = np.arange(1 << 16)
    assert np.array_equal(apply_color_lut(entries, little), apply_color_lut(entries, big))
    for path in (corpus_file("gdcm-US-ALOKA-16.dcm"), corpus_file("gdcm-US-ALOKA-16_big.dcm")):
        rgb = np.ascontiguousarray(ours(path)[..., :3])
        assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50  # a real colour image, not one colour
        assert hashlib.sha256(rgb.tobytes()).hexdigest() == GDCM_ALOKA_SHA256


def ybr_standard(ybr: np.ndarray) -> np.ndarray:
    """PS3.3 C.7.6.3.1.2's YBR_FULL -> RGB for 8 bits: offset 128, rounded."""
    y, cb, cr = (ybr[..., i].astype(np.float64) for i in range(3))
    cb, cr = cb - 128, cr - 128
    rgb = np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def ybr_dcmtk(ybr: np.ndarray, tables: bool) -> np.ndarray:
    """DCMTK 3.6.7's YBR -> RGB (diybrpxt.h, diyf2pxt.h): offsets 0.701, 0.5291, 0.8859 x 255 (so 127.5,
    not 128) and truncation; YBR_FULL truncates each term toward zero in tables, YBR_FULL_422 the sum."""
    y, cb, cr = (ybr[..., i].astype(np.float64) for i in range(3))
    terms = (1.4020 * cr - 0.7010 * 255, 0.3441 * cb, 0.7141 * cr - 0.5291 * 255, 1.7720 * cb - 0.8859 * 255)
    if tables:
        terms = tuple(np.trunc(term) for term in terms)
    rgb = np.stack([y + terms[0], y - terms[1] - terms[2], y + terms[3]], axis=-1)
    return np.clip(np.floor(rgb), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("name", "tables"), [("SC_ybr_full_uncompressed.dcm", True),
                                              ("SC_ybr_full_422_uncompressed.dcm", False)])
def test_ybr_is_the_standard_conversion_and_dcmtk_approximates_it(name, tables):
    path = corpus_file(name)
    ds = read_dataset(path.read_bytes())
    ybr = pydicom.pixels.pixel_array(ds, as_rgb=False)  # 4:2:2 already expanded to one Cb, Cr per pixel
    converted = pydicom.pixels.pixel_array(ds)
    assert difference(ybr, converted).max() > 100  # pydicom's default did convert: the input is RGB
    rgba = colour_to_rgba(ds, converted)
    assert np.array_equal(rgba[..., :3], ybr_standard(ybr))
    reference = dcm2pnm(path)
    assert np.array_equal(ybr_dcmtk(ybr, tables), reference)  # DCMTK's own formula, reproduced exactly
    assert difference(rgba[..., :3], reference).max() == (2 if tables else 1)
    assert difference(ybr, reference).max() > 100  # treating the input as YBR again would be caught


@pytest.mark.parametrize("photometric", ["HSV", "ARGB", "CMYK", "YBR_PARTIAL_422", "YBR_PARTIAL_420",
                                         "MONOCHROME2", ""])
def test_other_photometric_interpretations_are_named(photometric):
    ds = read_dataset(corpus_file("SC_rgb.dcm").read_bytes())
    stored = pydicom.pixels.pixel_array(ds)
    ds.PhotometricInterpretation = photometric
    expected = f"colour photometric interpretation {photometric or '(missing)'} is not supported"
    with pytest.raises(UnreadableFile, match=re.escape(expected)):
        colour_to_rgba(ds, stored)


def test_16_bit_ybr_is_refused():
    """pydicom will not convert YBR of more than 8 bits (pixel_array raises, so stored_frame names it);
    handed the unconverted samples, colour_to_rgba refuses them rather than show YBR as RGB."""
    ds = read_dataset(corpus_file("SC_rgb_16bit.dcm").read_bytes())
    ds.PhotometricInterpretation = "YBR_FULL"
    with pytest.raises(ValueError, match="must be 'uint8'"):
        pydicom.pixels.pixel_array(ds)
    with pytest.raises(UnreadableFile, match="YBR_FULL with 16 bits stored is not supported"):
        colour_to_rgba(ds, pydicom.pixels.pixel_array(ds, as_rgb=False))


def test_palette_frames_need_one_sample_and_rgb_frames_three():
    palette = read_dataset(corpus_file("OBXXXX1A.dcm").read_bytes())
    rgb = read_dataset(corpus_file("SC_rgb.dcm").read_bytes())
    with pytest.raises(UnreadableFile, match="one sample per pixel"):
        colour_to_rgba(palette, pydicom.pixels.pixel_array(rgb))
    with pytest.raises(UnreadableFile, match="three samples per pixel"):
        colour_to_rgba(rgb, pydicom.pixels.pixel_array(palette))


def test_scaling_keeps_the_top_8_bits_as_dcmtk_does():
    """dcm2pnm 3.6.7 on 9- to 32-bit RGB ramps gives exactly v >> (bits - 8), and below 8 bits
    floor(v * 255 / (2**bits - 1)); the corpus's 16- and 32-bit RGB files repeat one byte in every
    sample (0x4040, 0x40404040), which every candidate formula maps alike, so the rule is pinned here."""
    sixteen = np.array([0x00FF, 0x0100, 0x7FFF, 0x8000, 0xFFFF], dtype=np.uint16)
    assert scale_to_8_bits(sixteen, 16).tolist() == [0, 1, 127, 128, 255]
    assert scale_to_8_bits(np.array([0x0FFF, 0x7F], dtype=np.uint16), 12).tolist() == [255, 7]
    assert scale_to_8_bits(np.array([0xFFFFFFFF, 0x00FFFFFF], dtype=np.uint32), 32).tolist() == [255, 0]
    assert scale_to_8_bits(np.array([0, 1, 20, 21, 63], dtype=np.uint8), 6).tolist() == [0, 4, 80, 85, 255]


def test_8_bit_lut_entries_are_packed_two_to_a_word_in_either_byte_order():
    """No corpus file has 8-bit LUT Data; its OW words hold the first entry in the low byte."""
    assert lut_entries(bytes([1, 2, 3, 4]), 4, little_endian=True).tolist() == [1, 2, 3, 4]
    assert lut_entries(bytes([2, 1, 4, 3]), 4, little_endian=False).tolist() == [1, 2, 3, 4]
    assert lut_entries(bytes([1, 2, 3, 0]), 3, little_endian=True).tolist() == [1, 2, 3]
    assert lut_entries(bytes([0x12, 0x34]), 1, little_endian=False).tolist() == [0x1234]


def test_bits_above_bits_stored_are_ignored_as_dcmtk_does(tmp_path):
    """A fuzzed RGB file (8 bits allocated, 6 stored) whose samples use the two top bits crashed the
    below-8-bit table; those bits are not part of the sample (PS3.5 8.1.1), and DCMTK ignores them."""
    from synthetic import image_dataset, write_dicom

    samples = np.array([[[255, 64, 63], [200, 128, 1]], [[0, 192, 127], [66, 250, 5]]], dtype=np.uint8)
    ds = image_dataset(np.zeros((2, 2)), SamplesPerPixel=3, PhotometricInterpretation="RGB", PlanarConfiguration=0,
                       BitsAllocated=8, BitsStored=6, HighBit=5)
    ds.PixelData = samples.tobytes()
    path = tmp_path / "rgb6.dcm"
    path.write_bytes(write_dicom(ds))
    rgba = ours(path)
    assert difference(rgba[..., :3], dcm2pnm(path)).max() <= TOLERANCE
    assert rgba[0, 0, :3].tolist() == [255, 0, 255]
