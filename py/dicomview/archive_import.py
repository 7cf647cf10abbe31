"""Import packages straight from their wheels, unpacking only what the import system cannot read there.

Why (issue 7): Pyodide's loadPackage unpacks each wheel into its in-memory file system at every start,
in Python, and links every WebAssembly extension the wheel holds. For numpy, pydicom and their
bytecode that was ~0.5 s of each page load: ~800 files, of which start-up imports ~200, and 19 numpy
extensions, of which it imports 2. Here:
- a module's source, and its .pyc (which may come from another archive), are read from the archive
  when the module is imported, by the standard library's SourceFileLoader: bytecode is validated and
  used as it would be on disk, and tracebacks show the sources' lines;
- an extension module is unpacked when first imported, then loaded as usual (Pyodide links it then);
- every other file (data, metadata, bytecode of modules not in the archives) is unpacked at once, where
  the wheel would have put it, so `__file__`-relative data and `importlib.metadata` work as installed;
  except the files the caller names as never read at run time.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterable
from importlib.machinery import ModuleSpec
from pathlib import Path

SOURCE_SUFFIX = ".py"
EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
CACHE_FOLDER = "/__pycache__/"


class Archives:
    """The files of several archives, by the absolute path each would have once unpacked in root."""

    def __init__(self, root: str | Path, archives: Iterable[zipfile.ZipFile]) -> None:
        self.root = Path(root)
        self.members: dict[str, tuple[zipfile.ZipFile, zipfile.ZipInfo]] = {}
        for archive in archives:
            for info in archive.infolist():
                if not info.is_dir():
                    self.members[str(self.root / info.filename)] = (archive, info)

    def read(self, path: str) -> bytes | None:
        found = self.members.get(path)
        return read_member(*found) if found else None

    def size(self, path: str) -> int:
        return self.members[path][1].file_size

    def unpack(self, path: str) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.read(path))

    def imported_from_here(self, path: str) -> bool:
        """A module's source or bytecode, or an extension: read or unpacked when imported."""
        if path.endswith(SOURCE_SUFFIX) or path.endswith(EXTENSION_SUFFIXES):
            return True
        folder, cache, name = path.rpartition(CACHE_FOLDER)
        return bool(cache) and f"{folder}/{name.split('.')[0]}{SOURCE_SUFFIX}" in self.members

    def unpack_the_rest(self, never_read: tuple[str, ...] = ()) -> None:
        """Unpack every file not imported_from_here, but those whose path inside the archive starts
        with or ends with one of never_read."""
        for path, (_, info) in self.members.items():
            name = info.filename
            if not (self.imported_from_here(path) or name.startswith(never_read) or name.endswith(never_read)):
                self.unpack(path)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """ZipFile.read, for stored and deflated members, without its per-member objects: measured in the
    page, ~0.25 ms a module, 35 ms of the ~150 modules start-up imports (against ~15). CRC-checked."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
        return archive.read(info)  # other methods, or encrypted: the zipfile module's own way
    file = archive.fp
    file.seek(info.header_offset)
    header = file.read(zipfile.sizeFileHeader)
    if len(header) != zipfile.sizeFileHeader or header[:4] != zipfile.stringFileHeader:
        raise zipfile.BadZipFile(f"{info.filename}: bad local file header")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    file.seek(info.header_offset + zipfile.sizeFileHeader + name_length + extra_length)
    data = file.read(info.compress_size)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        data = zlib.decompress(data, -zlib.MAX_WBITS)
    if zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"{info.filename}: bad CRC-32")
    return data


class ArchiveLoader(importlib.machinery.SourceFileLoader):
    """SourceFileLoader whose files come from Archives (or, if not there, from the file system)."""

    def __init__(self, fullname: str, path: str, archives: Archives) -> None:
        super().__init__(fullname, path)
        self.archives = archives

    def get_data(self, path: str) -> bytes:
        data = self.archives.read(path)
        return super().get_data(path) if data is None else data

    def path_stats(self, path: str) -> dict[str, int]:
        # Archives have no reliable dates. The bytecode made at vendor time is "unchecked-hash" (PEP 552),
        # which is never compared with them; a timestamped .pyc would be found stale and recompiled.
        return {"mtime": 0, "size": self.archives.size(path)}

    def set_data(self, path: str, data: bytes, *, _mode: int = 0o666) -> None:
        """Writes no bytecode: the file system is in memory and gone at the next start."""


class ArchiveFinder:
    """A meta path finder for the modules held in Archives; it leaves anything else to the next finder."""

    def __init__(self, archives: Archives) -> None:
        self.archives = archives

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        base = self.archives.root.joinpath(*fullname.split("."))
        for origin, search in ((base / "__init__.py", [str(base)]), (base.with_name(base.name + SOURCE_SUFFIX), None)):
            if str(origin) in self.archives.members:
                loader = ArchiveLoader(fullname, str(origin), self.archives)
                return importlib.util.spec_from_file_location(fullname, origin, loader=loader,
                                                              submodule_search_locations=search)
        for suffix in EXTENSION_SUFFIXES:
            origin = str(base.with_name(base.name + suffix))
            if origin in self.archives.members:
                if not Path(origin).is_file():
                    self.archives.unpack(origin)
                loader = importlib.machinery.ExtensionFileLoader(fullname, origin)
                return importlib.util.spec_from_file_location(fullname, origin, loader=loader)
        return None

    def invalidate_caches(self) -> None:
        """Nothing to forget: the archives do not change."""


def install(root: str | Path, archives: Iterable[zipfile.ZipFile], never_read: tuple[str, ...] = ()) -> ArchiveFinder:
    """Make the archives' packages importable as if their wheels were unpacked in root (a folder on
    sys.path): the finder goes just before the file system's own (PathFinder)."""
    held = Archives(root, archives)
    held.unpack_the_rest(never_read)
    finder = ArchiveFinder(held)
    at = next((i for i, item in enumerate(sys.meta_path) if item is importlib.machinery.PathFinder), len(sys.meta_path))
    sys.meta_path.insert(at, finder)
    # Only the finders of folders under root can have cached a listing that the unpacking changed.
    # (Not importlib.invalidate_caches(): it imports importlib.metadata, ~40 ms of a page's start.)
    for folder, cached in list(sys.path_importer_cache.items()):
        if cached is not None and Path(folder).is_relative_to(held.root):
            cached.invalidate_caches()
    return finder
