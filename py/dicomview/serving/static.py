"""A static file server for the viewer that never serves anything outside its allowed folders.

Only the page (site/), the Python sources the page maps in (py/) and pyscript.toml are reachable;
`/` redirects to the page, and the package archive (site/vendor/dicomview.zip) is built from py/ at
each request. Every path is decoded once, refused if it holds `..`, a backslash or a NUL, then
resolved (symlinks included) and refused unless it still lies inside an allowed root.
"""

from __future__ import annotations

import email.utils
import http.server
import mimetypes
import posixpath
import sys
import urllib.parse
from collections.abc import Callable
from functools import partial
from pathlib import Path

from dicomview.serving import bundle

PAGE_PATH = "/site/"
PACKAGE_PATH = "/" + bundle.URL_PATH

# The page's own origin only: Pyodide needs wasm compilation ('wasm-unsafe-eval') and evaluates
# the Emscripten glue ('unsafe-eval'); styles set from Python need 'unsafe-inline'.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

# Cross-origin isolation: Python runs in PyScript's worker and reaches the page synchronously through
# SharedArrayBuffer and Atomics, which browsers give only to isolated pages (issue 7). Static hosts that
# cannot send headers get them from site/sw.js.
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".toml": "application/toml",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".json": "application/json",
    ".py": "text/x-python",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
}


def allowed_roots(repo_root: Path) -> list[Path]:
    """The folders and files the viewer needs, and nothing else of the repository."""
    return [(repo_root / name).resolve() for name in ("site", "py", "pyscript.toml")]


def safe_resolve(url_path: str, repo_root: Path) -> Path | None:
    """Map a URL path to a file inside an allowed root, or None if it must not be served."""
    path = urllib.parse.urlsplit(url_path).path
    decoded = urllib.parse.unquote(path, errors="strict")
    if "\\" in decoded or "\x00" in decoded:
        return None
    parts = [p for p in decoded.split("/") if p]
    if any(p in ("..", ".") for p in parts):
        return None
    candidate = (repo_root.joinpath(*parts) if parts else repo_root).resolve()
    if candidate.is_dir():  # resolve again: index.html itself may be a link out of the roots
        candidate = (candidate / "index.html").resolve()
    for root in allowed_roots(repo_root):
        if candidate == root or root in candidate.parents:
            return candidate if candidate.is_file() else None
    return None


def entity_tag(path: Path) -> str:
    """A validator that changes whenever the file's size or modification time does."""
    stat = path.stat()
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def not_modified(if_none_match: str | None, if_modified_since: str | None, tag: str, mtime: float) -> bool:
    """RFC 9110 13.1: If-None-Match decides when present, else If-Modified-Since (whole seconds).

    Revalidating lets a reload get 304s instead of the 20 MB runtime, and lets Chromium reuse the
    WebAssembly code it compiled for those responses. Chromium ignores ETag on HTTP/1.0 answers (what
    http.server sends), so Last-Modified matters too."""
    if if_none_match is not None:
        return tag in [part.strip() for part in if_none_match.split(",")]
    if if_modified_since is None:
        return False
    try:
        since = email.utils.parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and int(mtime) <= since.timestamp()


class ViewerRequestHandler(http.server.SimpleHTTPRequestHandler):
    """GET/HEAD only, allowed roots only, with the viewer's MIME types and security headers."""

    repo_root: Path
    server_version = "dicomview"

    def __init__(self, *args, repo_root: Path, **kwargs) -> None:
        self.repo_root = repo_root.resolve()
        super().__init__(*args, directory=str(self.repo_root), **kwargs)

    def send_head(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/":
            self.send_response(302)
            self.send_header("Location", PAGE_PATH)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path == PAGE_PATH.rstrip("/"):  # exactly /site: never echo a request path into Location
            self.send_response(301)
            self.send_header("Location", PAGE_PATH)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path == PACKAGE_PATH:  # built from py/ now: an edit shows at the next reload (serving/bundle.py)
            try:
                built = bundle.served(self.repo_root)
            except bundle.BuildError as exc:
                return self.send_text(500, str(exc))
            return self.send_validated(lambda: built.data, MIME_TYPES[".zip"], built.tag, built.mtime)
        try:
            target = safe_resolve(self.path, self.repo_root)
        except UnicodeDecodeError:
            target = None
        if target is None:
            self.send_error(404, "Not found")
            return None
        return self.send_validated(target.read_bytes, self.guess_type(str(target)), entity_tag(target),
                                   target.stat().st_mtime)

    def send_validated(self, read: Callable[[], bytes], content_type: str, tag: str, mtime: float):
        """A 304 if the browser's copy is current (no read), else the bytes, with their validators."""
        validators = {"ETag": tag, "Last-Modified": self.date_time_string(int(mtime))}
        if not_modified(self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), tag, mtime):
            self.send_response(304)  # the browser's cached copy is current
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return None
        data = read()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in validators.items():
            self.send_header(name, value)
        self.end_headers()
        return _BytesReader(data)

    def send_text(self, status: int, text: str) -> _BytesReader:
        """A short plain-text answer, also printed on the console: the page shows only that it failed."""
        print(f"dicomview: {text}", file=sys.stderr, flush=True)
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return _BytesReader(body)

    def guess_type(self, path: str) -> str:
        ext = posixpath.splitext(path)[1].lower()
        return MIME_TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-cache")  # always revalidate: edits to py/ show at once
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class _BytesReader:
    """The file-like object send_head returns; copyfile reads it into the socket."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def read(self, size: int = -1) -> bytes:
        chunk = self._data[: None if size < 0 else size]
        self._data = self._data[len(chunk):]
        return bytes(chunk)

    def close(self) -> None:
        self._data = memoryview(b"")


def make_server(repo_root: Path, host: str = "127.0.0.1", port: int = 8000, verbose: bool = False):
    """A threading HTTP server for the viewer; port 0 picks a free one (server.server_port)."""
    handler = partial(ViewerRequestHandler, repo_root=repo_root)
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.verbose = verbose
    return server
