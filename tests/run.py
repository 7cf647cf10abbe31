#!/usr/bin/env python3
"""Run every test of dicomview on a fresh machine: `python3 tests/run.py [pytest args]`.

Installs what is missing, then runs ruff and pytest:
- Debian packages: chromium (browser tests), dcmtk (the independent reference renderer) and
  libgdcm-tools (gdcmconv turns JPEG 2000 into raw data for DCMTK);
- a virtual environment .venv/ with tests/requirements.txt (reinstalled when that file changes);
- the vendored browser runtime in site/vendor/ (`serve.py --vendor-only`, hash-checked).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "tests" / "requirements.txt"
# Debian package -> what shows it is there (a path or a command on PATH)
APT_PACKAGES = {
    "chromium": "/usr/bin/chromium",
    "dcmtk": "/usr/bin/dcm2pnm",
    "libgdcm-tools": "/usr/bin/gdcmconv",  # JPEG 2000 to raw, so DCMTK can render the reference
    "npm": "npm",
    "orthanc": "/usr/sbin/Orthanc",  # the plugin's tests run a real Orthanc (DESIGN §5)
    "orthanc-python": "/usr/share/orthanc/plugins/libOrthancPython.so",
    "orthanc-dicomweb": "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
}


def step(text: str) -> None:
    print(f"[tests/run.py] {text}", flush=True)


def run(cmd: list[str], **kwargs) -> None:
    subprocess.run(cmd, check=True, **kwargs)


def ensure_apt_packages() -> None:
    missing = [name for name, probe in APT_PACKAGES.items() if not (Path(probe).exists() or shutil.which(probe))]
    # Debian's python3 makes venvs only with python3-venv: the tests' venv is made by this interpreter,
    # the Orthanc plugin's by /usr/bin/python3 (the Python that orthanc-python embeds).
    system_python_lacks_venv = not Path("/usr/bin/python3").exists() or subprocess.run(
        ["/usr/bin/python3", "-c", "import ensurepip"], capture_output=True).returncode != 0
    if importlib.util.find_spec("ensurepip") is None or system_python_lacks_venv:
        missing.append("python3-venv")
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"missing Debian packages {missing}: run `sudo apt-get install -y {' '.join(missing)}`")
    step(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    stamp = VENV / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if venv_python().exists() and stamp.exists() and stamp.read_text() == wanted:
        return venv_python()
    if not venv_python().exists():
        step("creating .venv")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    step("installing tests/requirements.txt into .venv")
    run([str(venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(REQUIREMENTS)])
    stamp.write_text(wanted)
    return venv_python()


def main(argv: list[str]) -> int:
    ensure_apt_packages()
    python = ensure_venv()
    step("checking the vendored runtime")
    run([str(python), str(ROOT / "serve.py"), "--vendor-only"])
    step("ruff")
    run([str(python), "-m", "ruff", "check", "--quiet", "py", "tests", "serve.py"], cwd=ROOT)
    step("pytest")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.call([str(python), "-m", "pytest", *argv], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
