"""Conformance report: how the viewer renders every DICOM file of a corpus, against DCMTK.

`python -m dicomview.tools.conformance [--json FILE] [DIR ...]` (CPython only, needs Debian `dcmtk`).

Each *.dcm that holds pixel data is opened exactly as the page opens it (`Session.open_file`, then
`Session.render(0)`), so a refusal here is the sentence a user would read. Frame 0 is compared with
DCMTK's rendering (DESIGN §8): greyscale within ±1 grey level (DCMTK truncates where the standard's
formula rounds), colour within ±2 per channel. Without DIR the corpora are pydicom's test files and
pydicom-data's data store, read from their directories (get_testdata_files() would try to download).

It is a report: the exit code is 0 whatever the outcomes, except when a Python exception escapes for a
file, which is a viewer bug (the session turns every failure into a Problem): then it is 1.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pydicom
import pydicom.uid
from pydicom.dataset import Dataset

from dicomview.decode import UnreadableFile, one_line, transfer_syntax
from dicomview.render import RenderedFrame
from dicomview.session import Problem, Session
from dicomview.tools.dcmtk import (
    DCM2PNM_SYNTAXES,
    DcmtkRefused,
    classic_frame_copy,
    dcm2pnm,
    uses_frame_groups,
    voi_options,
)

# DCMTK 3.6.7 renders 32-bit big-endian pixel data unlike its own rendering of the little-endian twin,
# whose stored values are identical (tests/unit/test_dcmtk_reference.py proves both). For those files
# the reference is DCMTK's rendering of the twin. The single definition: the tests import it from here.
DCMTK_WRONG_USE_TWIN = {"rtdose_expb.dcm": "rtdose.dcm", "rtdose_expb_1frame.dcm": "rtdose_1frame.dcm"}
# DCMTK 3.6.7 refuses 32-bit colour ("'PixelData' has a value representation other than OB (with
# 'BitsAllocated' <= 16) or OW"; PS3.5 A.1 allows OB/OW for any Bits Allocated in Explicit VR): these hold
# exactly their 8-bit twin's stored values x 0x01010101 (test_conformance proves it), so the 8-bit twin's
# rendering is the reference.
DCMTK_REFUSES_USE_TWIN = {
    "SC_rgb_32bit.dcm": "SC_rgb.dcm", "SC_rgb_32bit_2frame.dcm": "SC_rgb_2frame.dcm",
    "SC_rgb_expb_32bit.dcm": "SC_rgb_expb.dcm", "SC_rgb_expb_32bit_2frame.dcm": "SC_rgb_expb_2frame.dcm",
}
# Files DCMTK 3.6.7 cannot read as they are, made readable for it first: (how, why).
DCMTK_NEEDS_A_COPY = {
    # Segmented Palette Color LUTs (PS3.3 C.7.9.2) with an empty (0028,1201..1203): DCMTK reads only the
    # plain LUT Data; GDCM's gdcmconv --decompress-lut writes the segments out as plain LUT Data.
    "gdcm-US-ALOKA-16.dcm": ("decompress-lut", "DCMTK 3.6.7 does not read segmented palette LUTs"),
    "gdcm-US-ALOKA-16_big.dcm": ("decompress-lut", "DCMTK 3.6.7 does not read segmented palette LUTs"),
    # The data set is encoded Implicit VR under an Explicit VR transfer syntax (PS3.5 10.1 forbids it):
    # pydicom notices and reads it, DCMTK does not; a pydicom copy written as Explicit VR has the same
    # compressed frame.
    "SC_rgb_jpeg.dcm": ("explicit-vr", "the data set is Implicit VR under an Explicit VR transfer syntax"),
}
# Files neither the viewer nor DCMTK (or GDCM, for JPEG 2000) shows, each with what is wrong with it:
# the viewer's refusal is right. tests/unit/test_conformance.py holds each to its outcome.
KNOWN_UNSHOWABLE = {
    "MR_truncated.dcm": "the file ends inside Pixel Data; DCMTK: \"PixelData larger than remaining bytes\"",
    "no_meta.dcm": "CT_small.dcm without its file meta, cut one byte late: the stray byte shifts every tag; "
                   "DCMTK: \"Unknown Tag & Data (0820,0500) larger than remaining bytes\"",
    "nested_priv_SQ.dcm": "no image: only nested private sequences and a 2-byte Pixel Data, no Rows; "
                          "DCMTK renders nothing",
    "meta_missing_tsyntax.dcm": "no image: only nested private sequences and a 2-byte Pixel Data, no Rows; "
                                "DCMTK renders nothing",
    "emri_small_jpeg_2k_lossless_too_short.dcm": "the encapsulated Pixel Data is cut before its sequence "
                                                 "delimiter; DCMTK and GDCM refuse it too",
    "JPEG2000-embedded-sequence-delimiter.dcm": "the JPEG 2000 SIZ segment is corrupt (it holds the bytes of a "
                                                "(FFFE,E0DD) delimiter); GDCM: \"Invalid number of tiles\"",
}

GREY_TOLERANCE = 1
COLOUR_TOLERANCE = 2
GREYSCALE = ("MONOCHROME1", "MONOCHROME2")  # PS3.3 C.7.6.3.1.2: one sample, shown as grey
PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
# (7FE0,0010) Pixel Data in both byte orders, (7FE0,0008) Float and (7FE0,0009) Double Float Pixel Data:
# found in the raw bytes when a file is too broken to parse (a truncated or shifted file still counts).
PIXEL_TAG_BYTES = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10", b"\xe0\x7f\x08\x00", b"\xe0\x7f\x09\x00")
UNREADABLE = "(unreadable)"
DCMTK_TIMEOUT = 120

# Which DCMTK tool renders which transfer syntax; JPEG 2000 and HTJ2K go through gdcmconv first.
DCMJ2PNM_SYNTAXES = frozenset(pydicom.uid.JPEGTransferSyntaxes)
DCML2PNM_SYNTAXES = frozenset(pydicom.uid.JPEGLSTransferSyntaxes)
JPEG2000_SYNTAXES = frozenset(pydicom.uid.JPEG2000TransferSyntaxes)


class Outcome(StrEnum):
    WITHIN = "within tolerance"
    DIFFERS = "differs"
    REFUSED = "refused"  # Session.open_file gave a Problem
    FAILED = "failed"  # Session.render gave a Problem
    REFERENCE_UNAVAILABLE = "reference unavailable"
    REFERENCE_REFUSED = "reference refused"
    ERROR = "error"  # a Python exception escaped: a viewer bug


RENDERED = (Outcome.WITHIN, Outcome.DIFFERS, Outcome.REFERENCE_UNAVAILABLE, Outcome.REFERENCE_REFUSED)
NOT_SHOWN_TO_MATCH = (Outcome.DIFFERS, Outcome.FAILED, Outcome.REFERENCE_UNAVAILABLE, Outcome.REFERENCE_REFUSED,
                      Outcome.ERROR)


@dataclass(frozen=True)
class FileResult:
    """One file's line of the report (and of the JSON output)."""

    file: str  # relative to the directory it was found under
    path: str
    transfer_syntax: str
    photometric: str
    outcome: Outcome
    reason: str = ""
    max_difference: int | None = None


class ReferenceUnavailable(RuntimeError):
    """No DCMTK route to a reference for this file on this machine; str() says why."""


# ---- which files ------------------------------------------------------------------------------------


def default_directories() -> list[Path]:
    """pydicom's test files and pydicom-data's data store, found from the installed packages."""
    import data_store  # pydicom-data: imported here so that given directories do not need it

    return [Path(pydicom.__file__).parent / "data" / "test_files", Path(data_store.__file__).parent / "data"]


def find_files(directories: Sequence[Path], recursive: bool) -> list[tuple[Path, str]]:
    """(path, name shown) of each *.dcm; the defaults are flat, as tests/corpus.py reads them."""
    found = []
    for directory in directories:
        paths = directory.rglob("*.dcm") if recursive else directory.glob("*.dcm")
        found.extend((path, path.relative_to(directory).as_posix()) for path in sorted(paths) if path.is_file())
    return found


def parse_header(data: bytes) -> Dataset | None:
    """The dataset as pydicom reads it forgivingly, for labels only: None if even that fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception:  # any malformed input: the viewer's own reading gives the reason
        return None


def holds_pixel_data(ds: Dataset | None, data: bytes) -> bool:
    """A pixel data element parsed, or its tag in the raw bytes (for files too broken to parse)."""
    if ds is not None and any(keyword in ds for keyword in PIXEL_KEYWORDS):
        return True
    return any(tag in data for tag in PIXEL_TAG_BYTES)


def syntax_of(ds: Dataset | None) -> pydicom.uid.UID | None:
    if ds is None:
        return None
    try:
        return transfer_syntax(ds)
    except UnreadableFile:
        return None


def syntax_label(uid: pydicom.uid.UID | None) -> str:
    if uid is None:
        return UNREADABLE
    return uid.name if uid.is_transfer_syntax else f"unknown ({uid})"


def photometric_label(ds: Dataset | None) -> str:
    if ds is None:
        return UNREADABLE
    try:
        return str(ds.get("PhotometricInterpretation", "") or "").strip() or "(none)"
    except Exception:  # a malformed value: labels must not fail
        return "(malformed)"


# ---- the reference ----------------------------------------------------------------------------------


def gdcm_raw_then_dcm2pnm(path: Path, *options: str) -> np.ndarray:
    """DCMTK has no JPEG 2000 decoder: GDCM's gdcmconv --raw writes the file uncompressed first."""
    gdcmconv = shutil.which("gdcmconv")
    if gdcmconv is None:
        raise ReferenceUnavailable("gdcmconv missing")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.dcm"
        done = subprocess.run([gdcmconv, "--raw", str(path), str(raw)], capture_output=True, text=True,
                              timeout=DCMTK_TIMEOUT)
        if done.returncode != 0 or not raw.exists():
            raise DcmtkRefused("gdcmconv --raw: " + (done.stderr or done.stdout).strip())
        return dcm2pnm(raw, *options)


def reference_path(path: Path) -> tuple[Path, str]:
    """The file DCMTK should render for `path`, and a note when it is a twin (DCMTK_WRONG_USE_TWIN,
    DCMTK_REFUSES_USE_TWIN)."""
    for twins, why in ((DCMTK_WRONG_USE_TWIN, "DCMTK 3.6.7 misreads 32-bit big endian"),
                       (DCMTK_REFUSES_USE_TWIN, "DCMTK 3.6.7 refuses 32-bit colour")):
        twin = twins.get(path.name)
        if twin is not None and path.with_name(twin).is_file():
            return path.with_name(twin), f"reference rendered from the twin {twin} ({why})"
    return path, ""


def readable_copy(path: Path, how: str, folder: Path) -> Path:
    """A copy of `path` DCMTK can read (DCMTK_NEEDS_A_COPY)."""
    target = folder / "readable.dcm"
    if how == "decompress-lut":
        gdcmconv = shutil.which("gdcmconv")
        if gdcmconv is None:
            raise ReferenceUnavailable("gdcmconv missing")
        done = subprocess.run([gdcmconv, "--decompress-lut", str(path), str(target)], capture_output=True,
                              text=True, timeout=DCMTK_TIMEOUT)
        if done.returncode != 0 or not target.exists():
            raise DcmtkRefused("gdcmconv --decompress-lut: " + (done.stderr or done.stdout).strip())
    else:  # explicit-vr
        copy = pydicom.dcmread(path)
        for _ in copy.iterall():  # converts each raw element, which gives it its VR from the dictionary
            pass
        copy.save_as(target, implicit_vr=False, little_endian=True)
    return target


def reference_source(path: Path, folder: Path) -> tuple[Path, str]:
    """The file DCMTK renders as the reference for `path`: itself, a twin or a readable copy, with a note."""
    if path.name in DCMTK_NEEDS_A_COPY:
        how, why = DCMTK_NEEDS_A_COPY[path.name]
        return readable_copy(path, how, folder), f"reference rendered from a copy ({how}: {why})"
    return reference_path(path)


def reference_image(path: Path, uid: pydicom.uid.UID | None, options: Sequence[str]) -> np.ndarray:
    """DCMTK's 8-bit rendering of frame 0 with the tool that reads this transfer syntax."""
    try:
        if uid in DCM2PNM_SYNTAXES:
            return dcm2pnm(path, *options)
        if uid in DCMJ2PNM_SYNTAXES:
            return dcm2pnm(path, *options, binary="dcmj2pnm")
        if uid in DCML2PNM_SYNTAXES:
            return dcm2pnm(path, *options, binary="dcml2pnm")
        if uid in JPEG2000_SYNTAXES:
            return gdcm_raw_then_dcm2pnm(path, *options)
    except subprocess.TimeoutExpired:
        raise DcmtkRefused(f"timed out after {DCMTK_TIMEOUT} s") from None
    raise ReferenceUnavailable(f"no DCMTK route for {syntax_label(uid)}")


def window_options(rendered: RenderedFrame, greyscale: bool) -> tuple[str, ...]:
    """The VOI the viewer chose by default (first window, else first VOI LUT, else min-max), asked of DCMTK."""
    return voi_options(rendered) if greyscale else ()


# ---- comparing --------------------------------------------------------------------------------------


def compare(rendered: RenderedFrame, reference: np.ndarray, greyscale: bool) -> tuple[Outcome, str, int | None]:
    """Within tolerance or not, with the largest difference; channel 0 stands for grey (R = G = B)."""
    ours = rendered.rgba[..., 0] if greyscale else rendered.rgba[..., :3]
    if ours.shape != reference.shape:
        return Outcome.DIFFERS, f"shape {ours.shape} but DCMTK gives {reference.shape}", None
    largest = int(np.abs(ours.astype(np.int16) - reference.astype(np.int16)).max(initial=0))
    tolerance = GREY_TOLERANCE if greyscale else COLOUR_TOLERANCE
    if largest <= tolerance:
        return Outcome.WITHIN, "", largest
    return Outcome.DIFFERS, f"differs (max {largest})", largest


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "(no message)")


def dcmtk_message(text: str) -> str:
    """The first line of DCMTK's message that says why it stopped: warnings ("W:") come first but do not."""
    lines = [line.strip() for line in text.splitlines()]
    return next((line for line in lines if line.startswith(("E:", "F:"))), first_line(text))


# ---- one file ---------------------------------------------------------------------------------------


def check_file(path: Path, name: str) -> FileResult | None:
    """The report line for one file, or None if it holds no pixel data; exceptions become ERROR lines."""
    data = path.read_bytes()
    ds = parse_header(data)
    if not holds_pixel_data(ds, data):
        return None
    uid = syntax_of(ds)
    labels = {"file": name, "path": str(path), "transfer_syntax": syntax_label(uid),
              "photometric": photometric_label(ds)}
    try:
        outcome, reason, largest = judge(path, name, data, uid, labels["photometric"] in GREYSCALE)
    except Exception as exc:  # a viewer bug: the session should have turned it into a Problem
        detail = "".join(traceback.format_exception(exc)).rstrip()
        return FileResult(**labels, outcome=Outcome.ERROR, reason=detail)
    return FileResult(**labels, outcome=outcome, reason=reason, max_difference=largest)


def judge(path: Path, name: str, data: bytes, uid: pydicom.uid.UID | None,
          greyscale: bool) -> tuple[Outcome, str, int | None]:
    """Open and render as the page does, then hold frame 0 against DCMTK."""
    session = Session()
    opened = session.open_file(name, data)
    if isinstance(opened, Problem):
        return Outcome.REFUSED, opened.reason, None
    rendered = session.render(0)
    if isinstance(rendered, Problem):
        return Outcome.FAILED, rendered.reason, None
    with tempfile.TemporaryDirectory() as folder:
        try:
            if greyscale and uses_frame_groups(session.images[0].dataset):
                source, uid = classic_frame_copy(path, 0, Path(folder)), pydicom.uid.ExplicitVRLittleEndian
                note = "reference rendered from a classic copy of frame 1 (DCMTK 3.6.7 ignores functional groups)"
            else:
                source, note = reference_source(path, Path(folder))
            reference = reference_image(source, uid, window_options(rendered, greyscale))
        except ReferenceUnavailable as exc:
            return Outcome.REFERENCE_UNAVAILABLE, f"reference unavailable ({exc})", None
        except DcmtkRefused as exc:
            return Outcome.REFERENCE_REFUSED, f"reference refused: {dcmtk_message(str(exc))}", None
    outcome, reason, largest = compare(rendered, reference, greyscale)
    return outcome, "; ".join(text for text in (reason, note) if text), largest


def conformance_report(files: Iterable[tuple[Path, str]]) -> list[FileResult]:
    """Every file that holds pixel data, judged. Serial: DCMTK takes ~15 ms a file, the whole run ~2 s."""
    return [result for path, name in files if (result := check_file(path, name)) is not None]


# ---- output -----------------------------------------------------------------------------------------

COLUMNS = ("files", "rendered", "within", "differs", "refused", "failed", "ref n/a", "ref refused")


def row_counts(results: Sequence[FileResult]) -> tuple[int, ...]:
    counts = Counter(result.outcome for result in results)
    rendered = sum(counts[outcome] for outcome in RENDERED)
    return (len(results), rendered, counts[Outcome.WITHIN], counts[Outcome.DIFFERS], counts[Outcome.REFUSED],
            counts[Outcome.FAILED], counts[Outcome.REFERENCE_UNAVAILABLE], counts[Outcome.REFERENCE_REFUSED])


def table_row(counts: Sequence[int | str], label: str) -> str:
    """Counts first and the label last, so that long syntax names do not widen every row."""
    return "".join(f"{count:>{len(column) + 2}}" for count, column in zip(counts, COLUMNS, strict=True)) + "  " + label


def reason_lines(results: Sequence[FileResult]) -> list[str]:
    """Distinct reasons for refusing (and failing), most frequent first, under their table row."""
    lines = []
    for outcome in (Outcome.REFUSED, Outcome.FAILED):
        reasons = Counter(one_line(result.reason) for result in results if result.outcome is outcome)
        lines += [f"      {count} {outcome}: {reason}" for reason, count in reasons.most_common()]
    return lines


def table(title: str, key: str, results: Sequence[FileResult]) -> list[str]:
    """One row per value of `key` (transfer_syntax or photometric), then the total."""
    groups: dict[str, list[FileResult]] = {}
    for result in results:
        groups.setdefault(getattr(result, key), []).append(result)
    lines = [table_row(COLUMNS, title)]
    for label in sorted(groups):
        lines += [table_row(row_counts(groups[label]), label), *reason_lines(groups[label])]
    return [*lines, table_row(row_counts(results), "total")]


def outcome_text(result: FileResult) -> str:
    """The reason, prefixed by the outcome unless it already says it ("differs (max 3)")."""
    if result.outcome is Outcome.ERROR:
        return "error: a Python exception escaped (below)"
    reason = one_line(result.reason)
    return reason if reason.startswith(str(result.outcome)) else f"{result.outcome}: {reason}"


def problem_list(results: Sequence[FileResult]) -> list[str]:
    """Every file that is not shown, differs or has no reference, with its reason and, where it is known
    (KNOWN_UNSHOWABLE), what is wrong with the file; then the files compared with a stand-in reference."""
    listed = [result for result in results if result.outcome in (*NOT_SHOWN_TO_MATCH, Outcome.REFUSED)]
    lines = ["Files not shown, that differ, or have no reference:"] if listed else [
        "Every file is shown and within tolerance of DCMTK."]
    for result in listed:
        lines.append(f"  {result.file} [{result.transfer_syntax}, {result.photometric}] {outcome_text(result)}")
        if result.file in KNOWN_UNSHOWABLE:
            lines.append(f"      known: {KNOWN_UNSHOWABLE[result.file]}")
        elif result.outcome in (Outcome.REFUSED, Outcome.FAILED):
            lines.append("      not documented in conformance.KNOWN_UNSHOWABLE")
    stand_ins = [result for result in results if result.outcome is Outcome.WITHIN and result.reason]
    if stand_ins:
        lines += ["", "Compared with a stand-in reference (DCMTK cannot render the file as it is):"]
        lines += [f"  {result.file}: {result.reason}" for result in stand_ins]
    return lines


def summary_line(results: Sequence[FileResult]) -> str:
    counts = Counter(result.outcome for result in results)
    parts = [f"{counts[outcome]} {outcome}" for outcome in Outcome if counts[outcome]]
    return f"{len(results)} files with pixel data: " + ", ".join(parts)


def format_report(results: Sequence[FileResult]) -> str:
    lines = [summary_line(results), "", *table("Transfer syntax", "transfer_syntax", results), "",
             *table("Photometric interpretation", "photometric", results), "", *problem_list(results)]
    for result in results:
        if result.outcome is Outcome.ERROR:
            lines += ["", f"Python exception for {result.path}:", result.reason]
    return "\n".join(lines)


def write_json(results: Sequence[FileResult], target: Path) -> None:
    target.write_text(json.dumps([asdict(result) for result in results], indent=1) + "\n", encoding="utf-8")


def read_json(source: Path) -> list[FileResult]:
    """The inverse of write_json (the tests prove the round trip)."""
    rows = json.loads(source.read_text(encoding="utf-8"))
    return [FileResult(**{**row, "outcome": Outcome(row["outcome"])}) for row in rows]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dicomview.tools.conformance", description=__doc__.split("\n")[0])
    parser.add_argument("directories", nargs="*", type=Path, metavar="DIR",
                        help="search these recursively for *.dcm (default: pydicom's and pydicom-data's files)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the per-file results as JSON")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning, module="pydicom")  # about the files: the report says it
    given = bool(args.directories)
    results = conformance_report(find_files(args.directories if given else default_directories(), recursive=given))
    print(format_report(results))
    if args.json:
        write_json(results, args.json)
    return 1 if any(result.outcome is Outcome.ERROR for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
