"""Opening many files at once: folders, zip archives and DICOMDIRs, one file at a time with a count.

The policy, as clinical viewers do it (Horos, Weasis, RadiAnt): a file the user picked by name is
always reported when it cannot be shown. A file found by walking a folder or an archive was not
picked: if it is not DICOM at all (no "DICM" preamble, PS3.10 7.1, and not readable as a bare
dataset: a README, .DS_Store, Thumbs.db, a PDF) or is a DICOM object without images (a report, a
presentation state), it is skipped and counted ("3 non-DICOM files skipped"), and the names are
kept for the diagnostics panel; a DICOM file that cannot be shown still gets its own line. Hidden
files and the __MACOSX folder of archives made on macOS are skipped without being read, and so are
large files whose first bytes rule DICOM out (may_be_dicom).

A DICOMDIR (PS3.10 8.6, PS3.3 F.5) is a directory, not an image: its records' Referenced File IDs
are resolved against the paths opened in the same batch; references that were not opened become
one line naming the DICOMDIR.

The browser reads each file's bytes asynchronously and yields between files; this module holds
everything else, so that it runs the same under CPython (Batch.run) and in the page. A file may come
as its bytes or as a seekable source read in place: then its Pixel Data stays in the file until a frame
is shown (dicomview.deferred).
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO

from pydicom.dataset import Dataset
from pydicom.uid import UID

from dicomview import deferred
from dicomview.decode import UnreadableFile, read_dataset
from dicomview.session import OpenedImage, Problem, Session

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"  # the DICOMDIR's SOP Class (PS3.4 Annex B.5)
ZIP_MAGIC = b"PK\x03\x04"
SYSTEM_FILES = {"thumbs.db", "desktop.ini", "__macosx"}
MAX_MEMBER_BYTES = 1 << 30  # a zip member declaring more is refused before it is inflated
NON_DICOM = "non-DICOM file"
NON_IMAGE = "DICOM object without images"
HIDDEN = "hidden or system file"
TOO_LARGE = "too large to read in this browser tab"
PEEK_ABOVE_BYTES = 1 << 20  # files found in folders above this size are checked by their first bytes first
BARE_DATASET_STARTS = {b"\x00\x00", b"\x02\x00", b"\x08\x00", b"\x00\x02", b"\x00\x08"}
PLURALS = {NON_DICOM: "non-DICOM files", NON_IMAGE: "DICOM objects without images", HIDDEN: "hidden or system files"}


@dataclass
class Entry:
    """One file to read: its path as the user knows it (inside the folder or archive opened) and how
    to get its bytes (a browser File as `handle`, or `read` for an archive member)."""

    path: str
    chosen: bool  # picked by name: reported when it cannot be shown, even if it is not DICOM
    handle: Any = None
    read: Callable[[], bytes] | None = None


@dataclass(frozen=True)
class Skipped:
    path: str
    kind: str  # NON_DICOM, NON_IMAGE or HIDDEN
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}{f' ({self.detail})' if self.detail else ''}"


@dataclass(frozen=True)
class DicomDir:
    """A DICOMDIR read in the batch: where it is, and the paths its records reference."""

    path: str
    references: tuple[str, ...]


def is_hidden(path: str) -> bool:
    """A hidden or system file or folder below the folder opened (whose own name does not count: the
    user chose it)."""
    parts = [part for part in path.split("/") if part][1:]
    return any(part.startswith(".") or part.casefold() in SYSTEM_FILES for part in parts)


def comparable(path: str) -> str:
    """Paths as a file-set compares them: case-insensitive (File IDs are upper case, PS3.10 8.5, but
    disks and archives often lower-case them), without an ISO 9660 version suffix (";1")."""
    return posixpath.normpath(path.split(";")[0]).casefold()


def dicomdir_references(path: str, ds: Dataset) -> DicomDir:
    """The files a DICOMDIR's directory records reference (Referenced File ID, relative to the
    DICOMDIR's own folder), as paths in the batch."""
    folder = posixpath.dirname(path)
    references = []
    for record in ds.get("DirectoryRecordSequence", []):
        file_id = record.get("ReferencedFileID")
        if file_id:
            parts = [file_id] if isinstance(file_id, str) else list(file_id)
            references.append(posixpath.join(folder, *[str(part).strip() for part in parts]))
    return DicomDir(path, tuple(dict.fromkeys(references)))


def is_dicomdir(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    sop_class = (meta.get("MediaStorageSOPClassUID") if meta is not None else None) or ds.get("SOPClassUID")
    return str(sop_class or "") == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds


def is_non_image(ds: Dataset) -> bool:
    """A DICOM object that never holds pixels (report, presentation state, key object, RT plan): no
    image attributes and a SOP Class whose name does not say Image."""
    if any(keyword in ds for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData", "Rows")):
        return False
    return "Image" not in UID(str(ds.get("SOPClassUID", "") or "")).name


def sop_class_name(ds: Dataset) -> str:
    uid = str(ds.get("SOPClassUID", "") or "")
    return UID(uid).name if uid else "no SOP Class"


def first_bytes(data: bytes | BinaryIO, count: int) -> bytes:
    """The first `count` bytes (all for -1) of bytes or of a seekable source, which is left at its start."""
    if isinstance(data, bytes | bytearray):
        return bytes(data[:count] if count >= 0 else data)
    data.seek(0)
    head = data.read(count)
    data.seek(0)
    return head


def may_be_dicom(head: bytes) -> bool:
    """From a file's first 132 bytes: a DICM preamble (PS3.10 7.1), a zip archive, or what a bare
    dataset starts with (a little- or big-endian tag of group 0000, 0002 or 0008)."""
    return head[128:132] == b"DICM" or head[:4] == ZIP_MAGIC or head[:2] in BARE_DATASET_STARTS


def member_path(archive_path: str, member: str) -> str:
    """An archive member's path under the archive's own ("scans.zip/CT/1.dcm"); ".." and absolute
    names stay inside it (the path is only shown, but it must not pretend to be elsewhere)."""
    return posixpath.join(archive_path, posixpath.normpath("/" + member.replace("\\", "/")).lstrip("/"))


@dataclass
class Batch:
    """The files of one open action, read one at a time: feed() each entry's bytes in the order
    next_entry() gives them, then finish()."""

    session: Session
    queue: deque[Entry] = field(default_factory=deque)
    total: int = 0
    done: int = 0
    opened: list[OpenedImage] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    directories: list[DicomDir] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # every path seen, for the DICOMDIR references
    reported: int = 0  # problems and skipped files the page has shown so far
    reported_skipped: int = 0

    def add(self, entries: Iterable[Entry], front: bool = False) -> None:
        """Queue entries (an archive's members go first, so they are read while it is in memory)."""
        wanted = []
        for entry in entries:
            self.paths.append(entry.path)
            if is_hidden(entry.path) and not entry.chosen:
                self.skipped.append(Skipped(entry.path, HIDDEN))
            else:
                wanted.append(entry)
        self.total += len(wanted)
        if front:
            self.queue.extendleft(reversed(wanted))
        else:
            self.queue.extend(wanted)

    def next_entry(self) -> Entry | None:
        return self.queue[0] if self.queue else None

    def progress_text(self) -> str:
        return f"Reading {min(self.done + 1, self.total)} of {self.total} files"

    def skip_unread(self, entry: Entry, head: bytes) -> bool:
        """Skip a large file found in a folder whose first bytes rule DICOM out (a viewer's .exe on a
        CD, a video), without reading the rest; True when skipped."""
        if entry.chosen or may_be_dicom(head):
            return False
        self.queue.popleft()
        self.done += 1
        self.skipped.append(Skipped(entry.path, NON_DICOM))
        return True

    def unreadable(self, entry: Entry, reason: str) -> None:
        """The entry's bytes could not be had (too large for the tab, moved since it was chosen)."""
        self.queue.popleft()
        self.done += 1
        self.add_problem(entry.path, reason)

    def feed(self, entry: Entry, data: bytes | BinaryIO | None = None) -> None:
        """Handle one entry: `data` is its bytes or a seekable source, or they come from entry.read
        (archive members)."""
        if data is None:
            try:
                data = entry.read()
            except MemoryError:
                return self.unreadable(entry, TOO_LARGE)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as exc:
                return self.unreadable(entry, f"cannot be read from its archive ({exc})")
        self.queue.popleft()
        self.done += 1
        try:  # a file read in place is read here: it may have gone since it was chosen
            head = first_bytes(data, 132)
            if head[128:132] != b"DICM" and head[:4] == ZIP_MAGIC:
                self._expand(entry, first_bytes(data, -1))
                return
        except MemoryError:
            return self.add_problem(entry.path, TOO_LARGE)
        except OSError as exc:
            return self.add_problem(entry.path, f"could not be read ({exc})")
        try:
            ds = read_dataset(data)
        except MemoryError:
            self.add_problem(entry.path, TOO_LARGE)
            return
        except UnreadableFile as exc:
            if entry.chosen or head[128:132] == b"DICM":
                self.add_problem(entry.path, str(exc))
            else:
                self.skipped.append(Skipped(entry.path, NON_DICOM))
            return
        if is_dicomdir(ds):
            self.directories.append(dicomdir_references(entry.path, ds))
        elif not entry.chosen and is_non_image(ds):
            self.skipped.append(Skipped(entry.path, NON_IMAGE, sop_class_name(ds)))
        else:
            outcome = self.session.open_dataset(entry.path, ds)
            (self.problems if isinstance(outcome, Problem) else self.opened).append(outcome)

    def add_problem(self, path: str, reason: str) -> None:
        self.problems.append(self.session.add_problem(path, reason))

    def _expand(self, entry: Entry, data: bytes) -> None:
        """A zip archive: its files (in nested folders, or nested archives) join the batch."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = [info for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            self.add_problem(entry.path, f"a damaged zip archive ({exc})")
            return
        entries = []
        for info in members:
            path = member_path(entry.path, info.filename)
            if info.flag_bits & 0x1:
                self.paths.append(path)
                self.add_problem(path, "encrypted in its zip archive (password-protected archives are not supported)")
            elif info.file_size > MAX_MEMBER_BYTES:
                self.paths.append(path)
                self.add_problem(path, f"too large in its zip archive ({info.file_size} bytes)")
            else:
                entries.append(Entry(path, False, read=partial(archive.read, info)))
        self.add(entries, front=True)

    def finish(self) -> list[Problem]:
        """Check every DICOMDIR's references against the files opened, arrange the session, and
        return the batch's problems (the DICOMDIR lines last)."""
        present = {comparable(path) for path in self.paths}
        for directory in self.directories:
            missing = [ref for ref in directory.references if comparable(ref) not in present]
            if missing:
                self.add_problem(directory.path, missing_references(missing, len(directory.references)))
        self.session.arrange()
        return self.problems

    def summary(self) -> str:
        """What was skipped and what the DICOMDIRs referenced, in one line ("" when nothing was)."""
        text = skipped_summary(self.skipped)
        if count := len(self.directories):  # references not opened have their own line; the rest were found
            text += ("; " if text else "") + f"{count} DICOMDIR{'s' if count > 1 else ''} read"
        return text

    def run(self, read: Callable[[Entry], bytes | BinaryIO],
            progress: Callable[[str], None] = lambda text: None) -> list[Problem]:
        """Read every entry synchronously (CPython: tests, tools), saying the progress before each file;
        the page runs the same loop with an await between files. `read` gives bytes or a seekable source."""
        while (entry := self.next_entry()) is not None:
            progress(self.progress_text())
            data = None if entry.read else read(entry)
            large = data is not None and deferred.size_of(data) > PEEK_ABOVE_BYTES
            if large and self.skip_unread(entry, first_bytes(data, 132)):
                continue  # the page reads only these first bytes
            self.feed(entry, data)
        return self.finish()


def skipped_summary(skipped: Iterable[Skipped]) -> str:
    """"3 non-DICOM files, 1 hidden or system file skipped" ("" when none was)."""
    counts = Counter(item.kind for item in skipped)
    parts = [f"{n} {kind if n == 1 else plural}" for kind, plural in PLURALS.items() if (n := counts[kind])]
    return f"{', '.join(parts)} skipped" if parts else ""


def diagnostics_text(problems: Iterable[Problem], skipped: Iterable[Skipped]) -> str:
    """The diagnostics panel as plain text, for the clipboard: one line per file."""
    lines = [str(problem) for problem in problems]
    skipped = list(skipped)
    if skipped:
        lines += ["", skipped_summary(skipped) + ":"] + [str(item) for item in skipped]
    return "\n".join(lines) + "\n"


def missing_references(missing: list[str], total: int) -> str:
    shown = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
    advice = " Open the folder that holds it (Open folder…) to see them." if len(missing) == total else ""
    return f"references {len(missing)} of {total} files that were not opened ({shown}).{advice}"
