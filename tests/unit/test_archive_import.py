"""dicomview.archive_import: packages imported from their wheels, as the page imports numpy and pydicom.

Under CPython with archives built here, then in the vendored Pyodide (Node.js) with the pinned wheels,
as web/main.py uses them.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import io
import json
import re
import subprocess
import sys
import traceback
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dicomview import archive_import
from in_pyodide import COUNT_COMPILED

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "site" / "vendor"
TAG = sys.implementation.cache_tag  # cpython-311 here; the page's bytecode is cpython-312
EXTENSION = importlib.machinery.EXTENSION_SUFFIXES[0]


def archive(files: dict[str, bytes | str]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in files.items():
            out.writestr(name, data.encode() if isinstance(data, str) else data)
    return zipfile.ZipFile(buffer)


def unchecked_pyc(source: str, path: str) -> bytes:
    """Bytecode as serving/bytecode.mjs makes it: hash-based, never checked against the source."""
    code = compile(source, path, "exec", dont_inherit=True)
    return importlib._bootstrap_external._code_to_hash_pyc(code, importlib.util.source_hash(source.encode()), False)


@pytest.fixture
def demo(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    """A package name of this test's own, a folder on sys.path for it, and the import state put back."""
    name = "demo_" + request.node.name.replace("[", "_").replace("]", "_").replace("-", "_")
    root = tmp_path / "site-packages"
    root.mkdir()
    meta_path, path = list(sys.meta_path), list(sys.path)
    sys.path.insert(0, str(root))
    try:
        yield name, root
    finally:
        sys.meta_path[:], sys.path[:] = meta_path, path
        for module in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
            del sys.modules[module]
        importlib.invalidate_caches()


def wheel(name: str) -> dict[str, bytes | str]:
    return {
        f"{name}/__init__.py": "from pathlib import Path\n"
                               "VALUE = 'from source'\n"
                               "TABLE = (Path(__file__).parent / 'data' / 'table.txt').read_text()\n",
        f"{name}/__init__.pyi": "VALUE: str\n",
        f"{name}/data/table.txt": "data beside the module\n",
        f"{name}/examples/big.bin": b"\0" * 100,
        f"{name}/fails.py": "def explode():\n    raise ValueError('boom')  # the line a traceback shows\n",
        f"{name}/_speed{EXTENSION}": b"\0asm not for this interpreter",
        f"{name}/_unused{EXTENSION}": b"\0asm never imported",
        f"{name}-1.2.3.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n",
    }


def test_modules_come_from_the_archives_with_their_bytecode_and_data_beside_them(demo: tuple[str, Path]) -> None:
    name, root = demo
    init = root / name / "__init__.py"
    source = str(wheel(name)[f"{name}/__init__.py"])
    pyc = unchecked_pyc(source.replace("source", "bytecode"), str(init))
    bytecode = {f"{name}/__pycache__/__init__.{TAG}.pyc": pyc,
                f"other/__pycache__/module.{TAG}.pyc": b"bytecode of a module installed later"}
    archive_import.install(root, [archive(wheel(name)), archive(bytecode)], never_read=(".pyi", f"{name}/examples/"))

    module = importlib.import_module(name)
    assert module.VALUE == "from bytecode"  # the .pyc of the other archive, as on disk
    assert module.__file__ == str(init) and module.__path__ == [str(root / name)]
    assert module.TABLE == "data beside the module\n"
    assert importlib.metadata.version(name) == "1.2.3"
    on_disk = sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    assert on_disk == sorted([f"{name}/data/table.txt", f"{name}-1.2.3.dist-info/METADATA",
                              f"other/__pycache__/module.{TAG}.pyc"])  # no module, stub, example or extension


def test_a_traceback_shows_the_archived_source_line(demo: tuple[str, Path]) -> None:
    name, root = demo
    archive_import.install(root, [archive(wheel(name))])
    fails = importlib.import_module(f"{name}.fails")
    with pytest.raises(ValueError) as raised:
        fails.explode()
    text = "".join(traceback.format_exception(raised.value))
    assert f'{root / name / "fails.py"}", line 2' in text and "raise ValueError('boom')" in text


def test_an_extension_is_unpacked_when_first_imported_and_only_then(demo: tuple[str, Path]) -> None:
    name, root = demo
    finder = archive_import.install(root, [archive(wheel(name))])
    speed, unused = root / name / f"_speed{EXTENSION}", root / name / f"_unused{EXTENSION}"
    assert not speed.exists() and not unused.exists()
    spec = finder.find_spec(f"{name}._speed")
    assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader) and spec.origin == str(speed)
    assert speed.read_bytes() == b"\0asm not for this interpreter" and not unused.exists()
    with pytest.raises(ImportError):  # the import system loads it as any extension (here: not a real one)
        importlib.import_module(f"{name}._speed")


def test_anything_else_is_left_to_the_next_finder(demo: tuple[str, Path]) -> None:
    name, root = demo
    finder = archive_import.install(root, [archive(wheel(name))])
    assert sys.meta_path.index(finder) == sys.meta_path.index(importlib.machinery.PathFinder) - 1
    assert finder.find_spec("json") is None and finder.find_spec(f"{name}.missing") is None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"{name}.missing")


def test_a_module_without_bytecode_is_compiled_and_nothing_is_written(demo: tuple[str, Path]) -> None:
    name, root = demo
    archive_import.install(root, [archive(wheel(name))])
    assert importlib.import_module(name).VALUE == "from source"
    assert not list(root.rglob("__pycache__"))


@pytest.mark.parametrize("wheel", ["wheels/pydicom-3.0.2-py3-none-any.whl",
                                   "wheels/dicomview_bytecode-0.27.7-cp312-none-any.whl"])
def test_a_member_reads_as_zipfile_reads_it(wheel: str) -> None:
    with zipfile.ZipFile(VENDOR / wheel) as opened:
        assert all(archive_import.read_member(opened, info) == opened.read(info) for info in opened.infolist())


def test_stored_bzip2_and_damaged_members() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("stored.txt", b"as is" * 100, zipfile.ZIP_STORED)
        out.writestr("deflated.txt", b"squeezed" * 100, zipfile.ZIP_DEFLATED)
        out.writestr("bzip2.txt", b"another method" * 100, zipfile.ZIP_BZIP2)
    opened = zipfile.ZipFile(buffer)
    assert [archive_import.read_member(opened, info) for info in opened.infolist()] == [
        b"as is" * 100, b"squeezed" * 100, b"another method" * 100]
    damaged = bytearray(buffer.getvalue())
    stored = opened.getinfo("stored.txt")
    damaged[stored.header_offset + zipfile.sizeFileHeader + len("stored.txt")] ^= 0xFF  # its first byte
    with pytest.raises(zipfile.BadZipFile, match=r"stored\.txt: bad CRC-32"):
        archive_import.read_member(zipfile.ZipFile(io.BytesIO(bytes(damaged))), stored)


PYDICOM_WHEEL = VENDOR / "wheels" / "pydicom-3.0.2-py3-none-any.whl"
IMPORT_PYDICOM = """
import sys, zipfile
from pathlib import Path
from dicomview import archive_import
root = Path(sys.argv[1]); sys.path.insert(0, str(root))
archive_import.install(root, [zipfile.ZipFile(sys.argv[2])], ("pydicom/data/test_files/",))
import importlib.metadata, pydicom, pydicom.pixels
from pydicom.data import get_palette_files
print(pydicom.__file__, pydicom.__version__ == importlib.metadata.version("pydicom"), len(get_palette_files("*")))
"""


def test_pydicom_imports_from_its_pinned_wheel(tmp_path: Path) -> None:
    """In a new interpreter (this one has pydicom already): palettes, its data read by path, are there."""
    done = subprocess.run([sys.executable, "-c", IMPORT_PYDICOM, str(tmp_path), str(PYDICOM_WHEEL)],
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(REPO / "py")})
    assert done.returncode == 0, done.stderr[-2000:]
    file, same_version, palettes = done.stdout.split()
    assert file == str(tmp_path / "pydicom" / "__init__.py") and same_version == "True" and int(palettes) > 5
    assert not list(tmp_path.rglob("*.py")) and not (tmp_path / "pydicom/data/test_files").exists()


# The page's own way, in the vendored Pyodide: web/main.py's wheels and NEVER_READ, read from disk
# rather than fetched. Counts modules compiled from source, lists the extensions unpacked, then uses
# numpy.random (never imported at start: its extensions are unpacked and linked on first import).
IN_PYODIDE = """
const [vendor, py, neverRead, ...wheels] = process.argv.slice(1);
const {readFileSync} = await import('node:fs');
const {loadPyodide} = await import(vendor + '/pyodide/pyodide.mjs');
const folder = vendor + '/pyodide/';
const pyodide = await loadPyodide({indexURL: folder, stdLibURL: folder + 'python_stdlib_pyc.zip'});
pyodide.FS.mkdirTree('/home/pyodide/dicomview');
for (const name of ['__init__.py', 'archive_import.py'])
  pyodide.FS.writeFile('/home/pyodide/dicomview/' + name, readFileSync(py + '/dicomview/' + name));
wheels.forEach((wheel, i) => pyodide.FS.writeFile(`/tmp/${i}.whl`, readFileSync(wheel)));
pyodide.globals.set('count', wheels.length);
pyodide.globals.set('never_read', JSON.parse(neverRead));
console.log(pyodide.runPython(`""" + COUNT_COMPILED + """import site, sys, zipfile
from pathlib import Path
from dicomview import archive_import
archives = [zipfile.ZipFile(f"/tmp/{i}.whl") for i in range(count)]
archive_import.install(site.getsitepackages()[0], archives, tuple(never_read.to_py()))
metadata_imported = 'importlib.metadata' in sys.modules  # ~40 ms of a start, not needed by it
import numpy, pydicom, pydicom.pixels, pydicom.pixels.decoders.base, pydicom.pixels.processing
from_source = len([path for path in compiled if 'site-packages' in path])
unpacked = sorted(p.name.split('.')[0] for p in Path(site.getsitepackages()[0]).rglob('*.so'))
imported = sorted(name.rpartition('.')[2] for name, module in sys.modules.items()
                  if (getattr(module, '__file__', None) or '').endswith('.so'))
unpacked = ",".join(unpacked) if unpacked == imported else f"{unpacked} but imported {imported}"
import numpy.random
value = numpy.random.default_rng(7).integers(0, 1000, 3).tolist()
" ".join([str(metadata_imported), str(from_source), unpacked, str(numpy.linalg.norm([3, 4])), str(value)])
`));
"""


def startup_wheels() -> list[Path]:
    """The wheels site/python-runtime.mjs fetches for web/main.py, in its order."""
    runtime = (REPO / "site/python-runtime.mjs").read_text()
    return [VENDOR / rel for rel in re.findall(r'"\./vendor/([^"]+\.whl)"', runtime)]


def main_constant(name: str) -> tuple[str, ...]:
    """A constant of web/main.py, which cannot be imported here (top-level await, `js`)."""
    tree = ast.parse((REPO / "py/dicomview/web/main.py").read_text())
    found = [node.value for node in tree.body if isinstance(node, ast.Assign) and node.targets[0].id == name]
    return ast.literal_eval(found[0])


def test_the_page_imports_numpy_and_pydicom_from_the_pinned_wheels_in_pyodide() -> None:
    wheels = startup_wheels()
    pins = json.loads((REPO / "py/dicomview/serving/runtime_pins.json").read_text())
    assert [str(wheel.relative_to(VENDOR)) in pins for wheel in wheels] == [True] * 3
    done = subprocess.run(["node", "--input-type=module", "-e", IN_PYODIDE, str(VENDOR), str(REPO / "py"),
                           json.dumps(main_constant("NEVER_READ")), *map(str, wheels)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    metadata_imported, compiled, extensions, norm, random = done.stdout.strip().split(" ", 4)
    assert metadata_imported == "False"
    assert compiled == "0"  # start-up's modules all came with bytecode
    assert extensions == "_multiarray_tests,_multiarray_umath,_umath_linalg"  # of numpy's 19: those imported
    assert norm == "5.0" and len(random.split(",")) == 3
