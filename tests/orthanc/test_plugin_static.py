"""The plugin's static route inside a real Orthanc: the viewer under /dicomview/, nothing else.

The traversal cases are those of tests/unit/test_static.py (same fake repository with secrets,
symlinks out of the roots and tricky file names), sent raw to Orthanc with valid credentials, and
the plugin serving that fake repository (DicomView.Root). Orthanc's web server (civetweb) itself
removes `..` segments the way a browser does (RFC 3986 remove_dot_segments) before routing, so a
`..` that stays inside the prefix lands on a file the plugin serves anyway; what must hold is that
no secret is ever answered and every refused path is a 404.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import OrthancServer, start_orthanc, stop_orthanc
from unit.test_static import FILES, INDEX, REFUSED, SECRETS, build_fake_repo

PREFIX = "/dicomview"


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    base = tmp_path_factory.mktemp("plugin-static")
    root, _ = build_fake_repo(base)
    # no venv for this one: the viewer is served all the same, server-side rendering says why it is off
    server = start_orthanc(base / "orthanc", {"Root": str(root), "Python": str(base / "no-venv"),
                                              "ExplorerButton": False})
    yield server
    stop_orthanc(server)


def test_prefix_redirects_to_the_page(fake: OrthancServer) -> None:
    for path in (PREFIX, PREFIX + "/", PREFIX + "/site", PREFIX + "/site/"):
        reply = fake.raw(path)
        assert reply.status in (301, 302), path
        assert reply.headers["location"].endswith(PREFIX + "/site/index.html"), path


def test_allowed_files_are_served_under_the_prefix(fake: OrthancServer) -> None:
    for rel, data in FILES.items():
        reply = fake.raw(f"{PREFIX}/{rel}")
        assert (reply.status, reply.body) == (200, data), rel


def test_security_headers_and_types(fake: OrthancServer) -> None:
    reply = fake.raw(f"{PREFIX}/site/x.wasm")
    assert reply.headers["content-type"] == "application/wasm"
    assert "connect-src 'self'" in reply.headers["content-security-policy"]
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert fake.raw(f"{PREFIX}/site/index.html").headers["content-type"].startswith("text/html")


def test_percent_escapes_are_decoded_exactly_once(fake: OrthancServer) -> None:
    reply = fake.raw(f"{PREFIX}/site/%2541.txt")
    assert (reply.status, reply.body) == (200, b"LITERAL-PERCENT-NAME")


@pytest.mark.parametrize("path", [p for p in REFUSED if p.startswith("/")])
def test_refused_under_the_prefix(fake: OrthancServer, path: str) -> None:
    reply = fake.raw(PREFIX + path)
    if "%00" in path:
        # Orthanc cuts the URI at a decoded NUL before any plugin sees it: the answer is exactly that
        # of the cut path (/site/index.html%00.css is index.html as text/html, never a .css)
        cut = fake.raw(PREFIX + path.split("%00")[0])
        assert (reply.status, reply.body, reply.headers.get("content-type")) == \
            (cut.status, cut.body, cut.headers.get("content-type"))
    else:
        # a URI that is not UTF-8 never reaches the script: the Python plugin engine answers 500
        expected = 500 if path.endswith("%ff") else 404
        assert reply.status == expected, f"{PREFIX + path!r} answered {reply.status}"
    for secret in SECRETS:
        assert secret not in reply.body


@pytest.mark.parametrize("path", ["/site/../../secret.txt", "/py/../../.git/config", "/site/%2e%2e/%2e%2e/secret.txt",
                                  "/site/..%2f..%2fsecret.txt"])
def test_escaping_the_prefix_reaches_no_file(fake: OrthancServer, path: str) -> None:
    reply = fake.raw(PREFIX + path)
    assert reply.status == 404, f"{PREFIX + path!r} answered {reply.status}"
    for secret in SECRETS:
        assert secret not in reply.body


def test_index_is_the_fake_page(fake: OrthancServer) -> None:
    """Guards the cases above: the plugin really serves the fake repository, not this one."""
    assert fake.raw(f"{PREFIX}/site/index.html").body == INDEX


def test_without_the_venv_rendering_says_how_to_install_it(fake: OrthancServer) -> None:
    reply = fake.request(f"{PREFIX}/render/1.2.3")
    assert reply.status == 503
    assert b"--install" in reply.body
    assert "server-side rendering is off" in fake.log.read_text()


def test_only_get(fake: OrthancServer) -> None:
    reply = fake.request(f"{PREFIX}/site/index.html", data=b"x", method="POST")
    assert reply.status == 405
    assert INDEX not in reply.body
