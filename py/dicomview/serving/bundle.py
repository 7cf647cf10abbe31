"""The viewer's Python package as one archive for the browser: site/vendor/dicomview.zip.

Why one file: PyScript fetched the ~35 modules of pyscript.toml's [files] one by one after Pyodide
started, which took 140-200 ms of every start; the archive takes 20-40 ms (issue 7, tests/bench/README.md).
pyscript.toml now maps this archive to "./*", which PyScript 0.6 unpacks into Python's working
folder, so `import dicomview` finds the same files as before.

The archive holds every browser module's source and, where available, its bytecode: a .pyc made by
Pyodide's own Python (3.12; this CPython may be another version) under Node.js, in the __pycache__
place the import system looks in, "unchecked-hash" (PEP 552) so it is used without a look at the
source. It also holds the bytecode of PyScript's own Python package (pyscript_sources), which PyScript
writes into that same folder at every start and imported from source (~40 ms of a reload, ~85 of a first
visit, tests/bench/README.md): "checked-hash", so the browser uses it only for the very sources it was
made from. Made in two ways:
- the vendor step (`serve.py --vendor-only`) writes it into site/vendor/ with bytecode for every
  module, for the static hosts (`python -m http.server`, GitHub Pages), which serve it as a file (a
  module that does not compile fails the step; serve.py, which runs it too, only warns);
- serve.py and the Orthanc plugin build it from py/ at each request (cached on the sources' sizes and
  times), so an edit shows at the next reload without a vendor step; a module keeps the vendored
  bytecode only while its source is byte for byte the one it was compiled from.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dicomview.serving import vendor

PACKAGE = "dicomview"
ARCHIVE = "dicomview.zip"  # under site/vendor/
URL_PATH = f"site/vendor/{ARCHIVE}"  # relative to the folder holding site/, py/ and pyscript.toml
CPYTHON_ONLY = ("serving", "tools")  # subpackages never loaded in the browser
ENTRY = f"{PACKAGE}/web/main.py"  # run by PyScript from its own URL, never imported: no bytecode
COMPILER = Path(__file__).with_name("package_bytecode.mjs")
CACHE_TAG = f"cpython-{vendor.PYODIDE_PYTHON}"  # Pyodide's sys.implementation.cache_tag
PYSCRIPT_CORE = "pyscript"  # the vendored PyScript, under site/vendor/
# Where PyScript's bundle lists the Python package it writes into Python's working folder at each start
PYSCRIPT_PACKAGE = '{pyscript:{"__init__.py":'
JS_KEY = re.compile(r"[A-Za-z_$][\w$]*")  # an object literal's unquoted key
ZIP_DATE = zipfile.ZipInfo().date_time  # 1980-01-01, fixed: the same sources give the same bytes (bytecode.mjs too)


def browser_sources(py_root: Path) -> dict[str, bytes]:
    """Every module the browser needs, by its path in the archive ("dicomview/web/app.py").

    The same rule test_layout.py holds the package to: everything under py/dicomview but the
    CPython-only subpackages. As serve.py refuses them (static.safe_resolve), a link that leads out of
    py/ is left out: the archive must not carry a file the server would not send. What cannot be read
    is left out too (an editor's lock file, a module removed meanwhile): one such file must not stop
    the page from getting every other module."""
    package = py_root / PACKAGE
    inside = py_root.resolve()
    sources = {}
    for path in sorted(package.rglob("*.py")):
        if _for_the_browser(path, package, inside):
            try:
                sources[path.relative_to(py_root).as_posix()] = path.read_bytes()
            except OSError:
                continue
    return sources


def _for_the_browser(path: Path, package: Path, inside: Path) -> bool:
    """A regular file of a browser subpackage, neither hidden nor cached, that stays inside py/.

    Hidden names are editors' and tools' own files (Emacs's `.#app.py` lock is a link to nowhere); a
    folder or a dangling link named *.py is no module either."""
    parts = path.relative_to(package).parts
    return (parts[0] not in CPYTHON_ONLY and "__pycache__" not in parts
            and not any(part.startswith(".") for part in parts)
            and path.is_file() and path.resolve().is_relative_to(inside))


def pyscript_sources(vendor_dir: Path) -> dict[str, bytes]:
    """PyScript's own Python modules by archive path ("pyscript/magic_js.py"), read from the object literal
    of its vendored bundle that PyScript writes them from; nothing if no bundle holds one as expected (then
    PyScript compiles them at start, as it did)."""
    for script in sorted((vendor_dir / PYSCRIPT_CORE).glob("*.js")):
        text = script.read_text(encoding="utf-8", errors="replace")
        at = text.find(PYSCRIPT_PACKAGE)
        if at < 0:
            continue
        try:
            tree, _ = _js_object(text, at)
        except (ValueError, IndexError):
            return {}
        return {name: source.encode() for name, source in _flatten(tree)}
    return {}


def _js_object(text: str, at: int) -> tuple[dict, int]:
    """The object literal of plain keys and string or object values that starts at text[at]."""
    if text[at] != "{":
        raise ValueError(f"no object at {at}")
    out, at = {}, at + 1
    while text[at] != "}":
        if text[at] == '"':
            key, at = _js_string(text, at)
        else:
            name = JS_KEY.match(text, at)
            if not name:
                raise ValueError(f"no key at {at}")
            key, at = name.group(), name.end()
        if text[at] != ":":
            raise ValueError(f"no ':' at {at}")
        out[key], at = _js_object(text, at + 1) if text[at + 1] == "{" else _js_string(text, at + 1)
        if text[at] == ",":
            at += 1
    return out, at + 1


def _js_string(text: str, at: int) -> tuple[str, int]:
    """The double-quoted string literal at text[at] (the escapes a bundler writes are JSON's)."""
    end = at + 1
    while text[end] != '"':
        end += 2 if text[end] == "\\" else 1
    return json.loads(text[at:end + 1]), end + 1


def _flatten(tree: dict, prefix: str = "") -> Iterator[tuple[str, str]]:
    for name, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{name}/")
        else:
            yield f"{prefix}{name}", value


def bytecode_name(source_name: str) -> str:
    """Where the import system looks for the .pyc of a source file (importlib.util.cache_from_source)."""
    folder, _, file = source_name.rpartition("/")
    return f"{folder}/__pycache__/{file.removesuffix('.py')}.{CACHE_TAG}.pyc"


def compiled_names(sources: dict[str, bytes]) -> list[str]:
    """The sources that get bytecode: all but the entry script."""
    return [name for name in sources if name != ENTRY]


def build(sources: dict[str, bytes], bytecode: dict[str, bytes] | None = None) -> bytes:
    """The archive's bytes: sources and bytecode (keyed by their archive paths), in a fixed order."""
    entries = {**sources, **(bytecode or {})}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(entries):
            archive.writestr(zipfile.ZipInfo(name, ZIP_DATE), entries[name], zipfile.ZIP_DEFLATED)
    return out.getvalue()


def read(archive: bytes) -> dict[str, bytes]:
    """Every file of an archive, by name."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def read_or_nothing(path: Path) -> dict[str, bytes]:
    """The files of the archive at path; nothing if it is missing or damaged (then no bytecode is reused)."""
    try:
        return read(path.read_bytes())
    except (OSError, zipfile.BadZipFile):
        return {}


def reusable_bytecode(sources: dict[str, bytes], vendored: dict[str, bytes]) -> dict[str, bytes]:
    """The vendored archive's .pyc of each module whose source it holds unchanged: an edited module
    runs from its source (compiled in the browser) until the next vendor step. And PyScript's: checked
    against their sources in the browser, they are used only while those are the ones compiled."""
    reused = {name: data for name, data in vendored.items() if name.startswith(f"{PYSCRIPT_CORE}/")}
    for name in compiled_names(sources):
        pyc = bytecode_name(name)
        if pyc in vendored and vendored.get(name) == sources[name]:
            reused[pyc] = vendored[pyc]
    return reused


def up_to_date(vendored: dict[str, bytes], sources: dict[str, bytes], pyscript: Iterable[str] = ()) -> bool:
    """Does the vendored archive hold exactly these sources, each with its bytecode, and the bytecode of
    the named PyScript modules?"""
    expected = set(sources) | {bytecode_name(name) for name in [*compiled_names(sources), *pyscript]}
    return set(vendored) == expected and all(vendored[name] == data for name, data in sources.items())


@dataclass(frozen=True)
class Compiled:
    """What package_bytecode.mjs made: the .pyc by archive path, and the modules it could not compile."""

    bytecode: dict[str, bytes]
    failures: tuple[str, ...] = ()  # "dicomview/web/app.py:3: invalid syntax": these ship as source only


class CompileFailed(vendor.VendorError):
    """Some modules did not compile; the message names each as `py/file:line: message`, on one line."""


def compile_bytecode(vendor_dir: Path, sources: dict[str, bytes]) -> Compiled:
    """The .pyc of every compiled source, made by the vendored Pyodide under Node.js (package_bytecode.mjs),
    by archive path, and the modules that did not compile. Fails (VendorError) if Node.js or Pyodide cannot
    run, or unless it gave exactly the expected files: a Pyodide of another Python would name them with
    another cache tag, which the browser's import system would not look for."""
    wanted = {**{name: sources[name] for name in compiled_names(sources)}, **pyscript_sources(vendor_dir)}
    with tempfile.TemporaryDirectory(prefix="dicomview-bundle-") as tmp:
        work = Path(tmp)
        (work / "sources.zip").write_bytes(build(wanted))
        outputs = [str(work / name) for name in ("sources.zip", "bytecode.zip", "failures.txt")]
        command = ["node", str(COMPILER), str(vendor_dir.resolve()), *outputs]
        vendor._run(command, work, "byte-compiling py/dicomview under Node.js (package_bytecode.mjs)", "failed")
        bytecode = read((work / "bytecode.zip").read_bytes())
        failures = tuple((work / "failures.txt").read_text().splitlines())
    failed = {bytecode_name(failure.split(":", 1)[0]) for failure in failures}
    expected = {bytecode_name(name) for name in wanted}
    if set(bytecode) | failed != expected:
        unexpected = sorted((set(bytecode) | failed) ^ expected)[:3]
        raise vendor.VendorError(f"package_bytecode.mjs did not make the {CACHE_TAG} bytecode expected: {unexpected}")
    return Compiled(bytecode, failures)


Compiler = Callable[[Path, dict[str, bytes]], Compiled]


def vendor_archive(repo_root: Path, compiler: Compiler = compile_bytecode) -> bool:
    """Write site/vendor/dicomview.zip for static hosts, with bytecode for every module, unless it
    already holds the current sources. Returns True if it was written. Needs the vendored Pyodide.

    A module that does not compile is written as source only (the page shows its error as it would
    without bytecode), then CompileFailed names it: the vendor step must not pass unnoticed."""
    vendor_dir = repo_root / "site" / "vendor"
    target = vendor_dir / ARCHIVE
    sources = browser_sources(repo_root / "py")
    if up_to_date(read_or_nothing(target), sources, pyscript_sources(vendor_dir)):
        return False
    compiled = compiler(vendor_dir, sources)
    data = build(sources, compiled.bytecode)
    partial = target.with_suffix(".zip.part")
    partial.write_bytes(data)
    partial.replace(target)
    if compiled.failures:
        raise CompileFailed("; ".join(f"py/{failure}" for failure in compiled.failures))
    return True


@dataclass(frozen=True)
class Built:
    """An archive built for serving, with what HTTP validators need."""

    data: bytes
    mtime: int  # Last-Modified, whole seconds: later for every new content (last_modified)
    tag: str  # its content's hash: ETag


Signature = tuple[tuple[str, int, int], ...]  # (path, mtime in ns, size) of every input there is


def _signature(paths: list[Path]) -> Signature:
    """What would change if any input changed (sources, their folders for removals, the vendored archive)."""
    out = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:  # gone, or a link to nowhere: browser_sources leaves it out too
            continue
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def _inputs(repo_root: Path) -> list[Path]:
    """The files and folders whose change may change the served archive: every folder of the package (a
    removed module changes only its folder), every *.py and the vendored archive (its bytecode is reused)."""
    package = repo_root / "py" / PACKAGE
    folders = [package, *(p for p in package.rglob("*") if p.is_dir() and p.name != "__pycache__")]
    return [*folders, *package.rglob("*.py"), repo_root / "site" / "vendor" / ARCHIVE]


_cache: dict[Path, tuple[Signature, Built]] = {}  # by repository root: one build per change
_lock = threading.Lock()


class BuildError(RuntimeError):
    """The archive could not be built; the message is one short line, for a 500 answer's body."""


def served(repo_root: Path) -> Built:
    """The archive as serve.py and the Orthanc plugin answer it: built from py/ now, with the vendored
    bytecode of every unchanged module; rebuilt only when an input's size or time changed.

    Raises BuildError whatever went wrong (an unreadable folder, a full disk), so that both servers
    answer with an error rather than drop the connection."""
    try:
        return _served(repo_root)
    except Exception as exc:  # any failure becomes one answer
        raise BuildError(f"cannot build {URL_PATH} from py/: {exc}"[:300]) from exc


def _served(repo_root: Path) -> Built:
    """served() itself, whose failures are not yet put in one line."""
    inputs = _inputs(repo_root)
    signature = _signature(inputs)
    with _lock:
        cached = _cache.get(repo_root)
        if cached and cached[0] == signature:
            return cached[1]
        sources = browser_sources(repo_root / "py")
        vendored_path = repo_root / "site" / "vendor" / ARCHIVE
        vendored = read_or_nothing(vendored_path)
        data = build(sources, reusable_bytecode(sources, vendored))
        tag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        newest = max((entry[1] for entry in signature), default=0) / 1e9
        built = Built(data, last_modified(tag, newest, cached[1] if cached else None, time.time()), tag)
        _cache[repo_root] = (signature, built)
        return built


def last_modified(tag: str, newest_input: float, previous: Built | None, now: float) -> int:
    """The archive's Last-Modified: the previous one while the content is the same, else a later second
    than any date a browser may hold for another content.

    Chromium revalidates it by date alone, in whole seconds (static.not_modified): the newest input's
    time would give two edits within one second (or a file restored with an older time) the same date,
    and the second reload a 304 with stale code. Hence one second past the previous date, and never
    before now (a browser may hold a date this process never gave, from before a restart). That may be
    a second or so ahead of the Date header; browsers only send it back."""
    if previous is not None and previous.tag == tag:
        return previous.mtime
    after_previous = previous.mtime + 1 if previous is not None else 0
    return max(math.ceil(newest_input), after_previous, math.ceil(now))
