"""Real DICOM files nobody here wrote: PyPI pydicom's test files and pydicom-data's data store.

The directories are read directly: pydicom's get_testdata_files() tries to download missing files.
"""

from __future__ import annotations

from pathlib import Path

import data_store
import pydicom

PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
PYDICOM_DATA_FILES = Path(data_store.__file__).parent / "data"


def corpus_file(name: str) -> Path:
    """A file by name from either corpus (pydicom's own first)."""
    for folder in (PYDICOM_FILES, PYDICOM_DATA_FILES):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} is in neither pydicom's test files nor pydicom-data")


def all_dicom_files() -> list[Path]:
    return sorted(PYDICOM_FILES.glob("*.dcm")) + sorted(PYDICOM_DATA_FILES.glob("*.dcm"))
