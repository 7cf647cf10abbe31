"""A real Orthanc (Debian's 1.10 with the Python and DICOMweb plugins) running our plugin.

Each server runs in the foreground on a free loopback port with its own configuration and storage
in a temporary folder, no DICOM server, and HTTP basic auth on (DESIGN §5). The plugin's venv is made
by the documented install step (`/usr/bin/python3 py/orthanc_plugin.py --install`) when missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chromium import wait_for_python_after_inputs

ROOT = Path(__file__).resolve().parents[2]
ORTHANC = "/usr/sbin/Orthanc"
PLUGINS = Path("/usr/share/orthanc/plugins")
PLUGIN_SCRIPT = ROOT / "py" / "orthanc_plugin.py"
PLUGIN_VENV = ROOT / ".orthanc-venv"
USER, PASSWORD = "dicomview", "s3cret-test-password"
START_TIMEOUT_S = 60



@pytest.fixture(scope="session", autouse=True)
def inputs_wait_for_python() -> None:
    """The viewer's Python runs in a worker: each input returns once it has been handled (tests/chromium.py)."""
    wait_for_python_after_inputs()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/orthanc runs a real Orthanc: mark them (-m "not orthanc" skips them)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.orthanc)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class OrthancServer:
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    port: int
    process: subprocess.Popen
    log: Path

    def request(self, path: str, data: bytes | None = None, auth: bool = True,
                headers: dict[str, str] | None = None, method: str | None = None) -> Reply:
        """One HTTP request; errors are returned as replies, not raised. No redirect is followed."""
        request = urllib.request.Request(  # noqa: S310 (our own http:// URL)
            self.url + path, data=data, headers=dict(headers or {}), method=method)
        if auth:
            token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=120) as response:
                return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def upload(self, path: Path) -> dict:
        reply = self.request("/instances", path.read_bytes())
        assert reply.status == 200, (path, reply.status, reply.body[:300])
        return reply.json()


    def raw(self, path: str, auth: bool = True) -> Reply:
        """Send exactly `GET path` over a socket: no client-side normalisation of `..` or escapes."""
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Connection: close"]
        if auth:
            lines.append("Authorization: Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (line.partition(":") for line in header_lines)}
        return Reply(int(status_line.split()[1]), headers, body)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_plugin_venv() -> Path:
    """The documented install step, run again whenever py/orthanc-requirements.txt changes."""
    stamp = PLUGIN_VENV / ".requirements.sha256"
    wanted = hashlib.sha256((ROOT / "py" / "orthanc-requirements.txt").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run(["/usr/bin/python3", str(PLUGIN_SCRIPT), "--install"], check=True)
        stamp.write_text(wanted)
    return PLUGIN_VENV


def start_orthanc(folder: Path, dicomview: dict | None = None, auth: bool = True) -> OrthancServer:
    """Start Orthanc in the foreground with our plugin; return once GET /system answers 200."""
    if not Path(ORTHANC).exists():
        pytest.fail("Orthanc is missing: tests/run.py installs orthanc, orthanc-python, orthanc-dicomweb")
    ensure_plugin_venv()
    storage = folder / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = {
        "Name": "dicomview-test",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "HttpPort": port,
        "RemoteAccessAllowed": False,
        "DicomServerEnabled": False,
        "AuthenticationEnabled": auth,
        "RegisteredUsers": {USER: PASSWORD},
        "Plugins": [str(PLUGINS / "libOrthancPython.so"), str(PLUGINS / "libOrthancDicomWeb.so")],
        "PythonScript": str(PLUGIN_SCRIPT),
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "Host": f"127.0.0.1:{port}"},
        "DicomView": dicomview or {},
    }
    config_path = folder / "orthanc.json"
    config_path.write_text(json.dumps(config, indent=2))
    return run_orthanc(config_path, port, folder / "orthanc.log")


def run_orthanc(config: Path, port: int, log: Path) -> OrthancServer:
    """Orthanc in the foreground on `config` (a file, or a folder of them as Debian's /etc/orthanc/)."""
    ensure_plugin_venv()
    with log.open("wb") as sink:
        process = subprocess.Popen([ORTHANC, str(config)], stdout=sink, stderr=subprocess.STDOUT)
    server = OrthancServer(f"http://127.0.0.1:{port}", port, process, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Orthanc exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if server.request("/system").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop_orthanc(server)
    pytest.fail(f"Orthanc did not answer in {START_TIMEOUT_S} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop_orthanc(server: OrthancServer) -> None:
    server.process.terminate()  # SIGTERM: Orthanc stops cleanly, and our plugin shuts its pool
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    """One Orthanc with the plugin over this repository, shared by the session (2 render workers)."""
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"), {"Workers": 2})
    yield server
    stop_orthanc(server)


# Real files with distinct UIDs (many pydicom test files share them): CT uncompressed, MR JPEG-LS,
# NM 12-bit JPEG Extended (no decoder in the browser: the server transcodes it), RGB RLE, MR 10 frames.
UPLOADS = (
    "CT_small.dcm", "MR_small_jpeg_ls_lossless.dcm", "JPEG-lossy.dcm", "SC_rgb_rle.dcm", "emri_small.dcm",
)


@pytest.fixture(scope="session")
def uploaded(orthanc: OrthancServer) -> dict[str, dict]:
    """UPLOADS stored in the session's Orthanc: file name -> Orthanc's answer (ID, ParentSeries, ...)."""
    from corpus import corpus_file

    return {name: orthanc.upload(corpus_file(name)) for name in UPLOADS}


def browser_helpers():
    """tests/browser/conftest.py as a module (its name clashes with this conftest's)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("browser_helpers", ROOT / "tests" / "browser" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BROWSER = browser_helpers()
