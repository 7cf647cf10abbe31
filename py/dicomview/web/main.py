"""PyScript entry point: load numpy and pydicom, attach the handlers, then mark the page ready.

The performance marks name the start-up steps for tests/bench/startup.py.
"""

import js
import pyodide_js
from pyodide.ffi import create_proxy

from dicomview.web.host import URL, document, flush, performance, window

PYDICOM_WHEEL = "vendor/wheels/pydicom-3.0.2-py3-none-any.whl"
# .pyc of what start-up imports from numpy and pydicom, and of Pillow (a fallback, loaded only if needed)
# (serving/vendor.py BYTECODE_WHEEL):
# Pyodide then loads bytecode instead of compiling ~150 modules from source on every start.
BYTECODE_WHEEL = "vendor/wheels/dicomview_bytecode-0.27.7-cp312-none-any.whl"


def say(text: str, step: int) -> None:
    document.getElementById("status-text").textContent = text
    document.getElementById("runtime-progress").value = step
    flush()


try:
    performance.mark("dicomview:main")
    say("Loading numpy and pydicom…", 2)
    wheels = [URL.new(wheel, document.baseURI).href for wheel in (PYDICOM_WHEEL, BYTECODE_WHEEL)]
    await pyodide_js.loadPackage(["numpy", *wheels])  # Pillow only if the IJG codec fails (web/codecs.py)
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
