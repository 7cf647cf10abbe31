"""Bad input: each file gets one reason that names the problem, and the rest of the batch still opens."""

from __future__ import annotations

import io
import os

import numpy as np
import pydicom
import pydicom.pixels
import pytest
from pydicom.uid import MPEG2MPML

from corpus import corpus_file
from dicomview.decode import UnreadableFile, read_dataset
from dicomview.render import render_frame
from dicomview.session import OpenedImage, Problem, Session
from synthetic import base_dataset, encapsulated, image_dataset, write_dicom


def reason(data: bytes) -> str:
    outcome = Session().open_file("x.dcm", data)
    assert isinstance(outcome, Problem), outcome
    return outcome.reason


def test_empty_file():
    assert reason(b"") == "the file is empty"


def test_text_and_random_bytes_are_not_dicom():
    assert reason(b"hello, this is a text file\n" * 20).startswith("not a DICOM file")
    assert reason(np.random.default_rng(7).bytes(4096)).startswith("not a DICOM file")


def test_a_header_without_a_dataset_is_truncated():
    assert reason(b"\0" * 128 + b"DICM") == "the file ends after its header, before any data (truncated?)"


def test_real_truncated_file_names_the_missing_bytes():
    text = reason(corpus_file("MR_truncated.dcm").read_bytes())
    assert text == "the pixel data is truncated (8130 of 8192 bytes)"


@pytest.mark.parametrize("cut", [200, 600, 1500, 3000, 9000])
def test_a_cut_file_never_opens_as_an_image(cut):
    data = corpus_file("MR_small.dcm").read_bytes()  # 8192 pixel bytes, then 126 bytes of padding
    text = reason(data[:cut])
    assert "truncated" in text


def test_no_pixel_data():
    assert reason(write_dicom(base_dataset(Modality="SR"))) == "no pixel data (not an image)"


def test_unsupported_transfer_syntax_is_named():
    text = reason(encapsulated(MPEG2MPML))
    assert text == "transfer syntax MPEG2 Main Profile / Main Level (1.2.840.10008.1.2.4.100) is not supported"


def test_unsupported_photometric_is_named():
    data = write_dicom(image_dataset(np.zeros((4, 4)), PhotometricInterpretation="HSV"))
    ds = read_dataset(data)
    with pytest.raises(UnreadableFile, match="photometric interpretation HSV is not supported"):
        render_frame(ds)


def test_frame_out_of_range():
    ds = read_dataset(write_dicom(image_dataset(np.zeros((4, 4)))))
    with pytest.raises(UnreadableFile, match="frame 3 does not exist"):
        render_frame(ds, 3)


def test_batch_keeps_the_good_files_and_names_each_bad_one():
    session = Session()
    batch = [
        ("good-ct.dcm", corpus_file("CT_small.dcm").read_bytes()),
        ("notes.txt", b"not dicom at all"),
        ("good-mr.dcm", corpus_file("MR_small.dcm").read_bytes()),
        ("cut.dcm", corpus_file("MR_small.dcm").read_bytes()[:3000]),
        ("random.bin", os.urandom(2048)),
    ]
    outcomes = session.open_batch(batch)
    assert [type(o) for o in outcomes] == [OpenedImage, Problem, OpenedImage, Problem, Problem]
    assert [p.file_name for p in session.problems] == ["notes.txt", "cut.dcm", "random.bin"]
    assert all(str(p).startswith(p.file_name + ": ") for p in session.problems)
    for index in range(len(session.images)):
        assert not isinstance(session.render(index), Problem)


def test_window_width_zero_falls_back_to_min_max_and_says_so():
    pixels = np.array([[10, 20], [30, 1010]])
    ds = read_dataset(write_dicom(image_dataset(pixels, WindowCenter=50, WindowWidth=0)))
    rendered = render_frame(ds)
    assert rendered.notes == ("no usable VOI window in the file: showing the frame's min-max",)
    assert rendered.rgba[..., 0].tolist() == [[0, 3], [5, 255]]


def test_rescaled_monochrome1_with_file_window():
    # stored 0..4 -> HU = 10*sv - 20 -> -20..20; window c=0 w=41 -> linear; MONOCHROME1 inverts
    pixels = np.arange(5).reshape(1, 5)
    ds = read_dataset(write_dicom(image_dataset(
        pixels, PhotometricInterpretation="MONOCHROME1", RescaleSlope=10, RescaleIntercept=-20,
        WindowCenter=0, WindowWidth=41)))
    grey = render_frame(ds).rgba[..., 0].astype(float)
    hu = pixels * 10.0 - 20
    expected = 255 - np.rint(np.clip(((hu - (0 - 0.5)) / 40 + 0.5) * 255, 0, 255))
    assert grey.tolist() == expected.tolist()


def test_pydicom_still_reads_what_we_wrote():
    data = write_dicom(image_dataset(np.zeros((2, 2))))
    assert pydicom.dcmread(io.BytesIO(data)).Rows == 2


def test_a_frame_is_decoded_once_while_it_is_shown():
    session = Session()
    session.open_batch([("emri.dcm", corpus_file("emri_small.dcm").read_bytes())])
    image = session.images[0]
    first = session.decoded_frame(image)
    image.window = None
    session.invert = True  # re-rendering for a new presentation reuses the decoded frame
    assert not isinstance(session.render(0), Problem) and session.decoded_frame(image) is first
    image.frame = 3
    assert session.decoded_frame(image) is not first
    assert np.array_equal(session.decoded_frame(image), pydicom.pixels.pixel_array(image.dataset, index=3))


def syntaxes_without_a_decoder() -> list[pydicom.uid.UID]:
    """Every transfer syntax pydicom knows and has no pixel decoder for (video, JPEG 2000 Part 2, JPIP, ...)."""
    missing = []
    for uid in pydicom.uid.AllTransferSyntaxes:
        try:
            pydicom.pixels.get_decoder(uid)
        except NotImplementedError:
            missing.append(uid)
    return missing


@pytest.mark.parametrize("uid", syntaxes_without_a_decoder(), ids=str)
def test_every_syntax_without_a_decoder_is_named(uid):
    assert len(syntaxes_without_a_decoder()) >= 20
    assert reason(encapsulated(uid)) == f"transfer syntax {uid.name} ({uid}) is not supported"


def test_a_private_transfer_syntax_is_named():
    ds = image_dataset(np.zeros((2, 2)), BitsAllocated=8, BitsStored=8, HighBit=7)
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5"
    buffer = io.BytesIO()
    ds.save_as(buffer, implicit_vr=False, little_endian=True, enforce_file_format=True)
    expected = "transfer syntax 1.2.3.4.5 (a private or unknown transfer syntax) is not supported"
    assert reason(buffer.getvalue()) == expected
