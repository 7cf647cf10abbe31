"""dicomview: a DICOM viewer whose pixel pipeline is pydicom + numpy, in the browser and on servers.

The package is split by where code runs (DESIGN §2): the pipeline modules are plain Python and numpy;
`dicomview.web` is the only place that touches the browser (`js`, `pyodide`, `pyscript`);
`dicomview.serving` holds the CPython-only tools that vendor the runtime and serve the page.
"""

__version__ = "0.1.0"
