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


# One real file of each transfer syntax the corpora hold (tests/unit/test_jpeg_dct.py checks that the
# list covers them all; tests/browser/test_codecs.py holds the page to CPython on each, bit for bit).
ONE_FILE_PER_SYNTAX = {
    "1.2.840.10008.1.2": "MR_small_implicit.dcm",
    "1.2.840.10008.1.2.1": "CT_small.dcm",
    "1.2.840.10008.1.2.1.99": "image_dfl.dcm",
    "1.2.840.10008.1.2.2": "MR_small_bigendian.dcm",
    "1.2.840.10008.1.2.4.50": "SC_rgb_dcmtk_+eb+cy+np.dcm",
    "1.2.840.10008.1.2.4.51": "JPGExtended.dcm",
    "1.2.840.10008.1.2.4.70": "JPEG-LL.dcm",
    "1.2.840.10008.1.2.4.80": "MR_small_jpeg_ls_lossless.dcm",
    "1.2.840.10008.1.2.4.81": "JPEGLSNearLossless_16.dcm",
    "1.2.840.10008.1.2.4.90": "MR_small_jp2klossless.dcm",
    "1.2.840.10008.1.2.4.91": "693_J2KI.dcm",
    "1.2.840.10008.1.2.5": "MR_small_RLE.dcm",
}
