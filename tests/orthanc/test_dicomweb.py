"""dicomview.dicomweb under CPython against a real Orthanc + DICOMweb plugin: QIDO-RS searches,
the JSON model to rows, WADO-RS multipart/related parsed with the standard library.

Expected values come from the uploaded files read with pydicom, never from our own answers.
"""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from conftest import OrthancServer
from corpus import corpus_file
from dicomview import dicomweb
from dicomview.decode import read_dataset, stored_frame

BASE = "/dicom-web/"


def header(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(corpus_file(name), stop_before_pixels=True)


def qido(orthanc: OrthancServer, url: str) -> list[dict[str, str]] | object:
    reply = orthanc.request(url, headers={"Accept": "application/dicom+json"})
    assert reply.status in (200, 204), (url, reply.status, reply.body[:300])
    return json.loads(reply.body) if reply.body else None


def search(orthanc: OrthancServer, **fields: str) -> set[str]:
    url = dicomweb.study_search_url(BASE, dicomweb.StudyQuery(**fields))
    return {row["study_uid"] for row in dicomweb.study_rows(qido(orthanc, url))}


def test_all_studies_and_their_rows(orthanc: OrthancServer, uploaded) -> None:
    rows = {row["study_uid"]: row for row in dicomweb.study_rows(qido(orthanc, dicomweb.study_search_url(
        BASE, dicomweb.StudyQuery())))}
    for name in uploaded:
        ds = header(name)
        row = rows[ds.StudyInstanceUID]
        assert row["patient_id"] == ds.PatientID
        assert row["study_date"] == ds.StudyDate
        family, _, given = str(ds.PatientName).partition("^")
        assert row["patient_name"] == (f"{family}, {given}" if given else family)
        assert ds.Modality in row["modalities"].split("\\")


def test_search_by_each_field(orthanc: OrthancServer, uploaded) -> None:
    ct, mr = header("CT_small.dcm"), header("MR_small_jpeg_ls_lossless.dcm")
    assert search(orthanc, patient_id=ct.PatientID) == {ct.StudyInstanceUID}
    family = str(ct.PatientName).split("^")[0]
    assert ct.StudyInstanceUID in search(orthanc, patient_name=family[:6])  # a prefix matches
    assert mr.Modality == "MR"
    assert search(orthanc, modality="MR") == {header(name).StudyInstanceUID for name in uploaded
                                              if header(name).Modality == "MR"}
    day = f"{ct.StudyDate[:4]}-{ct.StudyDate[4:6]}-{ct.StudyDate[6:]}"
    assert search(orthanc, date_from=day, date_to=day) == {ct.StudyInstanceUID}
    assert ct.StudyInstanceUID in search(orthanc, date_to=day)
    assert ct.StudyInstanceUID not in search(orthanc, date_from=f"{int(ct.StudyDate[:4]) + 1}-01-01")
    assert search(orthanc, accession="no-such-accession-number") == set()


def test_series_and_instances(orthanc: OrthancServer, uploaded) -> None:
    ds = header("SC_rgb_rle.dcm")
    series = dicomweb.series_rows(qido(orthanc, dicomweb.series_search_url(BASE, ds.StudyInstanceUID)))
    assert [row["series_uid"] for row in series] == [ds.SeriesInstanceUID]
    assert series[0]["modality"] == ds.Modality
    instances = dicomweb.instance_rows(qido(orthanc, dicomweb.instance_search_url(
        BASE, ds.StudyInstanceUID, ds.SeriesInstanceUID)))
    assert [row["instance_uid"] for row in instances] == [ds.SOPInstanceUID]


def retrieve(orthanc: OrthancServer, name: str, transfer_syntax: str | None) -> list[bytes]:
    ds = header(name)
    url = dicomweb.instance_url(BASE, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    reply = orthanc.request(url, headers={"Accept": dicomweb.accept_header(transfer_syntax)})
    assert reply.status == 200, (reply.status, reply.body[:300])
    return dicomweb.multipart_parts(reply.headers["content-type"], reply.body)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small_jpeg_ls_lossless.dcm", "SC_rgb_rle.dcm"])
def test_wado_rs_as_stored_gives_the_same_pixels(orthanc: OrthancServer, uploaded, name: str) -> None:
    (part,) = retrieve(orthanc, name, "*")
    original = read_dataset(corpus_file(name).read_bytes())
    received = read_dataset(part)
    assert received.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert received.SOPInstanceUID == original.SOPInstanceUID
    np.testing.assert_array_equal(stored_frame(received, 0), stored_frame(original, 0))


def test_wado_rs_transcodes_when_asked(orthanc: OrthancServer, uploaded) -> None:
    """12-bit JPEG has no decoder in the browser: it asks for Explicit VR Little Endian instead."""
    original = read_dataset(corpus_file("JPEG-lossy.dcm").read_bytes())
    syntax = original.file_meta.TransferSyntaxUID
    assert dicomweb.needs_transcoding(syntax, int(original.BitsStored))
    (part,) = retrieve(orthanc, "JPEG-lossy.dcm", dicomweb.TRANSCODE_TO)
    received = read_dataset(part)
    assert received.file_meta.TransferSyntaxUID == dicomweb.TRANSCODE_TO
    assert received.SOPInstanceUID == original.SOPInstanceUID
    assert (received.Rows, received.Columns) == (original.Rows, original.Columns)


def test_multipart_parts_round_trip_binary() -> None:
    """Parts with every byte value, CR/LF runs and a boundary look-alike come back byte for byte."""
    payloads = [bytes(range(256)) * 3, b"\r\n--not-the-boundary\r\n\r\n\x00\xff", b"DICM" + bytes(1000), b"\n\r"]
    boundary = b"b0undary-1c8e"
    body = b"".join(b"--" + boundary + b"\r\nContent-Type: application/dicom\r\n\r\n" + payload + b"\r\n"
                    for payload in payloads) + b"--" + boundary + b"--\r\n"  # RFC 2046 5.1.1
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary.decode()}'
    assert dicomweb.multipart_parts(content_type, body) == payloads


def test_multipart_parts_refuses_other_answers() -> None:
    with pytest.raises(dicomweb.DicomWebError, match="multipart"):
        dicomweb.multipart_parts("application/json", b"{}")


def test_bad_date_is_named() -> None:
    with pytest.raises(dicomweb.DicomWebError, match="From '2024/01/01'"):
        dicomweb.study_search_url(BASE, dicomweb.StudyQuery(date_from="2024/01/01"))


def test_query_url() -> None:
    url = dicomweb.study_search_url("http://h/dicom-web", dicomweb.StudyQuery(
        patient_name="Doe", date_from="2024-01-02", accession="A&B"))
    assert url.startswith("http://h/dicom-web/studies?PatientName=Doe*&AccessionNumber=A%26B"
                          "&StudyDate=20240102-&includefield=")


def test_uids_stay_single_path_segments() -> None:
    url = dicomweb.instance_url("http://h/dw/", "1.2", "../../x?y#", "3.4")
    assert url == "http://h/dw/studies/1.2/series/..%2F..%2Fx%3Fy%23/instances/3.4"
