"""With AuthenticationEnabled, Orthanc protects every plugin route like its own API (401 without
credentials, 401 with wrong ones), and the same requests succeed with the registered user."""

from __future__ import annotations

import base64

import pytest

from conftest import OrthancServer
from corpus import corpus_file

ROUTES = ["/dicomview", "/dicomview/site/index.html", "/dicomview/pyscript.toml",
          "/dicomview/py/dicomview/render.py", "/dicomview/server.json"]


@pytest.fixture(scope="module")
def instance(orthanc: OrthancServer) -> str:
    return orthanc.upload(corpus_file("CT_small.dcm"))["ID"]


def test_every_plugin_route_needs_credentials(orthanc: OrthancServer, instance: str) -> None:
    routes = [*ROUTES, f"/dicomview/render/{instance}", f"/dicomview/thumbnail/{instance}"]
    wrong = "Basic " + base64.b64encode(b"dicomview:wrong").decode()
    for route in routes:
        assert orthanc.request(route, auth=False).status == 401, route
        assert orthanc.request(route, auth=False, headers={"Authorization": wrong}).status == 401, route
        assert orthanc.request(route).status in (200, 301, 302, 404), route
    assert orthanc.request(f"/dicomview/render/{instance}").status == 200
