"""The package archive in the browser (serving/bundle.py): the page runs the bytecode the archive carries,
not a compilation of the source beside it, so the .pyc made by the vendored Pyodide is really used.

The proof: a vendored archive whose __init__ bytecode was compiled from a source that marks the page,
beside the unmarked source of py/. serve.py's server keeps that bytecode (the source beside it is py/'s),
and the mark appears only if Python ran the .pyc.
"""

from __future__ import annotations

import threading

import pytest

from conftest import open_viewer, served_copy
from dicomview.serving import bundle, static

pytestmark = pytest.mark.browser

INIT = "dicomview/__init__.py"
MARK = (b"\ntry:\n    import js\n    js.document.documentElement.dataset.fromBytecode = 'yes'\n"
        b"except ImportError:\n    pass\n")


def test_the_page_runs_the_bytecode_in_the_archive(browser, tmp_path):
    root = served_copy(tmp_path)
    archive = root / "site" / "vendor" / bundle.ARCHIVE
    sources = bundle.browser_sources(root / "py")  # what the server compares the archive's sources with
    marked = bundle.compile_bytecode(root / "site" / "vendor", {INIT: sources[INIT] + MARK}).bytecode
    others = bundle.reusable_bytecode(sources, bundle.read(archive.read_bytes()))
    archive.write_bytes(bundle.build(sources, {**others, **marked}))
    server = static.make_server(root, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = open_viewer(browser, f"http://127.0.0.1:{server.server_port}/site/")
        assert page.evaluate("document.documentElement.dataset.fromBytecode") == "yes"
        page.close()
    finally:
        server.shutdown()
        server.server_close()
