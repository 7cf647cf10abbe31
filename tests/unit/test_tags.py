"""The tag browser's rows: every element, nested sequences, binary summarised, search by keyword/tag/value."""

from __future__ import annotations

from corpus import corpus_file
from dicomview.decode import read_dataset
from dicomview.tags import MAX_VALUE_CHARS, search, tag_rows


def rows_of(name: str):
    return tag_rows(read_dataset(corpus_file(name).read_bytes()))


def test_every_element_including_file_meta_and_nested_items():
    ds = read_dataset(corpus_file("eCT_Supplemental.dcm").read_bytes())
    rows = tag_rows(ds)
    assert rows[0].tag.startswith("(0002,")  # file meta first
    assert sum(1 for row in rows if row.depth == 0) == len(ds.file_meta) + len(ds)
    nested = [row for row in rows if row.keyword == "RescaleIntercept"]
    assert nested and all(row.depth >= 2 for row in nested)
    assert any(row.keyword == "Item 1" and row.vr == "" for row in rows)


def test_pixel_data_is_summarised_not_dumped():
    (pixel,) = [row for row in rows_of("693_UNCI.dcm") if row.keyword == "PixelData"]
    assert pixel.value == "<binary, 524288 bytes>"
    assert all(len(row.value) <= MAX_VALUE_CHARS for row in rows_of("693_UNCI.dcm"))


def test_search_by_keyword_tag_in_any_form_and_value():
    rows = rows_of("MR_small.dcm")
    assert [r.value for r in search(rows, "patientname")] == ["CompressedSamples^MR1"]
    for query in ("(0010,0020)", "0010,0020", "00100020"):
        assert [r.keyword for r in search(rows, query)] == ["PatientID"], query
    assert [r.keyword for r in search(rows, "TOSHIBA_MEC")] == ["Manufacturer"]
    assert search(rows, "") == rows


def test_markup_in_a_value_stays_verbatim_text():
    ds = read_dataset(corpus_file("MR_small.dcm").read_bytes())
    ds.StudyDescription = "<script>alert(1)</script>"
    (row,) = search(tag_rows(ds), "StudyDescription")
    assert row.value == "<script>alert(1)</script>"


def test_rows_copy_as_tab_separated_lines_with_their_nesting():
    from dicomview.tags import rows_text

    ds = read_dataset(corpus_file("693_UNCI.dcm").read_bytes())
    rows = search(tag_rows(ds), "SourceImageSequence")
    text = rows_text(tag_rows(ds))
    assert rows_text(rows) == f"{rows[0].tag}\tSourceImageSequence\tSQ\t{rows[0].value}"
    nested = f"(0008,1150)\t    ReferencedSOPClassUID\tUI\t{ds.SourceImageSequence[0].ReferencedSOPClassUID}"
    assert nested in text.splitlines()
    assert len(text.splitlines()) == len(tag_rows(ds))
