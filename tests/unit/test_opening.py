"""Opening folders, zip archives and DICOMDIRs (dicomview.opening), on pydicom's real DICOMDIR file-set
(checked against pydicom's own FileSet reading it from disk) and on archives written here."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.fileset import FileSet
from pydicom.misc import is_dicom
from pydicom.uid import BasicTextSRStorage

from corpus import PYDICOM_FILES, corpus_file
from dicomview.opening import (
    HIDDEN,
    NON_DICOM,
    NON_IMAGE,
    Batch,
    Entry,
    comparable,
    may_be_dicom,
    member_path,
)
from dicomview.session import Session
from synthetic import base_dataset, image_dataset, write_dicom

FILE_SET = PYDICOM_FILES / "dicomdirtests"


def folder_entries(root: Path, name: str | None = None) -> list[Entry]:
    """What the page gets from a folder: every file, with its path inside the folder chosen."""
    top = name or root.name
    return [Entry(f"{top}/{path.relative_to(root).as_posix()}", chosen=False, handle=path)
            for path in sorted(root.rglob("*")) if path.is_file()]


def run(entries: list[Entry]) -> tuple[Batch, list[str]]:
    """A batch read like the page reads it, with the progress line before each file."""
    batch = Batch(Session())
    batch.add(entries)
    progress = []
    batch.run(lambda entry: Path(entry.handle).read_bytes(), progress.append)
    return batch, progress


def file_set_paths(dicomdir: Path, top: str) -> set[str]:
    """The files pydicom's FileSet (reading from disk) says the DICOMDIR references."""
    dicomdir = dicomdir.resolve()
    file_set = FileSet(pydicom.dcmread(dicomdir))
    return {f"{top}/{Path(instance.path).resolve().relative_to(dicomdir.parent).as_posix()}" for instance in file_set}


@pytest.fixture(scope="module")
def file_set_folder():
    return run(folder_entries(FILE_SET))


def test_a_folder_with_dicomdirs_opens_every_referenced_image(file_set_folder):
    batch, _ = file_set_folder
    referenced = file_set_paths(FILE_SET / "DICOMDIR", "dicomdirtests")
    assert {image.file_name for image in batch.opened} == referenced
    assert len(batch.directories) == 8  # seven variants of one DICOMDIR, and TINY_ALPHA's own
    assert not [p for p in batch.problems if "DICOMDIR" in p.file_name]  # every reference was there, and a
    # DICOMDIR is a directory, not an image without pixels


def test_files_without_a_dicm_preamble_in_a_folder_are_counted_not_listed(file_set_folder):
    batch, _ = file_set_folder
    not_dicom = {f"dicomdirtests/{path.relative_to(FILE_SET).as_posix()}"
                 for path in FILE_SET.rglob("*") if path.is_file() and not is_dicom(path)}
    assert {item.path for item in batch.skipped if item.kind == NON_DICOM} == not_dicom
    assert not_dicom == {"dicomdirtests/README.txt", "dicomdirtests/TINY_ALPHA/README"}
    assert not [problem for problem in batch.problems if problem.file_name in not_dicom]
    assert batch.summary().startswith("2 non-DICOM files skipped; 8 DICOMDIRs read")


def test_dicom_images_that_cannot_be_shown_keep_one_line_each(file_set_folder):
    """TINY_ALPHA's CT images carry no pixel data: DICOM images that cannot be shown, so each is named."""
    batch, _ = file_set_folder
    tiny = [path for path in (FILE_SET / "TINY_ALPHA").rglob("IM*")]
    lines = {p.file_name: p.reason for p in batch.problems}
    assert len(tiny) == 50 and len(lines) == 50
    assert all(lines[f"dicomdirtests/{p.relative_to(FILE_SET).as_posix()}"] == "no pixel data (not an image)"
               for p in tiny)


def test_progress_counts_every_file_once_in_order(file_set_folder):
    batch, progress = file_set_folder
    files = [path for path in FILE_SET.rglob("*") if path.is_file()]
    assert progress == [f"Reading {n} of {len(files)} files" for n in range(1, len(files) + 1)]
    assert batch.done == batch.total == len(files)


def test_a_dicomdir_opened_alone_says_its_files_were_not_opened():
    batch, _ = run([Entry("DICOMDIR", chosen=True, handle=FILE_SET / "DICOMDIR")])
    referenced = file_set_paths(FILE_SET / "DICOMDIR", "x")
    assert batch.opened == []
    (problem,) = batch.problems
    assert problem.file_name == "DICOMDIR"
    assert f"references {len(referenced)} of {len(referenced)} files that were not opened" in problem.reason
    assert "77654033/CR1/6154" in problem.reason and "Open folder" in problem.reason


def test_missing_referenced_files_are_counted_and_named(tmp_path):
    copy = tmp_path / "CD"
    shutil.copytree(FILE_SET / "77654033", copy / "77654033")
    shutil.copy(FILE_SET / "DICOMDIR", copy / "DICOMDIR")
    removed = sorted((copy / "77654033" / "CT2").iterdir())[:2]
    for path in removed:
        path.unlink()
    batch, _ = run(folder_entries(copy))
    (line,) = [p for p in batch.problems if p.file_name == "CD/DICOMDIR"]
    referenced = file_set_paths(FILE_SET / "DICOMDIR", "CD")
    present = {f"CD/{path.relative_to(copy).as_posix()}" for path in copy.rglob("*") if path.is_file()}
    missing = referenced - present  # the two removed, and the two patients not copied
    assert {f"CD/77654033/CT2/{path.name}" for path in removed} <= missing
    assert line.reason.startswith(f"references {len(missing)} of {len(referenced)} files that were not opened (")
    named = line.reason.split("(", 1)[1].split(")")[0].split(", ")
    assert named[-1] == "…" and set(named[:3]) <= missing
    assert "Open folder" not in line.reason  # some were found: the folder was opened, files are gone


def test_dicomdir_references_match_regardless_of_case_and_version_suffix(tmp_path):
    copy = tmp_path / "cd"
    for path in (FILE_SET / "77654033" / "CR1").iterdir():
        target = copy / "77654033" / "cr1" / (path.name + ";1")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    shutil.copy(FILE_SET / "DICOMDIR", copy / "dicomdir")
    batch, _ = run(folder_entries(copy))
    (line,) = [p for p in batch.problems if p.file_name == "cd/dicomdir"]
    assert "77654033/CR1/6154" not in line.reason  # found as 77654033/cr1/6154;1
    assert comparable("a/B/c;1") == comparable("A/b/C")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def report() -> bytes:
    ds = base_dataset(SOPClassUID=BasicTextSRStorage, Modality="SR")
    ds.file_meta.MediaStorageSOPClassUID = BasicTextSRStorage
    return write_dicom(ds)


def test_a_zip_with_nested_folders_and_archives_opens_its_images(tmp_path):
    mr = corpus_file("MR_small.dcm").read_bytes()
    inner = zip_bytes({"deeper/MR.dcm": mr, "notes.txt": b"not an image"})
    archive = tmp_path / "study.zip"
    archive.write_bytes(zip_bytes({
        "CT/one/CT_small.dcm": corpus_file("CT_small.dcm").read_bytes(),
        "CT/README": b"burned by the scanner",
        ".DS_Store": b"\0\0\0\1Bud1",
        "__MACOSX/CT/._CT_small.dcm": b"\0\5\26\7",
        "SR/report.dcm": report(),
        "bad/cut.dcm": mr[:600],
        "more/inner.zip": inner,
        "../../escape.dcm": mr,
    }))
    batch, progress = run([Entry("study.zip", chosen=True, handle=archive)])
    assert sorted(image.file_name for image in batch.opened) == [
        "study.zip/CT/one/CT_small.dcm", "study.zip/escape.dcm", "study.zip/more/inner.zip/deeper/MR.dcm"]
    kinds = {item.path: item.kind for item in batch.skipped}
    assert kinds == {
        "study.zip/CT/README": NON_DICOM,
        "study.zip/.DS_Store": HIDDEN,
        "study.zip/__MACOSX/CT/._CT_small.dcm": HIDDEN,
        "study.zip/SR/report.dcm": NON_IMAGE,
        "study.zip/more/inner.zip/notes.txt": NON_DICOM,
    }
    (problem,) = batch.problems  # a DICOM file (DICM preamble) that cannot be read: named, not skipped
    assert problem.file_name == "study.zip/bad/cut.dcm" and "truncated" in problem.reason
    # the archive, its 6 readable members, then the inner archive's 2: the total grows as archives open
    assert progress[0] == "Reading 1 of 1 files" and progress[-1] == "Reading 9 of 9 files"
    assert batch.summary() == "2 non-DICOM files, 1 DICOM object without images, 2 hidden or system files skipped"


def test_a_damaged_zip_is_one_line_and_the_batch_goes_on(tmp_path):
    damaged = tmp_path / "broken.zip"
    damaged.write_bytes(b"PK\x03\x04" + bytes(200))
    batch, _ = run([Entry("broken.zip", True, handle=damaged),
                    Entry("CT_small.dcm", True, handle=corpus_file("CT_small.dcm"))])
    assert [p.file_name for p in batch.problems] == ["broken.zip"]
    assert "damaged zip archive" in batch.problems[0].reason
    assert [image.file_name for image in batch.opened] == ["CT_small.dcm"]


def test_files_picked_by_name_are_always_reported(tmp_path):
    """The policy applies to files found in folders and archives; a file the user picked is named."""
    notes, sr = tmp_path / "notes.txt", tmp_path / "report.dcm"
    notes.write_text("patient notes")
    sr.write_bytes(report())
    batch, _ = run([Entry("notes.txt", True, handle=notes), Entry("report.dcm", True, handle=sr),
                    Entry(".hidden.dcm", True, handle=corpus_file("CT_small.dcm"))])
    assert [p.file_name for p in batch.problems] == ["notes.txt", "report.dcm"]
    assert batch.problems[0].reason.startswith("not a DICOM file")
    assert batch.problems[1].reason == "no pixel data (not an image)"
    assert [image.file_name for image in batch.opened] == [".hidden.dcm"] and batch.skipped == []


def test_member_paths_stay_inside_their_archive():
    assert member_path("a.zip", "../../etc/passwd") == "a.zip/etc/passwd"
    assert member_path("a.zip", "/abs/x.dcm") == "a.zip/abs/x.dcm"
    assert member_path("a.zip", "dir\\sub\\.keep") == "a.zip/dir/sub/.keep"


def test_an_image_without_a_preamble_in_a_folder_is_still_read(tmp_path):
    """A bare dataset (no DICM preamble) holding an image is DICOM: the skip rule needs both signs."""
    ds = image_dataset(np.arange(16).reshape(4, 4), StudyInstanceUID="1.2", SeriesInstanceUID="1.2.3")
    del ds.file_meta
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, implicit_vr=True, little_endian=True)
    bare = buffer.getvalue()
    assert bare[128:132] != b"DICM"
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "IMG0001").write_bytes(bare)
    batch, _ = run(folder_entries(tmp_path / "dir"))
    assert [image.file_name for image in batch.opened] == ["dir/IMG0001"], batch.problems


def patched_central_directory(data: bytes, offset: int, value: bytes) -> bytes:
    """An archive whose (single) central directory record says something else at `offset`
    (PKWARE APPNOTE 4.3.12: +8 general purpose flags, +24 uncompressed size)."""
    start = data.index(b"PK\x01\x02")
    return data[:start + offset] + value + data[start + offset + len(value):]


@pytest.mark.parametrize(("offset", "value", "reason"), [
    (8, b"\x01\x00", "encrypted in its zip archive (password-protected archives are not supported)"),
    (24, (3 << 30).to_bytes(4, "little"), "too large in its zip archive (3221225472 bytes)"),
])
def test_encrypted_and_oversized_members_are_named_without_inflating_them(tmp_path, offset, value, reason):
    archive = tmp_path / "a.zip"
    archive.write_bytes(patched_central_directory(zip_bytes({"x/CT.dcm": corpus_file("CT_small.dcm").read_bytes()}),
                                                  offset, value))
    batch, _ = run([Entry("a.zip", True, handle=archive)])
    assert [str(p) for p in batch.problems] == [f"a.zip/x/CT.dcm: {reason}"]
    assert batch.opened == []


def test_hidden_folders_below_the_one_opened_are_skipped_but_not_the_one_opened(tmp_path):
    root = tmp_path / ".export"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    shutil.copy(corpus_file("CT_small.dcm"), root / "CT_small.dcm")
    batch, progress = run(folder_entries(root))
    assert [image.file_name for image in batch.opened] == [".export/CT_small.dcm"]
    assert [str(item) for item in batch.skipped] == [".export/.git/HEAD: hidden or system file"]
    assert progress == ["Reading 1 of 1 files"]  # the hidden file is not even read


def test_a_file_set_in_a_zip_finds_its_references_inside_the_archive(tmp_path):
    archive = tmp_path / "cd.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((FILE_SET / "77654033").rglob("*")):
            zipped.write(path, path.relative_to(FILE_SET).as_posix())
        zipped.write(FILE_SET / "DICOMDIR", "DICOMDIR")
    batch, _ = run([Entry("cd.zip", True, handle=archive)])
    (line,) = batch.problems
    referenced = file_set_paths(FILE_SET / "DICOMDIR", "cd.zip")
    inside = {path for path in referenced if path.startswith("cd.zip/77654033/")}
    assert {image.file_name for image in batch.opened} == inside
    assert line.file_name == "cd.zip/DICOMDIR"
    assert line.reason.startswith(f"references {len(referenced - inside)} of {len(referenced)} files")


def test_a_file_too_large_for_the_tab_is_named_and_the_batch_goes_on():
    """Pyodide's heap is at most 4 GiB: a file or member that cannot be held becomes a line."""
    def exhausted() -> bytes:
        raise MemoryError

    batch, _ = run([Entry("huge.zip/IM1", False, read=exhausted),
                    Entry("CT_small.dcm", True, handle=corpus_file("CT_small.dcm"))])
    assert [str(p) for p in batch.problems] == ["huge.zip/IM1: too large to read in this browser tab"]
    assert [image.file_name for image in batch.opened] == ["CT_small.dcm"] and batch.done == batch.total == 2


def test_large_files_that_cannot_be_dicom_are_skipped_by_their_first_bytes(tmp_path):
    """A CD's viewer program or a video is ruled out by its first bytes; a DICOM file, a bare dataset,
    an archive are not."""
    ds = image_dataset(np.zeros((2, 2)))
    del ds.file_meta
    bare = io.BytesIO()
    pydicom.dcmwrite(bare, ds, implicit_vr=True, little_endian=True)
    for head in (corpus_file("CT_small.dcm").read_bytes(), bare.getvalue(), zip_bytes({"a": b"b"})):
        assert may_be_dicom(head[:132])
    for head in (b"MZ\x90\x00" + bytes(128), b"%PDF-1.7\n" + bytes(128), b"\x89PNG\r\n\x1a\n" + bytes(128)):
        assert not may_be_dicom(head[:132])
    folder = tmp_path / "CD"
    folder.mkdir()
    (folder / "viewer.exe").write_bytes(b"MZ\x90\x00" + bytes(3 << 20))
    shutil.copy(corpus_file("CT_small.dcm"), folder / "IM1")
    batch, progress = run(folder_entries(folder))
    assert [str(item) for item in batch.skipped] == ["CD/viewer.exe: non-DICOM file"]
    assert [image.file_name for image in batch.opened] == ["CD/IM1"] and batch.problems == []
    assert progress == ["Reading 1 of 2 files", "Reading 2 of 2 files"]


def test_skipping_by_the_first_bytes_counts_the_file_and_spares_picked_ones():
    batch = Batch(Session())
    batch.add([Entry("setup.exe", True), Entry("CD/setup.exe", False), Entry("CD/IM1", False)])
    exe = b"MZ\x90\x00" + bytes(128)
    assert not batch.skip_unread(batch.next_entry(), exe)  # picked by name: read and reported
    batch.unreadable(batch.next_entry(), "gone")
    assert batch.skip_unread(batch.next_entry(), exe)
    assert not batch.skip_unread(batch.next_entry(), corpus_file("CT_small.dcm").read_bytes()[:132])
    assert batch.done == 2 and batch.next_entry().path == "CD/IM1"
    assert [str(item) for item in batch.skipped] == ["CD/setup.exe: non-DICOM file"]
