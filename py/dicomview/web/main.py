"""PyScript entry point: load numpy and pydicom, attach the handlers, then mark the page ready."""

import pyodide_js
from js import URL, document

PYDICOM_WHEEL = "vendor/wheels/pydicom-3.0.2-py3-none-any.whl"


def say(text: str, step: int) -> None:
    document.getElementById("status-text").textContent = text
    document.getElementById("runtime-progress").value = step


try:
    say("Loading numpy and pydicom…", 2)
    await pyodide_js.loadPackage(["numpy", "pillow", URL.new(PYDICOM_WHEEL, document.baseURI).href])
    from dicomview.web.app import ViewerPage

    page = ViewerPage()
    page.attach()
    page.load_codecs()
    say("Ready: open or drop DICOM files. They stay on this computer.", 3)
    document.documentElement.dataset.runtime = "ready"
except Exception as exc:  # the page must say why it cannot work
    say(f"Python could not start: {exc}", 0)
    document.documentElement.dataset.runtime = "error"
    raise
