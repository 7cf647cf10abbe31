"""Every data element of a dataset as rows for the tag browser, nested sequences included, and search.

Values are plain strings for the page's textContent, never HTML. Bulk and binary values are
summarised by size, and long text is cut, so a 200 MB Pixel Data never reaches the DOM.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from dicomview import deferred

BINARY_VRS = {"OB", "OW", "OF", "OD", "OL", "OV", "UN"}
MAX_VALUE_CHARS = 256


@dataclass(frozen=True)
class TagRow:
    depth: int
    tag: str  # "(0010,0010)", or "" for a sequence item row
    keyword: str
    vr: str
    value: str


def format_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def value_text(element: DataElement) -> str:
    """A short, plain-text rendering of one element's value."""
    if element.VR in BINARY_VRS:
        length = len(element.value) if element.value is not None else 0  # an empty value is None
        return f"<binary, {length} bytes>"
    try:
        value = element.value
    except Exception as exc:  # a malformed value still gets a row
        return f"<unreadable: {exc}>"
    if isinstance(value, MultiValue | list | tuple):  # not any iterable: a PersonName iterates its characters
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value if value is not None else "")
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def tag_rows(ds: Dataset, depth: int = 0) -> list[TagRow]:
    """File meta first (top level only), then every element; sequence items indented below them."""
    rows: list[TagRow] = []
    meta = getattr(ds, "file_meta", None) if depth == 0 else None
    for element in [*(meta or []), *sorted(ds.keys())]:
        if not isinstance(element, DataElement):  # a tag: its value may still be in the file, unread
            unread = deferred.unread_element(ds, element)
            if unread is not None and unread.length != deferred.UNDEFINED_LENGTH:
                rows.append(unread_row(unread, depth))
                continue
            try:  # encapsulated pixel data left in the file is read to count it, then given back
                element = ds[element]
            except Exception as exc:  # the file is gone since it was opened
                rows.append(TagRow(depth, format_tag(int(element)), keyword_for_tag(element) or "unknown", "",
                                   f"<unreadable: {exc}>"))
                continue
        tag = format_tag(int(element.tag))
        keyword = element.keyword or ("private" if element.tag.is_private else "unknown")
        if element.VR == "SQ":
            items = element.value or []
            rows.append(TagRow(depth, tag, keyword, "SQ", f"{len(items)} item(s)"))
            for number, item in enumerate(items, start=1):
                rows.append(TagRow(depth + 1, "", f"Item {number}", "", ""))
                rows.extend(tag_rows(item, depth + 2))
        else:
            rows.append(TagRow(depth, tag, keyword, str(element.VR), value_text(element)))
    deferred.release(ds)
    return rows


def unread_row(element, depth: int) -> TagRow:
    """Pixel data still in its file (dicomview.deferred): its size, without reading it for the table. An
    implicit VR file gives no VR: Pixel Data is then OW (PS3.5 A.1), as pydicom makes it once read."""
    vr = element.VR or ("OW" if element.tag == deferred.PIXEL_DATA_TAG else dictionary_VR(element.tag))
    return TagRow(depth, format_tag(int(element.tag)), keyword_for_tag(element.tag) or "unknown", str(vr),
                  f"<binary, {element.length} bytes>")


def matches(row: TagRow, query: str) -> bool:
    """Keyword, tag number (with or without brackets and comma) or value, case-insensitive."""
    needle = query.strip().lower()
    if not needle:
        return True
    digits = needle.replace("(", "").replace(")", "").replace(",", "").replace(" ", "")
    return (needle in row.keyword.lower() or needle in row.value.lower()
            or (bool(digits) and digits in row.tag.lower().replace("(", "").replace(")", "").replace(",", "")))


def search(rows: list[TagRow], query: str) -> list[TagRow]:
    return [row for row in rows if matches(row, query)]


def rows_text(rows: list[TagRow]) -> str:
    """Rows as tab-separated lines (tag, keyword indented by depth, VR, value) for the clipboard."""
    return "\n".join("\t".join((row.tag, "  " * row.depth + row.keyword, row.vr, row.value)) for row in rows)
