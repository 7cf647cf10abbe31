"""The plugin's plain-Python parts (dicomview.serving.orthanc_routes, .rendering) without Orthanc."""

from __future__ import annotations

import json
import os
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from dicomview.serving import bundle, orthanc_routes, rendering


def test_settings_defaults_and_overrides() -> None:
    defaults = orthanc_routes.read_settings({})
    assert (defaults.prefix, defaults.dicomweb_root, defaults.image_format) == ("/dicomview", "/dicom-web/", "png")
    own = orthanc_routes.read_settings({"DicomView": {"Prefix": "apps/viewer/", "Workers": 3, "Format": "JPEG"},
                                        "DicomWeb": {"Root": "/wado"}})
    assert (own.prefix, own.workers, own.image_format, own.dicomweb_root) == ("/apps/viewer", 3, "jpeg", "/wado/")


@pytest.mark.parametrize("prefix", ["/", "/a/../b", "/a b", "/dicom%2e"])
def test_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="Prefix"):
        orthanc_routes.read_settings({"DicomView": {"Prefix": prefix}})


@pytest.mark.parametrize(("prefix", "root"), [("/dicomview", "/dicom-web/"), ("/apps/dv", "/dicom-web/"),
                                              ("/dv", "/pacs/dicom-web/")])
def test_server_info_urls_resolve_from_server_json(prefix: str, root: str) -> None:
    settings = orthanc_routes.read_settings({"DicomView": {"Prefix": prefix}, "DicomWeb": {"Root": root}})
    answer = orthanc_routes.server_info(settings)
    info = json.loads(answer.body)
    here = f"http://host{prefix}/server.json"
    assert urllib.parse.urljoin(here, info["dicomweb"]) == f"http://host{root}"
    assert urllib.parse.urljoin(here, info["thumbnail"]) == f"http://host{prefix}/thumbnail/"


def test_explorer_script_links_to_the_page_under_the_prefix() -> None:
    script = orthanc_routes.explorer_script(orthanc_routes.read_settings({"DicomView": {"Prefix": "/apps/dv"}}))
    assert '"../apps/dv/site/index.html"' in script  # Orthanc Explorer lives at /app/explorer.html


def test_the_package_archive_is_built_from_py_and_follows_an_edit(tmp_path: Path) -> None:
    """Not the file in site/vendor/: py/ as it is now, as serve.py answers it."""
    module = tmp_path / "py" / "dicomview" / "web" / "app.py"
    module.parent.mkdir(parents=True)
    module.write_bytes(b"VERSION = 1\n")
    (tmp_path / "py" / "dicomview" / "serving").mkdir()
    (tmp_path / "py" / "dicomview" / "serving" / "static.py").write_bytes(b"SERVER_SIDE = 1\n")
    answer = orthanc_routes.static_answer("site/vendor/dicomview.zip", tmp_path)
    assert (answer.status, answer.content_type) == (200, "application/zip")
    assert bundle.read(answer.body) == {"dicomview/web/app.py": b"VERSION = 1\n"}
    module.write_bytes(b"VERSION = 22\n")
    edited = orthanc_routes.static_answer("site/vendor/dicomview.zip", tmp_path)
    assert bundle.read(edited.body) == {"dicomview/web/app.py": b"VERSION = 22\n"}


def test_a_package_archive_that_cannot_be_built_is_a_500(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(py_root: Path) -> dict[str, bytes]:
        raise PermissionError(13, "Permission denied", str(py_root / "dicomview"))

    monkeypatch.setattr(bundle, "browser_sources", unreadable)
    answer = orthanc_routes.static_answer("site/vendor/dicomview.zip", tmp_path)
    assert answer.status == 500 and b"Permission denied" in answer.body and len(answer.body) < 500


def test_render_request_parsing() -> None:
    request = rendering.parse_request({"frame": "2", "wc": "40", "ww": "400", "format": "JPEG"})
    assert (request.frame, request.window.center, request.window.width, request.image_format) == (2, 40, 400, "jpeg")
    assert rendering.parse_request({}) == rendering.RenderRequest()


def test_render_pool_replaces_itself_when_a_worker_dies() -> None:
    """A worker that dies (here os._exit, as a crashing decoder would) breaks a ProcessPoolExecutor
    for good; the RenderPool reports it for that call and the next call runs in a new pool."""
    pool = orthanc_routes.RenderPool(lambda: ProcessPoolExecutor(1))
    try:
        first = pool.run(os.getpid)
        with pytest.raises(orthanc_routes.WorkerCrashed, match="restarted"):
            pool.run(os._exit, 3)
        second = pool.run(os.getpid)
        assert second != first
        with pytest.raises(ZeroDivisionError):  # a worker's own exception comes back as itself
            pool.run(divmod, 1, 0)
    finally:
        pool.shutdown()
