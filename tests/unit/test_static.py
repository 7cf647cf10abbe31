"""The viewer's static server (dicomview.serving.static), driven over real sockets.

A real server runs in-process on a free port, over a fake repository built in a temporary folder.
Requests go out through a raw socket so that the exact request path reaches the server (urllib
would normalise `..`, percent-escapes and backslashes away before sending).

Several refusals are layered (`..`/backslash/NUL refused, then the resolved path must lie inside an
allowed root); where a request aimed at a secret would still be refused by the other layer if one
were removed, a companion request aims at a file the server *does* serve, so each layer is seen.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from dicomview.serving import bundle, static

REPO = Path(__file__).resolve().parents[2]

SECRET = b"TOP-SECRET-repo-file-3f9a1c"
GIT_SECRET = b"GIT-CONFIG-SECRET-77d0e2"
OUTSIDE = b"OUTSIDE-THE-ROOT-b41e55"
SECRETS = (SECRET, GIT_SECRET, OUTSIDE)

INDEX = b"<!doctype html><title>fake viewer</title>INDEX-PAGE-MARKER"
FILES = {
    "site/index.html": INDEX,
    "site/app.css": b"body { color: black }",
    "site/x.wasm": b"\x00asm\x01\x00\x00\x00",
    "site/x.mjs": b"export const x = 1;",
    "py/dicomview/a.py": b"A_PY_MARKER = 1\n",
    "pyscript.toml": b'name = "fake"\n',
}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_request(port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Response:
    """Send exactly `METHOD path` (no client-side normalisation) and read the whole answer."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    assert raw, f"the server closed the connection without answering {method} {path!r}"
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(int(status_line.split()[1]), headers, body)


@dataclass
class FakeRepo:
    root: Path
    outside: Path
    port: int
    server: object

    def get(self, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Response:
        return raw_request(self.port, path, method, headers)


def build_fake_repo(base: Path) -> tuple[Path, Path]:
    root = base / "repo"
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "secret.txt").write_bytes(SECRET)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_bytes(GIT_SECRET)
    outside_dir = base / "outside"
    outside_dir.mkdir()
    outside = outside_dir / "outside.txt"
    outside.write_bytes(OUTSIDE)
    (outside_dir / "index.html").write_bytes(OUTSIDE)
    (root / "site" / "link-to-outside").symlink_to(outside)
    (root / "site" / "linkdir").symlink_to(outside_dir, target_is_directory=True)
    # On POSIX a backslash is an ordinary file-name character, so a request for `..\secret.txt`
    # would simply miss. Planting a file with that literal name makes the backslash refusal
    # observable: without it, this file would be served.
    (root / "site" / "..\\secret.txt").write_bytes(SECRET)
    # Percent-decoding must happen exactly once: `%2541.txt` names the file `%41.txt`, not `A.txt`.
    (root / "site" / "%41.txt").write_bytes(b"LITERAL-PERCENT-NAME")
    (root / "site" / "A.txt").write_bytes(b"DOUBLE-DECODED-NAME")
    # A real directory whose index.html is a symlink to a file outside the roots.
    (root / "site" / "sub").mkdir()
    (root / "site" / "sub" / "index.html").symlink_to(outside)
    return root, outside


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory):
    root, outside = build_fake_repo(tmp_path_factory.mktemp("static"))
    server = static.make_server(root, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeRepo(root, outside, server.server_address[1], server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- redirects and the page ---------------------------------------------------------------------


def test_root_redirects_to_the_page(repo: FakeRepo) -> None:
    r = repo.get("/")
    assert r.status == 302
    assert r.headers["location"] == "/site/"


def test_site_without_slash_redirects_permanently(repo: FakeRepo) -> None:
    r = repo.get("/site")
    assert r.status == 301
    assert r.headers["location"] == "/site/"


def test_site_serves_index_html(repo: FakeRepo) -> None:
    r = repo.get("/site/")
    assert r.status == 200
    assert r.body == INDEX
    assert r.headers["content-type"].startswith("text/html")


def test_allowed_files_are_served(repo: FakeRepo) -> None:
    for rel, data in FILES.items():
        r = repo.get("/" + rel)
        assert (r.status, r.body) == (200, data), rel


def test_percent_escapes_are_decoded_exactly_once(repo: FakeRepo) -> None:
    once = repo.get("/site/%2541.txt")
    assert (once.status, once.body) == (200, b"LITERAL-PERCENT-NAME")
    escaped = repo.get("/site/%78%2Ewasm")  # x.wasm
    assert (escaped.status, escaped.body) == (200, FILES["site/x.wasm"])


# --- MIME types -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "mime"),
    [
        ("/site/x.wasm", "application/wasm"),
        ("/site/x.mjs", "text/javascript"),
        ("/pyscript.toml", "application/toml"),
        ("/site/app.css", "text/css"),
        ("/py/dicomview/a.py", "text/x-python"),
    ],
)
def test_content_type(repo: FakeRepo, path: str, mime: str) -> None:
    r = repo.get(path)
    assert r.status == 200
    assert r.headers["content-type"].split(";")[0].strip() == mime


# --- security headers on every response -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/site/", "GET", 200),
        ("/site/x.wasm", "GET", 200),
        ("/site/x.wasm", "HEAD", 200),
        ("/secret.txt", "GET", 404),
        ("/site/nope.js", "GET", 404),
        ("/", "GET", 302),
        ("/site", "GET", 301),
        ("/site/", "POST", 501),
    ],
)
def test_security_headers(repo: FakeRepo, path: str, method: str, status: int) -> None:
    r = repo.get(path, method)
    assert r.status == status
    csp = r.headers.get("content-security-policy", "")
    directives = [d.strip() for d in csp.split(";")]
    assert "default-src 'self'" in directives
    assert "connect-src 'self'" in directives
    assert r.headers.get("x-content-type-options") == "nosniff"


# --- nothing outside the allowed roots ------------------------------------------------------------


REFUSED = [
    "/secret.txt",
    "/.git/config",
    "/.git/",
    "/site/../secret.txt",
    "/site/../../outside/outside.txt",
    "/site/%2e%2e/secret.txt",
    "/site/%2E%2E%2Fsecret.txt",
    "/site/%252e%252e/secret.txt",
    "/site/%252e%252e%252fsecret.txt",
    "/site/..%2fsecret.txt",
    "/site/..%2F..%2Foutside%2Foutside.txt",
    "//etc/passwd",
    "//secret.txt",
    "/site/%00",
    "/site/index.html%00.css",
    "/site/..\\secret.txt",
    "/site/..%5csecret.txt",
    "/site/..%5Csecret.txt",
    "/etc/passwd",
    "http://127.0.0.1/secret.txt",
    "/site/%ff",
    "/site/link-to-outside",
    "/site/linkdir/outside.txt",
    "/site/linkdir/",
    "/site/linkdir",
]


@pytest.mark.parametrize("path", REFUSED)
def test_refused(repo: FakeRepo, path: str) -> None:
    r = repo.get(path)
    assert r.status == 404, f"{path!r} answered {r.status}"
    for secret in SECRETS:
        assert secret not in r.body
    assert b"root:" not in r.body


def test_absolute_filesystem_path_is_refused(repo: FakeRepo) -> None:
    for path in (str(repo.outside), str(repo.root / "secret.txt")):
        r = repo.get(path)
        assert r.status == 404, path
        assert OUTSIDE not in r.body and SECRET not in r.body


# Traversals that would land on a file the server does serve: only the `..` refusal stops them,
# so these fail if that refusal alone were removed (the allowed-root check would let them through).
DOTDOT_INTO_ALLOWED = [
    "/site/../py/dicomview/a.py",
    "/site/%2e%2e/py/dicomview/a.py",
    "/site/%2E%2E%2Fpy%2Fdicomview%2Fa.py",
    "/site/..%2fpyscript.toml",
    "/py/./dicomview/a.py",
    "/site/%2e/index.html",
]


@pytest.mark.parametrize("path", DOTDOT_INTO_ALLOWED)
def test_dot_segments_refused_even_inside_roots(repo: FakeRepo, path: str) -> None:
    r = repo.get(path)
    assert r.status == 404, f"{path!r} answered {r.status}"
    assert b"A_PY_MARKER" not in r.body and b"fake" not in r.body and b"INDEX-PAGE" not in r.body


def test_symlinks_exist_and_point_outside(repo: FakeRepo) -> None:
    """Guards the two symlink cases above against a fixture that silently built nothing."""
    site = repo.root / "site"
    assert (site / "link-to-outside").is_symlink()
    assert (site / "link-to-outside").read_bytes() == OUTSIDE
    assert (site / "linkdir").is_symlink()
    assert (site / "linkdir" / "outside.txt").read_bytes() == OUTSIDE
    assert (site / "..\\secret.txt").read_bytes() == SECRET
    assert (site / "sub" / "index.html").read_bytes() == OUTSIDE


def test_symlinked_index_html_pointing_outside_is_refused(repo: FakeRepo) -> None:
    for path in ("/site/sub/", "/site/sub"):
        r = repo.get(path)
        assert r.status == 404, f"{path!r} answered {r.status}"
        assert OUTSIDE not in r.body


def test_no_open_redirect(repo: FakeRepo) -> None:
    for path in ("/\\evil.example/site", "/%5C%5Cevil.example/site", "///evil.example/site"):
        r = repo.get(path)
        location = r.headers.get("location", "")
        # WHATWG URL parsing treats '\' like '/' in http(s) URLs: '//' or '/\' starts a host.
        assert not re.match(r"^[/\\]{2}", location), (path, location)
        assert not location.lower().startswith(("http:", "https:")), (path, location)


# --- methods --------------------------------------------------------------------------------------


def test_head_has_headers_and_no_body(repo: FakeRepo) -> None:
    r = repo.get("/site/x.wasm", "HEAD")
    assert r.status == 200
    assert r.headers["content-type"] == "application/wasm"
    assert r.headers["content-length"] == str(len(FILES["site/x.wasm"]))
    assert r.body == b""


def test_unchanged_file_revalidates_with_304_and_no_body(repo: FakeRepo) -> None:
    first = repo.get("/site/x.wasm")
    tag = first.headers["etag"]
    again = repo.get("/site/x.wasm", headers={"If-None-Match": f'"other", {tag}'})
    assert (again.status, again.body, again.headers["etag"]) == (304, b"", tag)
    assert first.headers["cache-control"] == again.headers["cache-control"] == "no-cache"
    assert "content-security-policy" in again.headers


def test_unchanged_file_revalidates_by_date_as_chromium_does_for_http_1_0(repo: FakeRepo) -> None:
    first = repo.get("/site/app.css")
    again = repo.get("/site/app.css", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert (again.status, again.body) == (304, b"")


def test_changed_file_is_sent_again(repo: FakeRepo) -> None:
    path = repo.root / "site" / "changing.js"
    path.write_bytes(b"one")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    first = repo.get("/site/changing.js")
    path.write_bytes(b"three")
    os.utime(path, (1_700_000_060, 1_700_000_060))
    for validator in ({"If-None-Match": first.headers["etag"]}, {"If-Modified-Since": first.headers["last-modified"]}):
        changed = repo.get("/site/changing.js", headers=validator)
        assert (changed.status, changed.body) == (200, b"three"), validator
        assert changed.headers["etag"] != first.headers["etag"]


def test_the_package_archive_is_built_from_py_and_revalidates(repo: FakeRepo) -> None:
    """site/vendor/dicomview.zip need not exist: serve.py builds it from py/ (serving/bundle.py)."""
    first = repo.get("/site/vendor/dicomview.zip")
    assert (first.status, first.headers["content-type"]) == (200, "application/zip")
    assert bundle.read(first.body)["dicomview/a.py"] == FILES["py/dicomview/a.py"]
    assert "content-security-policy" in first.headers
    for validator in ({"If-None-Match": first.headers["etag"]}, {"If-Modified-Since": first.headers["last-modified"]}):
        assert (repo.get("/site/vendor/dicomview.zip", headers=validator).status) == 304


def test_an_edited_module_changes_the_package_archive(repo: FakeRepo) -> None:
    path = repo.root / "py" / "dicomview" / "edited.py"
    path.write_bytes(b"VERSION = 1\n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    first = repo.get("/site/vendor/dicomview.zip")
    path.write_bytes(b"VERSION = 2\n")
    for validator in ({"If-None-Match": first.headers["etag"]}, {"If-Modified-Since": first.headers["last-modified"]}):
        changed = repo.get("/site/vendor/dicomview.zip", headers=validator)
        assert changed.status == 200, validator
        assert bundle.read(changed.body)["dicomview/edited.py"] == b"VERSION = 2\n"
    path.unlink()


def test_two_edits_within_one_second_each_change_the_package_archive(repo: FakeRepo) -> None:
    """Edit a module, reload, edit another within the same second, reload: the second reload must not be a
    304. Chromium revalidates the archive by date alone (it ignores ETag on http.server's HTTP/1.0
    answers), in whole seconds; both edits here carry times within one second, as two quick saves do."""
    one, two = (repo.root / "py" / "dicomview" / name for name in ("one.py", "two.py"))
    one.write_bytes(b"ONE = 1\n")
    two.write_bytes(b"TWO = 1\n")
    try:
        since = repo.get("/site/vendor/dicomview.zip").headers["last-modified"]
        for path, edited, at in ((one, b"ONE = 22\n", 1_700_000_000.25), (two, b"TWO = 22\n", 1_700_000_000.75)):
            path.write_bytes(edited)
            os.utime(path, (at, at))
            answer = repo.get("/site/vendor/dicomview.zip", headers={"If-Modified-Since": since})
            assert answer.status == 200, path.name
            assert bundle.read(answer.body)[f"dicomview/{path.name}"] == edited
            since = answer.headers["last-modified"]
        assert repo.get("/site/vendor/dicomview.zip", headers={"If-Modified-Since": since}).status == 304
    finally:
        one.unlink()
        two.unlink()


def test_an_editor_lock_file_in_py_leaves_the_package_archive_whole(repo: FakeRepo) -> None:
    """Emacs marks a file being edited with `.#name.py`, a link to nowhere: it matches *.py but cannot be read."""
    lock = repo.root / "py" / "dicomview" / ".#a.py"
    lock.symlink_to("user@host.1234:1700000000")
    try:
        answer = repo.get("/site/vendor/dicomview.zip")
        assert answer.status == 200
        assert set(bundle.read(answer.body)) == {"dicomview/a.py"}
    finally:
        lock.unlink()


def test_a_package_archive_that_cannot_be_built_is_a_500_not_a_dropped_connection(
    repo: FakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(py_root: Path) -> dict[str, bytes]:
        raise PermissionError(13, "Permission denied", str(py_root / "dicomview"))

    monkeypatch.setattr(bundle, "browser_sources", unreadable)
    monkeypatch.setattr(bundle, "_cache", {})
    answer = repo.get("/site/vendor/dicomview.zip")
    assert (answer.status, answer.headers["content-type"]) == (500, "text/plain; charset=utf-8")
    assert b"Permission denied" in answer.body and len(answer.body) < 500
    assert "content-security-policy" in answer.headers


@pytest.mark.parametrize("since", ["yesterday", "", "Mon, 23 Nov 2026 12:55:01"])
def test_unreadable_dates_send_the_file(repo: FakeRepo, since: str) -> None:
    assert repo.get("/site/app.css", headers={"If-Modified-Since": since}).status == 200


def test_refused_path_stays_404_whatever_the_validator(repo: FakeRepo) -> None:
    r = repo.get("/secret.txt", headers={"If-None-Match": "*"})
    assert r.status == 404
    assert SECRET not in r.body


def test_head_of_refused_path_is_404(repo: FakeRepo) -> None:
    r = repo.get("/secret.txt", "HEAD")
    assert r.status == 404
    assert SECRET not in r.body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_writing_methods_not_allowed(repo: FakeRepo, method: str) -> None:
    r = repo.get("/site/index.html", method)
    assert r.status in (405, 501)
    assert INDEX not in r.body


# --- binding ----------------------------------------------------------------------------------------


def test_make_server_binds_loopback_by_default(tmp_path: Path) -> None:
    root, _ = build_fake_repo(tmp_path)
    server = static.make_server(root, port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_serve_py_binds_loopback_by_default() -> None:
    """Start the real serve.py with no --host and read the address it actually bound.

    (Its --help text names 127.0.0.1 in the description and help string regardless of the
    argparse default, so grepping --help could not catch a changed default.)
    """
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "serve.py"), "--no-vendor", "--port", "0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    watchdog = threading.Timer(60, proc.kill)  # never hang the run if serve.py prints nothing
    watchdog.start()
    try:
        line = proc.stdout.readline()
    finally:
        watchdog.cancel()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
    match = re.search(r"serving http://([^/]+):(\d+)/", line)
    assert match, f"unexpected serve.py output: {line!r}"
    assert match.group(1) == "127.0.0.1"
