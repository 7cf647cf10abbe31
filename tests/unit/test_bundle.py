"""The package archive (dicomview.serving.bundle): what goes in, that it is reproducible, that serving
rebuilds it from py/ after an edit, and that the vendored bytecode is Pyodide's Python's and is kept only
for unchanged modules.

The fake repositories here hold a few modules; one test compiles real bytecode with the vendored Pyodide
under Node.js (as the vendor step does), the others hand in fake bytecode.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from dicomview.serving import bundle
from dicomview.serving.vendor import VendorError
from in_pyodide import COUNT_COMPILED

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "site" / "vendor"
PYTHON_312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of CPython 3.12
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, not checked against the source
CHECKED_HASH = 0b11  # hash-based, checked against the source at import

MODULES = {
    "dicomview/__init__.py": b'"""fake package"""\n',
    "dicomview/pipeline.py": b"def window(x):\n    return x\n",
    "dicomview/web/__init__.py": b"",
    "dicomview/web/app.py": b"from dicomview.pipeline import window\n",
    "dicomview/web/main.py": b"await start()\n",  # top-level await, as PyScript allows: never imported
}
CPYTHON_ONLY = {
    "dicomview/serving/__init__.py": b"",
    "dicomview/serving/static.py": b"SERVER = 1\n",
    "dicomview/tools/report.py": b"REPORT = 1\n",
    "dicomview/__pycache__/pipeline.cpython-311.pyc": b"CPython's own cache",
}


def fake_repo(base: Path) -> Path:
    for rel, data in {**MODULES, **CPYTHON_ONLY}.items():
        path = base / "py" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (base / "site" / "vendor").mkdir(parents=True)
    return base


def fake_bytecode(sources: dict[str, bytes]) -> dict[str, bytes]:
    """"Bytecode" that names the source it was made from."""
    return {bundle.bytecode_name(name): b"PYC:" + sources[name] for name in bundle.compiled_names(sources)}


def fake_compiler(vendor_dir: Path, sources: dict[str, bytes]) -> bundle.Compiled:
    """Stands in for Node.js."""
    return bundle.Compiled(fake_bytecode(sources))


def test_the_archive_holds_every_browser_module_and_nothing_server_side(tmp_path):
    assert bundle.browser_sources(fake_repo(tmp_path) / "py") == MODULES


def test_a_link_out_of_py_is_not_packed(tmp_path):
    """serve.py refuses to send such a file (static.safe_resolve); the archive must not carry it either."""
    repo = fake_repo(tmp_path / "repo")
    (tmp_path / "secret.py").write_bytes(b"SECRET = 'outside the repository'\n")
    (repo / "py" / "dicomview" / "leak.py").symlink_to(tmp_path / "secret.py")
    (repo / "py" / "dicomview" / "alias.py").symlink_to(repo / "py" / "dicomview" / "pipeline.py")
    packed = bundle.browser_sources(repo / "py")
    assert "dicomview/leak.py" not in packed
    assert packed["dicomview/alias.py"] == MODULES["dicomview/pipeline.py"]


def test_hidden_and_irregular_files_are_not_packed(tmp_path):
    """An editor's lock file (Emacs: `.#app.py`, a link to nowhere), a hidden module and a folder named like a
    module would make read_bytes raise; the archive is built without them, for serving and vendoring alike."""
    repo = fake_repo(tmp_path)
    package = repo / "py" / "dicomview"
    (package / "web" / ".#app.py").symlink_to("user@host.1234:1700000000")
    (package / ".hidden.py").write_bytes(b"HIDDEN = 1\n")
    (package / "folder.py").mkdir()
    assert bundle.browser_sources(repo / "py") == MODULES
    assert bundle.read(bundle.served(repo).data) == MODULES
    assert bundle.vendor_archive(repo, fake_compiler)


def test_a_module_removed_while_the_archive_is_built_is_left_out(tmp_path, monkeypatch):
    repo = fake_repo(tmp_path)
    read_bytes = Path.read_bytes

    def removed_meanwhile(path: Path) -> bytes:
        if path.name == "pipeline.py":
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", removed_meanwhile)
    packed = bundle.browser_sources(repo / "py")
    assert packed == {name: data for name, data in MODULES.items() if name != "dicomview/pipeline.py"}


def test_the_entry_script_gets_no_bytecode():
    """PyScript runs main.py from its own URL (top-level await); compiling it as a module would fail."""
    assert bundle.compiled_names(MODULES) == [name for name in MODULES if name != "dicomview/web/main.py"]


def test_bytecode_goes_where_the_import_system_looks():
    cache = importlib.util.cache_from_source("dicomview/web/app.py")
    assert bundle.bytecode_name("dicomview/web/app.py") == cache.replace(
        importlib.util.sys.implementation.cache_tag, bundle.CACHE_TAG)


def test_the_same_sources_give_the_same_bytes():
    first = bundle.build(MODULES, {"dicomview/__pycache__/pipeline.cpython-312.pyc": b"x"})
    second = bundle.build(dict(reversed(MODULES.items())), {"dicomview/__pycache__/pipeline.cpython-312.pyc": b"x"})
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.namelist() == sorted(archive.namelist())
        assert {info.date_time for info in archive.infolist()} == {bundle.ZIP_DATE}


def test_vendoring_writes_bytecode_for_every_module_then_only_when_a_source_changed(tmp_path):
    repo = fake_repo(tmp_path)
    calls = []

    def counting(vendor_dir, sources):
        calls.append(vendor_dir)
        return fake_compiler(vendor_dir, sources)

    assert bundle.vendor_archive(repo, counting)
    archive = bundle.read((repo / "site" / "vendor" / bundle.ARCHIVE).read_bytes())
    assert archive == {**MODULES, **fake_bytecode(MODULES)}
    assert not bundle.vendor_archive(repo, counting)
    (repo / "py" / "dicomview" / "pipeline.py").write_bytes(b"def window(x):\n    return -x\n")
    assert bundle.vendor_archive(repo, counting)
    assert len(calls) == 2
    assert not (repo / "site" / "vendor" / "dicomview.zip.part").exists()


def test_a_compiler_that_names_its_files_for_another_python_fails_the_vendor_step(tmp_path, monkeypatch):
    repo = fake_repo(tmp_path)

    def other_python(command, cwd, source, failed):
        names = [bundle.bytecode_name(name).replace("cpython-312", "cpython-313") for name in
                 bundle.compiled_names(MODULES)]
        Path(command[-2]).write_bytes(bundle.build(dict.fromkeys(names, b"pyc")))
        Path(command[-1]).write_text("")

    monkeypatch.setattr(bundle.vendor, "_run", other_python)
    with pytest.raises(VendorError, match="cpython-312"):
        bundle.vendor_archive(repo)
    assert not (repo / "site" / "vendor" / bundle.ARCHIVE).exists()


def test_serving_rebuilds_after_an_edit_and_keeps_bytecode_only_for_unchanged_modules(tmp_path):
    repo = fake_repo(tmp_path)
    bundle.vendor_archive(repo, fake_compiler)
    first = bundle.served(repo)
    assert first.data == (repo / "site" / "vendor" / bundle.ARCHIVE).read_bytes()
    assert bundle.served(repo) is first  # nothing changed: not rebuilt

    (repo / "py" / "dicomview" / "pipeline.py").write_bytes(b"EDITED = True\n")
    second = bundle.served(repo)
    files = bundle.read(second.data)
    assert files["dicomview/pipeline.py"] == b"EDITED = True\n"
    assert "dicomview/__pycache__/pipeline.cpython-312.pyc" not in files  # runs from the edited source
    assert files["dicomview/web/__pycache__/app.cpython-312.pyc"] == b"PYC:" + MODULES["dicomview/web/app.py"]
    assert second.tag != first.tag and second.mtime > first.mtime


def test_the_served_archive_dates_grow_with_every_change_and_only_then(tmp_path):
    """Last-Modified is what Chromium revalidates by, in whole seconds: each new content needs a later one,
    even when the edits share a second or a restored file brings back an older time."""
    repo = fake_repo(tmp_path)
    pipeline = repo / "py" / "dicomview" / "pipeline.py"
    dates = [bundle.served(repo).mtime]
    for edited in (b"A = 1\n", b"A = 22\n", b"A = 333\n"):
        pipeline.write_bytes(edited)
        os.utime(pipeline, (1_000_000_000.5, 1_000_000_000.5))  # the same old second each time
        dates.append(bundle.served(repo).mtime)
    assert dates == sorted(set(dates)) and all(isinstance(date, int) for date in dates)
    os.utime(pipeline, (1_000_000_000.9, 1_000_000_000.9))  # touched, not changed: the same date
    assert bundle.served(repo).mtime == dates[-1]


def test_serving_sees_a_new_and_a_removed_module(tmp_path):
    repo = fake_repo(tmp_path)
    first = bundle.served(repo)
    (repo / "py" / "dicomview" / "added.py").write_bytes(b"NEW = 1\n")
    assert "dicomview/added.py" in bundle.read(bundle.served(repo).data)
    (repo / "py" / "dicomview" / "added.py").unlink()
    assert bundle.read(bundle.served(repo).data) == bundle.read(first.data)


def test_serving_without_a_vendored_archive_or_with_a_damaged_one_sends_sources_only(tmp_path):
    repo = fake_repo(tmp_path)
    assert bundle.read(bundle.served(repo).data) == MODULES
    (repo / "site" / "vendor" / bundle.ARCHIVE).write_bytes(b"not a zip")
    assert bundle.read(bundle.served(repo).data) == MODULES


def test_the_vendored_pyodide_compiles_python_312_bytecode_that_skips_the_source_check(tmp_path):
    """The real compiler, as the vendor step runs it (Node.js and the vendored Pyodide)."""
    if not (VENDOR / "pyodide" / "pyodide.mjs").is_file():
        pytest.fail(f"{VENDOR} is missing: run `python serve.py --vendor-only` first")
    compiled = bundle.compile_bytecode(VENDOR, MODULES)
    bytecode = compiled.bytecode
    assert compiled.failures == ()
    ours = {bundle.bytecode_name(name) for name in bundle.compiled_names(MODULES)}
    pyscript = {bundle.bytecode_name(name) for name in bundle.pyscript_sources(VENDOR)}
    assert set(bytecode) == ours | pyscript and len(pyscript) >= 10
    for name, pyc in bytecode.items():
        assert pyc[:4] == PYTHON_312_MAGIC
        assert struct.unpack("<I", pyc[4:8])[0] == (UNCHECKED_HASH if name in ours else CHECKED_HASH), name


def with_vendored_pyodide(repo: Path) -> Path:
    """A fake repository whose site/vendor/ has the real Pyodide, for the real compiler."""
    if not (VENDOR / "pyodide" / "pyodide.mjs").is_file():
        pytest.fail(f"{VENDOR} is missing: run `python serve.py --vendor-only` first")
    (repo / "site" / "vendor" / "pyodide").symlink_to(VENDOR / "pyodide", target_is_directory=True)
    return repo


def test_a_module_that_does_not_compile_ships_as_source_and_is_named_in_one_line(tmp_path):
    """The vendor step writes every other module's bytecode, then fails with `file:line: message`, not with
    pages of Node.js output; serve.py only warns with it (test_serve.py)."""
    repo = with_vendored_pyodide(fake_repo(tmp_path))
    (repo / "py" / "dicomview" / "broken.py").write_bytes(b"def window(x):\n    return (x\n\nVALUE = 1\n")
    with pytest.raises(bundle.CompileFailed) as failed:
        bundle.vendor_archive(repo)
    assert str(failed.value).startswith("py/dicomview/broken.py:2: ")
    assert "\n" not in str(failed.value) and len(str(failed.value)) < 200
    archive = bundle.read((repo / "site" / "vendor" / bundle.ARCHIVE).read_bytes())
    assert "dicomview/broken.py" in archive and bundle.bytecode_name("dicomview/broken.py") not in archive
    assert {bundle.bytecode_name(name) for name in bundle.compiled_names(MODULES)} <= set(archive)


def test_a_compiler_that_cannot_run_says_so_in_one_short_line(tmp_path):
    """Here Pyodide is missing; Node.js then prints its stack and a line of the minified runtime."""
    with pytest.raises(VendorError) as failed:
        bundle.compile_bytecode(tmp_path / "no-vendor", MODULES)
    message = str(failed.value)
    assert "package_bytecode.mjs" in message and "unreachable" not in message
    assert "\n" not in message and len(message) < 1000


# --- PyScript's own Python package ------------------------------------------------------------------

FAKE_PYSCRIPT_BUNDLE = (
    'const x=1;Ao(".",{pyscript:{"__init__.py":"from pyscript.util import X\\n",'
    '"util.py":"X = \\"quoted\\" \\\\ \\u00e9\\n","sub":{"deep.py":"Y = 2\\n"}}});'
)


def test_pyscript_modules_are_read_from_the_object_literal_of_its_bundle(tmp_path):
    (tmp_path / "pyscript").mkdir()
    (tmp_path / "pyscript" / "core-abc.js").write_text(FAKE_PYSCRIPT_BUNDLE)
    assert bundle.pyscript_sources(tmp_path) == {
        "pyscript/__init__.py": b"from pyscript.util import X\n",
        "pyscript/util.py": 'X = "quoted" \\ \u00e9\n'.encode(),
        "pyscript/sub/deep.py": b"Y = 2\n",
    }
    (tmp_path / "pyscript" / "core-abc.js").write_text(FAKE_PYSCRIPT_BUNDLE.replace('"util.py"', "+"))
    assert bundle.pyscript_sources(tmp_path) == {}  # not as expected: no bytecode for PyScript, no failure
    assert bundle.pyscript_sources(tmp_path / "nothing") == {}


def test_the_pinned_pyscript_modules_are_found(tmp_path):
    """(Compiled in Pyodide's Python below: they use 3.12's f-strings, which this Python may not parse.)"""
    sources = bundle.pyscript_sources(VENDOR)
    assert {"pyscript/__init__.py", "pyscript/magic_js.py", "pyscript/display.py"} <= set(sources)
    assert sources["pyscript/__init__.py"].startswith(b"from polyscript import")


def test_pyscript_bytecode_is_vendored_and_served_with_the_package(tmp_path):
    repo = fake_repo(tmp_path)
    (repo / "site" / "vendor" / "pyscript").mkdir()
    (repo / "site" / "vendor" / "pyscript" / "core-abc.js").write_text(FAKE_PYSCRIPT_BUNDLE)
    pyscript = bundle.pyscript_sources(repo / "site" / "vendor")

    def with_pyscript(vendor_dir, sources):
        return bundle.Compiled({**fake_bytecode(sources), **{bundle.bytecode_name(n): b"PYC" for n in pyscript}})

    assert bundle.vendor_archive(repo, with_pyscript)
    archive = bundle.read((repo / "site" / "vendor" / bundle.ARCHIVE).read_bytes())
    assert "pyscript/__pycache__/util.cpython-312.pyc" in archive and "pyscript/util.py" not in archive
    assert not bundle.vendor_archive(repo, with_pyscript)  # up to date
    (repo / "py" / "dicomview" / "pipeline.py").write_bytes(b"EDITED = True\n")
    served = bundle.read(bundle.served(repo).data)
    assert served["pyscript/sub/__pycache__/deep.cpython-312.pyc"] == b"PYC"  # reused from the vendored one
    assert served["dicomview/pipeline.py"] == b"EDITED = True\n"


# Loads each PyScript module's bytecode from the vendored archive for the sources PyScript writes, in the
# vendored Pyodide: none may be compiled from source (a checked-hash .pyc is used only for its own source).
PYSCRIPT_IN_PYODIDE = """
const [vendor, sources] = process.argv.slice(1);
const {readFileSync} = await import('node:fs');
const {loadPyodide} = await import(vendor + '/pyodide/pyodide.mjs');
const pyodide = await loadPyodide({indexURL: vendor + '/pyodide/'});
pyodide.FS.writeFile('/tmp/package.zip', readFileSync(vendor + '/dicomview.zip'));
pyodide.globals.set('sources', readFileSync(sources, 'utf8'));
try {
console.log(pyodide.runPython(`""" + COUNT_COMPILED + """import importlib.machinery, json, zipfile
from pathlib import Path
with zipfile.ZipFile('/tmp/package.zip') as package:
    package.extractall('/home/pyodide', [n for n in package.namelist() if n.startswith('pyscript/')])
for name, source in json.loads(sources).items():
    Path('/home/pyodide', name).parent.mkdir(parents=True, exist_ok=True)
    Path('/home/pyodide', name).write_text(source, encoding='utf-8')
    module = name.removesuffix('.py').replace('/', '.')
    importlib.machinery.SourceFileLoader(module, f'/home/pyodide/{name}').get_code(module)
str(len(json.loads(sources))) + ' ' + str(len(compiled))
`));
} catch (error) { console.log(error.message); }  // a short reason, not Node.js's line of minified runtime
"""


def test_in_pyodide_the_vendored_pyscript_bytecode_is_used_for_pyscripts_sources(tmp_path):
    sources = {name: data.decode() for name, data in bundle.pyscript_sources(VENDOR).items()}
    (tmp_path / "sources.json").write_text(json.dumps(sources))
    done = subprocess.run(["node", "--input-type=module", "-e", PYSCRIPT_IN_PYODIDE, str(VENDOR),
                           str(tmp_path / "sources.json")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(len(sources)), "0"]
