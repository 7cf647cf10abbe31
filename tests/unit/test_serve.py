"""serve.py's start: the runtime must be vendored, the package archive need not be byte-compiled.

The server builds the archive from py/ at each request anyway (serving/bundle.py), so a failed compile
(no Node.js, a module with a syntax error) is a one-line warning there; only `--vendor-only`, which
writes the archive for static hosts, fails on it. Nothing here starts a real server or Node.js.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import serve
from dicomview.serving import vendor

BROKEN = "py/dicomview/web/app.py:3: invalid syntax"


class FakeServer:
    """Stands in for static.make_server's server: serves at once and stops as Ctrl-C would."""

    server_address = ("127.0.0.1", 8000)

    def __init__(self) -> None:
        self.served = False

    def serve_forever(self) -> None:
        self.served = True
        raise KeyboardInterrupt

    def server_close(self) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    """serve.main with a vendored runtime, an archive that cannot be compiled, and a fake server."""
    fake = FakeServer()

    def cannot_compile(repo_root: Path) -> bool:
        raise vendor.VendorError(BROKEN)

    monkeypatch.setattr(serve.vendor, "vendor", lambda vendor_dir: False)
    monkeypatch.setattr(serve.bundle, "vendor_archive", cannot_compile)
    monkeypatch.setattr(serve.static, "make_server", lambda *args, **kwargs: fake)
    return fake


def test_serve_py_serves_when_the_archive_cannot_be_compiled(server: FakeServer, capsys) -> None:
    assert serve.main([]) == 0
    assert server.served
    warning = capsys.readouterr().err
    assert warning.count("\n") == 1 and BROKEN in warning


def test_the_vendor_step_fails_on_it_in_one_line(server: FakeServer, capsys) -> None:
    assert serve.main(["--vendor-only"]) == 2
    assert not server.served
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and BROKEN in error


def test_serve_py_stops_when_the_runtime_cannot_be_vendored(server: FakeServer, monkeypatch, capsys) -> None:
    """Without the runtime the page cannot start at all: that stays an error."""
    def unreachable(vendor_dir: Path) -> bool:
        raise vendor.VendorError("npm registry (pyodide@0.27.7) is unreachable or refused: ETIMEDOUT")

    monkeypatch.setattr(serve.vendor, "vendor", unreachable)
    assert serve.main([]) == 2
    assert not server.served and "ETIMEDOUT" in capsys.readouterr().err
