"""A DICOMweb client without I/O: QIDO-RS query URLs, the DICOM JSON model to table rows, WADO-RS
multipart/related bodies to DICOM files (PS3.18). The page fetches with pyodide.http.pyfetch and the
tests with urllib; both hand the bytes here, so all of this runs and is tested under CPython.
"""

from __future__ import annotations

import io
import re
import urllib.parse
from dataclasses import dataclass

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.pixels import get_decoder
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEGBaseline8Bit, JPEGExtended12Bit

# QIDO-RS answers in the DICOM JSON model (PS3.18 F.2): attributes by 8-hex-digit tag
STUDY_FIELDS = {
    "study_uid": "0020000D", "patient_name": "00100010", "patient_id": "00100020", "study_date": "00080020",
    "description": "00081030", "modalities": "00080061", "accession": "00080050",
    "series_count": "00201206", "instance_count": "00201208",
}
SERIES_FIELDS = {
    "series_uid": "0020000E", "modality": "00080060", "description": "0008103E", "number": "00200011",
    "instance_count": "00201209",
}
INSTANCE_FIELDS = {"instance_uid": "00080018", "number": "00200013"}
STUDY_LIMIT = 100
DICOM_PART = 'multipart/related; type="application/dicom"'
TRANSCODE_TO = ExplicitVRLittleEndian  # what the server converts to when the viewer has no decoder
DATE = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")


class DicomWebError(ValueError):
    """An answer the viewer cannot use; the message says which and why."""


@dataclass(frozen=True)
class StudyQuery:
    """The study browser's search form. Empty fields do not filter; dates are YYYY-MM-DD or YYYYMMDD."""

    patient_name: str = ""
    patient_id: str = ""
    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    accession: str = ""
    study_uid: str = ""  # one study (the viewer's #study=UID link from Orthanc Explorer)


def base_url(url: str) -> str:
    """The DICOMweb root with exactly one trailing slash, so relative joins stay below it."""
    return url.rstrip("/") + "/"


def _date(text: str, name: str) -> str:
    text = text.strip()
    if text and not DATE.match(text):
        raise DicomWebError(f"{name} {text!r} is not a date (YYYY-MM-DD)")
    return text.replace("-", "")


def study_search_url(base: str, query: StudyQuery) -> str:
    """QIDO-RS SearchForStudies (PS3.18 10.6.1) with the form's matching keys (PS3.4 C.2.2.2:
    `*` wildcard for the name, a date range "from-to" with either end open)."""
    params: list[tuple[str, str]] = []
    name = query.patient_name.strip()
    if name:
        params.append(("PatientName", name if "*" in name or "?" in name else name + "*"))
    for key, value in (("PatientID", query.patient_id), ("ModalitiesInStudy", query.modality),
                       ("AccessionNumber", query.accession), ("StudyInstanceUID", query.study_uid)):
        if value.strip():
            params.append((key, value.strip()))
    start, end = _date(query.date_from, "From"), _date(query.date_to, "To")
    if start or end:
        params.append(("StudyDate", start if start == end else f"{start}-{end}"))
    params += [("includefield", tag) for tag in ("00081030", "00080061", "00201206", "00201208")]
    params.append(("limit", str(STUDY_LIMIT)))
    return base_url(base) + "studies?" + query_string(params)


def query_string(params: list[tuple[str, str]]) -> str:
    """URL query with DICOM's matching characters (* ? ^) left as they are: Orthanc 1.10 does not
    percent-decode QIDO-RS values, so "Doe%2A" would look for a literal "Doe%2A" there."""
    return urllib.parse.urlencode(params, safe="*?^", quote_via=urllib.parse.quote)


def uid_path(*uids: str) -> str:
    """UIDs as URL path segments, each escaped (a UID from a hostile answer stays one segment)."""
    levels = ("studies", "series", "instances")
    return "/".join(f"{level}/{urllib.parse.quote(uid, safe='')}" for level, uid in zip(levels, uids, strict=False))


def series_search_url(base: str, study_uid: str) -> str:
    """QIDO-RS SearchForSeries of one study."""
    return f"{base_url(base)}{uid_path(study_uid)}/series?" + query_string(
        [("includefield", tag) for tag in ("0008103E", "00201209")])


def instance_search_url(base: str, study_uid: str, series_uid: str) -> str:
    """QIDO-RS SearchForInstances of one series."""
    return f"{base_url(base)}{uid_path(study_uid, series_uid)}/instances"


def instance_url(base: str, study_uid: str, series_uid: str, instance_uid: str) -> str:
    """WADO-RS RetrieveInstance (PS3.18 10.4)."""
    return base_url(base) + uid_path(study_uid, series_uid, instance_uid)


def accept_header(transfer_syntax: str | None = "*") -> str:
    """The Accept of a WADO-RS retrieve: "*" keeps the stored transfer syntax (PS3.18 8.7.3.5.2);
    None lets the server choose (Orthanc: Explicit VR Little Endian); else that syntax."""
    return DICOM_PART if transfer_syntax is None else f"{DICOM_PART}; transfer-syntax={transfer_syntax}"


def person_name(value: object) -> str:
    """A PN value of the JSON model ({"Alphabetic": "Doe^John"}) as "Doe, John"."""
    if isinstance(value, dict):
        value = value.get("Alphabetic", "") or value.get("Ideographic", "") or value.get("Phonetic", "")
    parts = [part for part in str(value).split("^") if part]
    return ", ".join(parts[:2]) + (" " + " ".join(parts[2:]) if len(parts) > 2 else "")


def attribute_text(item: dict, tag: str) -> str:
    """One attribute of a JSON-model item as display text (values joined by backslash)."""
    element = item.get(tag) or {}
    values = element.get("Value") or []
    if element.get("vr") == "PN":
        return "\\".join(person_name(value) for value in values)
    return "\\".join(str(value) for value in values)


def rows(answer: object, fields: dict[str, str]) -> list[dict[str, str]]:
    """QIDO-RS JSON (a list of items) to plain rows of text, one key per field."""
    if answer is None:  # some servers answer 204 No Content with no body for no match
        return []
    if not isinstance(answer, list) or not all(isinstance(item, dict) for item in answer):
        raise DicomWebError("the QIDO-RS answer is not a list of DICOM JSON objects")
    return [{name: attribute_text(item, tag) for name, tag in fields.items()} for item in answer]


def study_rows(answer: object) -> list[dict[str, str]]:
    return rows(answer, STUDY_FIELDS)


def series_rows(answer: object) -> list[dict[str, str]]:
    """Series ordered by Series Number (then as the server sent them)."""
    return sorted(rows(answer, SERIES_FIELDS), key=lambda row: _number(row["number"]))


def instance_rows(answer: object) -> list[dict[str, str]]:
    """Instances ordered by Instance Number: loading in that order fills the stack from one end."""
    return sorted(rows(answer, INSTANCE_FIELDS), key=lambda row: _number(row["number"]))


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")


def multipart_parts(content_type: str, body: bytes) -> list[bytes]:
    """The bodies of a multipart/related answer (RFC 2387), parsed by the standard library's email
    package with the boundary from the Content-Type header."""
    import email.parser  # here, not at the top: ~75 ms of the page's start-up (issue 7), used only now
    import email.policy
    if not content_type.lower().startswith("multipart/"):
        raise DicomWebError(f"expected a multipart answer, got {content_type or 'no Content-Type'}")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise DicomWebError("the multipart answer has no boundary or no parts")
    return [part.get_payload(decode=True) or b"" for part in message.iter_parts()]


def needs_transcoding(transfer_syntax: str, bits_stored: int = 8) -> bool:
    """True if this runtime has no decoder for the transfer syntax, so the server should convert
    it (to Explicit VR Little Endian). 12-bit JPEG goes only through Pillow, which reads 8 bits."""
    uid = UID(transfer_syntax)
    if not uid.is_compressed:
        return False
    if uid in (JPEGBaseline8Bit, JPEGExtended12Bit) and bits_stored > 8:
        return True
    try:
        return not get_decoder(uid).is_available
    except NotImplementedError:  # a syntax pydicom has no decoder interface for
        return True


def part_needs_transcoding(part: bytes) -> bool:
    """needs_transcoding for one retrieved file, from its header; a file that cannot be read says
    False (the viewer then reports why it cannot be shown)."""
    try:
        ds = pydicom.dcmread(io.BytesIO(part), stop_before_pixels=True)
        syntax = ds.file_meta.get("TransferSyntaxUID", ExplicitVRLittleEndian)
        return needs_transcoding(syntax, int(ds.get("BitsStored", 8) or 8))
    except (InvalidDicomError, ValueError, TypeError, EOFError, OSError):
        return False
