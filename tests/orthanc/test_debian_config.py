"""The administrator's path: Debian's own /etc/orthanc/ configuration, every packaged plugin loaded,
and ONE line changed, PythonScript in python.json (plus the documented install step, which the
fixtures run). The copy also moves storage and the HTTP port to temporary ones, turns the DICOM
server off and authentication on, as every test here does; nothing else of Debian's files changes."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import PASSWORD, PLUGIN_SCRIPT, USER, OrthancServer, free_port, run_orthanc, stop_orthanc
from corpus import corpus_file

DEBIAN = Path("/etc/orthanc")


def replace_once(path: Path, pattern: str, replacement: str) -> None:
    text, count = re.subn(pattern, replacement, path.read_text())
    assert count == 1, f"{pattern!r} not found once in Debian's {path.name}"
    path.write_text(text)


@pytest.fixture(scope="module")
def debian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    if not (DEBIAN / "python.json").exists():
        pytest.fail("Debian's /etc/orthanc/python.json is missing: tests/run.py installs orthanc-python")
    base = tmp_path_factory.mktemp("debian")
    etc = base / "etc"
    etc.mkdir()
    for name in DEBIAN.glob("*.json"):
        shutil.copy(name, etc / name.name)
    # the administrator's one line
    replace_once(etc / "python.json", r'"PythonScript"\s*:\s*"[^"]*"', f'"PythonScript" : "{PLUGIN_SCRIPT}"')
    # the test environment's own storage, port, no DICOM server, auth on
    storage = base / "storage"
    storage.mkdir()
    orthanc_json = etc / "orthanc.json"
    text = orthanc_json.read_text()
    orthanc_json.write_text(re.sub(r'"/var/lib/orthanc/[^"]*"', f'"{storage}"', text))
    port = free_port()
    replace_once(orthanc_json, r'"HttpPort"\s*:\s*\d+', f'"HttpPort" : {port}')
    replace_once(orthanc_json, r'"DicomServerEnabled"\s*:\s*true', '"DicomServerEnabled" : false')
    replace_once(etc / "credentials.json", r'"RegisteredUsers"\s*:\s*\{',
                 f'"AuthenticationEnabled" : true, "RegisteredUsers" : {{ "{USER}" : "{PASSWORD}"')
    server = run_orthanc(etc, port, base / "orthanc.log")
    yield server
    stop_orthanc(server)


def test_one_line_gives_the_viewer_over_the_archive(debian: OrthancServer) -> None:
    assert debian.request("/dicomview/", auth=False).status == 401
    redirect = debian.request("/dicomview/")
    assert redirect.status == 301 and redirect.headers["location"] == "/dicomview/site/index.html"
    page = debian.request("/dicomview/site/index.html")
    assert page.status == 200 and b"dicomview" in page.body
    instance = debian.upload(corpus_file("CT_small.dcm"))
    studies = debian.request("/dicom-web/studies", headers={"Accept": "application/dicom+json"})
    assert studies.status == 200 and studies.json()
    assert debian.request(f"/dicomview/render/{instance['ID']}").headers["content-type"] == "image/png"
    assert "dicomview: serving the viewer at /dicomview/" in debian.log.read_text()
