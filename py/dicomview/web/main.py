"""PyScript entry point: load numpy and pydicom, attach the handlers, then mark the page ready.

The performance marks name the start-up steps for tests/bench/startup.py.
"""

import io
import site
import zipfile

import js
from pyodide.ffi import create_proxy

from dicomview.web.host import document, flush, performance, window

# Files of the start-up wheels that nothing reads in the page, left packed: type stubs, C headers, sources
# and libraries for compiling against numpy, and the example and test files of pydicom.examples.
NEVER_READ = (".pyi", ".h", ".pxd", ".pyx", ".c", ".a", ".pc", ".template",
              "pydicom/data/test_files/", "pydicom/data/charset_files/")


def say(text: str, step: int) -> None:
    document.getElementById("status-text").textContent = text
    document.getElementById("runtime-progress").value = step
    flush()


try:
    performance.mark("dicomview:main")
    say("Loading numpy and pydicom…", 2)
    from dicomview import archive_import

    # The pinned wheels of numpy, pydicom and their bytecode, which site/python-runtime.mjs fetched while
    # Pyodide started, imported in place rather than unpacked by Pyodide's loadPackage (issue 7). Pillow,
    # a fallback, is loaded with loadPackage only if needed (web/codecs.py).
    archives = [zipfile.ZipFile(io.BytesIO((await wheel).to_bytes())) for wheel in js.dicomviewStartupWheels()]
    archive_import.install(site.getsitepackages()[0], archives, NEVER_READ)
    performance.mark("dicomview:packages")
    from dicomview.web.app import ViewerPage
    from dicomview.web.mpr import wasm_memory_bytes

    performance.mark("dicomview:imported")
    # For tools (tests/bench/run.py): Python's heap lives in this worker, where the page's memory
    # measurement does not see it; they read it here (Playwright evaluates in the worker).
    js.dicomviewPythonHeapBytes = create_proxy(wasm_memory_bytes)
    page = ViewerPage()
    page.attach()
    page.load_codecs()
    say("Ready: open or drop DICOM files. They stay on this computer.", 3)
    document.documentElement.dataset.runtime = "ready"
    flush()
    waiting = window.dicomviewTakePendingFiles()  # opened or dropped while Python started (site/boot.js)
    if waiting.length:
        page.spawn(page.open_files(waiting))
except Exception as exc:  # the page must say why it cannot work
    say(f"Python could not start: {exc}", 0)
    document.documentElement.dataset.runtime = "error"
    flush()
    raise
