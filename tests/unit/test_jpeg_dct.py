"""JPEG with DCT (jpeg_dct): the CPython decoders are bit-exact with DCMTK's IJG codecs, which the browser runs
as WebAssembly (tests/browser/test_codecs.py holds the browser to CPython bit for bit)."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.pixels import pixel_array
from pydicom.pixels.decoders.base import DecodeRunner

from corpus import corpus_file
from dicomview import jpeg_dct
from dicomview.decode import UnreadableFile, preferred_plugin, read_dataset, stored_frame
from synthetic import jpeg_without_scan

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def first_frame(name: str) -> bytes:
    ds = pydicom.dcmread(corpus_file(name))
    return next(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames", 1) or 1)))


def test_the_frame_header_gives_precision_size_and_components():
    assert jpeg_dct.frame_header(first_frame("JPGExtended.dcm")) == jpeg_dct.FrameHeader(12, 1024, 256, 1, False)
    header = jpeg_dct.frame_header(first_frame("color3d_jpeg_baseline.dcm"))
    assert (header.precision, header.rows, header.columns, header.components) == (8, 480, 640, 3)
    assert jpeg_dct.container_bits(header) == 8


def test_an_adobe_marker_is_found_as_pillow_finds_it():
    from PIL import Image

    for name in ("SC_rgb_jpeg_app14_dcmd.dcm", "SC_rgb_dcmtk_+eb+cy+np.dcm"):
        src = first_frame(name)
        pillow_sees_it = "adobe_transform" in Image.open(io.BytesIO(src)).info
        assert jpeg_dct.frame_header(src).adobe is pillow_sees_it
    assert jpeg_dct.frame_header(first_frame("SC_rgb_jpeg_app14_dcmd.dcm")).adobe


@pytest.mark.parametrize("src", [b"", b"not a jpeg", b"\xff\xd8\xff\xda\x00\x02"])
def test_bytes_without_a_dct_frame_header_are_refused(src):
    with pytest.raises(ValueError, match="JPEG"):
        jpeg_dct.frame_header(src)


def test_12_bit_decodes_with_libjpeg_turbo_and_8_bit_with_pillow():
    assert preferred_plugin(read_dataset(corpus_file("JPGExtended.dcm").read_bytes())) == "imagecodecs"
    assert preferred_plugin(read_dataset(corpus_file("SC_rgb_jpeg_dcmtk.dcm").read_bytes())) == "pillow"
    assert preferred_plugin(read_dataset(corpus_file("CT_small.dcm").read_bytes())) == ""


def dcmdjpeg(name: str, tmp_path) -> np.ndarray:
    """DCMTK's decompression, colour left as stored (+cn), as stored values."""
    if shutil.which("dcmdjpeg") is None:
        pytest.skip("Debian dcmtk is not installed")
    target = tmp_path / "raw.dcm"
    subprocess.run(["dcmdjpeg", "+cn", str(corpus_file(name)), str(target)], check=True, capture_output=True)
    return pixel_array(str(target), index=0, raw=True)


@pytest.mark.dcmtk
@pytest.mark.parametrize("name", ["JPGExtended.dcm", "JPEG-lossy.dcm"])
def test_12_bit_jpeg_extended_is_bit_exact_with_dcmtk(name, tmp_path):
    """JPEG-lossy.dcm's scan header says Se=0: IJG and DCMTK warn and decode; pylibjpeg-libjpeg refuses it."""
    ours = stored_frame(read_dataset(corpus_file(name).read_bytes()), 0)
    assert ours.dtype == np.uint16 and ours.max() > 255
    assert np.array_equal(ours, dcmdjpeg(name, tmp_path))


@pytest.mark.dcmtk
@pytest.mark.parametrize("name", ["SC_rgb_dcmtk_+eb+cy+np.dcm", "examples_ybr_color.dcm", "SC_rgb_jpeg_dcmtk.dcm"])
def test_8_bit_ybr_is_bit_exact_with_dcmtk_before_colour_conversion(name, tmp_path):
    ds = read_dataset(corpus_file(name).read_bytes())
    ours = pixel_array(ds, index=0, raw=True, decoding_plugin=preferred_plugin(ds))
    assert np.array_equal(ours, dcmdjpeg(name, tmp_path))


def test_the_imagecodecs_plugin_keeps_ycbcr_as_stored():
    ds = read_dataset(corpus_file("SC_rgb_dcmtk_+eb+cy+np.dcm").read_bytes())
    pillow = pixel_array(ds, index=0, raw=True, decoding_plugin="pillow")
    runner = DecodeRunner(pydicom.uid.JPEGBaseline8Bit)
    ours = np.frombuffer(jpeg_dct.decode_frame(first_frame("SC_rgb_dcmtk_+eb+cy+np.dcm"), runner), np.uint8)
    assert np.array_equal(ours.reshape(pillow.shape), pillow)


@pytest.mark.parametrize("name", ["JPGExtended.dcm", "SC_rgb_jpeg_dcmtk.dcm"])
def test_an_undecodable_dct_frame_is_refused_naming_the_transfer_syntax(name):
    ds = read_dataset(jpeg_without_scan(name))
    with pytest.raises(UnreadableFile) as refused:
        stored_frame(ds, 0)
    syntax = ds.file_meta.TransferSyntaxUID
    assert str(refused.value).startswith(f"the {syntax.name} ({syntax}) pixel data cannot be decoded ("), refused.value

