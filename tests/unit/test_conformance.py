"""The conformance report (dicomview.tools.conformance) over pydicom's and pydicom-data's files.

The report runs once for the module; the tests hold its key results: enough files match DCMTK, no file
in a syntax dcm2pnm reads differs from it (bar a documented allowlist), every refusal has a reason a
user can act on, and the JSON output reads back to the same results.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom.pixels
import pydicom.uid
import pytest

from corpus import corpus_file
from dicomview.session import Session
from dicomview.tools import conformance
from dicomview.tools.conformance import (
    DCMTK_NEEDS_A_COPY,
    DCMTK_REFUSES_USE_TWIN,
    DCMTK_WRONG_USE_TWIN,
    KNOWN_UNSHOWABLE,
    FileResult,
    Outcome,
    ReferenceUnavailable,
    conformance_report,
    default_directories,
    find_files,
    format_report,
    read_json,
    reference_image,
    write_json,
)
from dicomview.tools.dcmtk import DcmtkRefused, dcm2pnm

pytestmark = [pytest.mark.dcmtk, pytest.mark.filterwarnings("ignore::UserWarning")]

# Files in a syntax dcm2pnm reads (native, deflated, RLE) that may differ from DCMTK, with the reason.
# Empty: the 32-bit big-endian files where DCMTK 3.6.7 is wrong are compared with DCMTK's rendering of
# their little-endian twin instead (conformance.DCMTK_WRONG_USE_TWIN), and then they match; the files
# DCMTK refuses have stand-ins (DCMTK_REFUSES_USE_TWIN, DCMTK_NEEDS_A_COPY) or are KNOWN_UNSHOWABLE.
KNOWN_DIFFERENCES: dict[str, str] = {}

DCM2PNM_SYNTAX_NAMES = {uid.name for uid in conformance.DCM2PNM_SYNTAXES}


@pytest.fixture(scope="module")
def results() -> list[FileResult]:
    return conformance_report(find_files(default_directories(), recursive=False))


def of(results: list[FileResult], outcome: Outcome) -> list[FileResult]:
    return [result for result in results if result.outcome is outcome]


def test_no_python_exception_escapes_for_any_file(results):
    assert of(results, Outcome.ERROR) == []


def test_the_corpus_is_there_and_many_files_match_dcmtk(results):
    assert len(results) >= 120  # 133 of the 146 *.dcm hold pixel data
    assert len(of(results, Outcome.WITHIN)) >= 40
    names = {result.file for result in of(results, Outcome.WITHIN)}
    # the 512x512 CT, MONOCHROME1 CR, RLE, deflated, big endian, 32-bit, 1-bit, VOI LUT, YBR_FULL_422
    for name in ("693_UNCI.dcm", "RG3_UNCI.dcm", "MR_small_RLE.dcm", "image_dfl.dcm", "MR_small_bigendian.dcm",
                 "rtdose_1frame.dcm", "liver_1frame.dcm", "vlut_04.dcm", "SC_ybr_full_422_uncompressed.dcm"):
        assert name in names


def test_no_greyscale_file_that_dcm2pnm_reads_differs(results):
    """Native, deflated and RLE greyscale: within ±1 of DCMTK, with a reference for every file."""
    greyscale = [result for result in results if result.transfer_syntax in DCM2PNM_SYNTAX_NAMES
                 and result.photometric in conformance.GREYSCALE]
    assert len(greyscale) >= 30
    unexplained = [f"{result.file}: {result.outcome} {result.reason}" for result in greyscale
                   if result.outcome in conformance.NOT_SHOWN_TO_MATCH and result.file not in KNOWN_DIFFERENCES]
    assert unexplained == []


def test_the_allowlist_is_not_stale(results):
    by_name = {result.file: result for result in results}
    for name in KNOWN_DIFFERENCES:
        assert by_name[name].outcome is Outcome.DIFFERS, f"{name} matches now: take it off KNOWN_DIFFERENCES"


def test_the_32_bit_big_endian_files_are_compared_with_their_twins(results):
    by_name = {result.file: result for result in results}
    for big, little in DCMTK_WRONG_USE_TWIN.items():
        assert by_name[big].outcome is Outcome.WITHIN
        assert little in by_name[big].reason


def test_every_refusal_names_a_transfer_syntax_or_a_problem(results):
    refused = of(results, Outcome.REFUSED) + of(results, Outcome.FAILED)
    assert refused, "the corpus holds files the viewer cannot show (truncated, not images, ...)"
    for result in refused:
        assert result.reason.strip(), result.file
        assert "Traceback" not in result.reason
        if "transfer syntax" in result.reason:  # it names the syntax a user would look for
            assert result.transfer_syntax in result.reason, result


def test_every_file_is_within_tolerance_or_documented(results):
    """The issue's done-when: every decodable file renders within tolerance of DCMTK; each other file is in
    KNOWN_UNSHOWABLE, with what is wrong with it, and DCMTK (or GDCM) cannot show it either."""
    undocumented = [f"{result.file}: {result.outcome} {result.reason}" for result in results
                    if result.outcome is not Outcome.WITHIN and result.file not in KNOWN_UNSHOWABLE]
    assert undocumented == []
    by_name = {result.file: result for result in results}
    for name in KNOWN_UNSHOWABLE:  # not stale: each is still not shown
        assert by_name[name].outcome in (Outcome.REFUSED, Outcome.FAILED), f"{name} is shown now: drop it"
    assert len(of(results, Outcome.WITHIN)) == len(results) - len(KNOWN_UNSHOWABLE)


@pytest.mark.parametrize("name", sorted(KNOWN_UNSHOWABLE))
def test_dcmtk_cannot_show_the_files_we_refuse_either(name):
    path = corpus_file(name)
    uid = conformance.syntax_of(conformance.parse_header(path.read_bytes()))
    try:
        image = reference_image(path, uid, ("+Wm",))
    except DcmtkRefused:
        return
    assert image.size == 0, f"DCMTK renders {name}: the viewer should too"


def test_the_report_prints_the_known_reason_under_each_file_not_shown(results):
    report = format_report(results)
    for name, why in KNOWN_UNSHOWABLE.items():
        line = next(line for line in report.splitlines() if line.startswith(f"  {name} ["))
        assert report.splitlines()[report.splitlines().index(line) + 1] == f"      known: {why}"
    assert "not documented" not in report


@pytest.mark.parametrize(("name", "twin"), sorted(DCMTK_REFUSES_USE_TWIN.items()))
def test_32_bit_colour_is_compared_with_its_8_bit_twin(results, name, twin):
    """The stand-in is exact: the 32-bit file's stored values are the twin's x 0x01010101; DCMTK refuses it."""
    ours = pydicom.pixels.pixel_array(str(corpus_file(name)), index=0)
    theirs = pydicom.pixels.pixel_array(str(corpus_file(twin)), index=0)
    assert np.array_equal(ours, theirs.astype(np.uint32) * 0x01010101)
    with pytest.raises(DcmtkRefused, match="value representation"):  # if DCMTK renders it: drop the twin
        dcm2pnm(corpus_file(name))
    by_name = {result.file: result for result in results}
    assert by_name[name].outcome is Outcome.WITHIN and twin in by_name[name].reason


@pytest.mark.parametrize("name", sorted(DCMTK_NEEDS_A_COPY))
def test_files_dcmtk_cannot_read_are_compared_through_a_readable_copy(results, name):
    path = corpus_file(name)
    with pytest.raises(DcmtkRefused):  # if DCMTK reads it: drop it from DCMTK_NEEDS_A_COPY
        reference_image(path, conformance.syntax_of(conformance.parse_header(path.read_bytes())), ())
    by_name = {result.file: result for result in results}
    assert by_name[name].outcome is Outcome.WITHIN, by_name[name]
    assert DCMTK_NEEDS_A_COPY[name][0] in by_name[name].reason


@pytest.mark.parametrize("name", ["JPGExtended.dcm", "JPEG-lossy.dcm", "badVR.dcm"])
def test_files_fixed_for_issue_3_match_dcmtk(results, name):
    """12-bit JPEG Extended (IJG-exact decoding) and a malformed Number of Frames (frames counted)."""
    by_name = {result.file: result for result in results}
    assert by_name[name].outcome is Outcome.WITHIN, by_name[name]


def test_a_truncated_file_is_refused_with_the_reason(results):
    by_name = {result.file: result for result in results}
    assert by_name["MR_truncated.dcm"].outcome is Outcome.REFUSED
    assert "truncated" in by_name["MR_truncated.dcm"].reason


def test_files_without_pixel_data_are_left_out(results):
    names = {result.file for result in results}
    assert not names & {"rtplan.dcm", "rtstruct.dcm", "test-SR.dcm", "waveform_ecg.dcm"}


def test_the_json_output_round_trips(results, tmp_path):
    target = tmp_path / "results.json"
    write_json(results, target)
    assert read_json(target) == results
    row = json.loads(target.read_text())[0]
    assert {"file", "transfer_syntax", "photometric", "outcome", "reason", "max_difference"} <= set(row)


def test_the_tables_add_up(results):
    report = format_report(results)
    total_rows = [line.split() for line in report.splitlines() if line.endswith("  total")]
    assert len(total_rows) == 2  # by transfer syntax, by photometric interpretation
    counts = [int(n) for n in total_rows[0][:-1]]
    assert counts == [int(n) for n in total_rows[1][:-1]]
    files, rendered, within, differs, refused, failed, unavailable, reference_refused = counts
    assert files == len(results) == rendered + refused + failed + len(of(results, Outcome.ERROR))
    assert rendered == within + differs + unavailable + reference_refused
    assert within == len(of(results, Outcome.WITHIN))


def test_the_command_reads_directories_recursively(tmp_path, capsys):
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(corpus_file("CT_small.dcm"), tmp_path / "a" / "b" / "ct.dcm")
    shutil.copy(corpus_file("rtplan.dcm"), tmp_path / "a" / "plan.dcm")  # no pixel data: not listed
    (tmp_path / "junk.dcm").write_bytes(b"not DICOM at all")  # no pixel data either
    assert conformance.main([str(tmp_path), "--json", str(tmp_path / "out.json")]) == 0
    assert "1 files with pixel data: 1 within tolerance" in capsys.readouterr().out
    (row,) = json.loads((tmp_path / "out.json").read_text())
    assert (row["file"], row["outcome"], row["transfer_syntax"]) == ("a/b/ct.dcm", "within tolerance",
                                                                     "Explicit VR Little Endian")


def test_an_escaping_exception_is_reported_and_exits_1(tmp_path, monkeypatch, capsys):
    class BrokenSession(Session):
        def render(self, index):
            raise ZeroDivisionError("a viewer bug")

    shutil.copy(corpus_file("CT_small.dcm"), tmp_path / "ct.dcm")
    monkeypatch.setattr(conformance, "Session", BrokenSession)
    assert conformance.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ct.dcm" in out and "ZeroDivisionError: a viewer bug" in out


@pytest.mark.parametrize(("name", "shape"), [("SC_rgb_jpeg_dcmtk.dcm", (100, 100, 3)),
                                              ("MR_small_jpeg_ls_lossless.dcm", (64, 64)),
                                              ("JPEG-LL.dcm", (1024, 256))])
def test_dcmj2pnm_and_dcml2pnm_render_the_jpeg_references(name, shape):
    """The JPEG and JPEG-LS routes work before the viewer decodes those syntaxes itself."""
    path = corpus_file(name)
    uid = pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID
    options = ("+Wm",) if len(shape) == 2 else ()
    assert reference_image(path, uid, options).shape == shape


def test_without_gdcmconv_the_jpeg_2000_reference_is_unavailable(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(conformance.shutil, "which", lambda name: None if name == "gdcmconv" else real_which(name))
    with pytest.raises(ReferenceUnavailable, match="gdcmconv missing"):
        reference_image(Path(corpus_file("MR_small_jp2klossless.dcm")), pydicom.uid.JPEG2000Lossless, ("+Wm",))
