"""The corpora's own bookkeeping (tests/corpus.py)."""

from __future__ import annotations

import pydicom

from corpus import ONE_FILE_PER_SYNTAX, all_dicom_files, corpus_file


def test_one_file_per_syntax_covers_every_transfer_syntax_of_the_corpora():
    """The list the browser test walks holds every syntax a corpus file is in, each with a file of it."""
    found = set()
    for path in all_dicom_files():
        try:
            found.add(str(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID))
        except Exception:  # noqa: S112 (broken files of the corpora: not in any syntax)
            continue
    assert set(ONE_FILE_PER_SYNTAX) == found
    for uid, name in ONE_FILE_PER_SYNTAX.items():
        assert pydicom.dcmread(corpus_file(name), stop_before_pixels=True).file_meta.TransferSyntaxUID == uid
