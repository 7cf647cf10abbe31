"""The study browser: search a DICOMweb server (QIDO-RS), list series with thumbnails, open a series
(WADO-RS) into the viewer's session. Thin glue over dicomview.dicomweb; every value is text.

Served by Orthanc, the page finds the server in ../server.json (written by the plugin) and opens on
the study list; elsewhere the user may type a DICOMweb URL, which the page's Content-Security-Policy
(connect-src 'self') allows only on the page's own origin.
"""

from __future__ import annotations

import json
import urllib.parse

from js import URL
from pyodide.http import pyfetch

from dicomview import dicomweb
from dicomview.session import Problem
from dicomview.web.dom import element, listen, make
from dicomview.web.host import document, location

SEARCH_FIELDS = {  # input id -> StudyQuery field
    "study-patient-name": "patient_name", "study-patient-id": "patient_id", "study-date-from": "date_from",
    "study-date-to": "date_to", "study-modality": "modality", "study-accession": "accession",
}
FIELD_LABELS = {"study-patient-name": "Patient name", "study-patient-id": "Patient ID",
                "study-date-from": "From", "study-date-to": "To", "study-modality": "Modality",
                "study-accession": "Accession"}
JSON = "application/dicom+json"


async def fetch(url: str, accept: str) -> tuple[str, bytes]:
    """GET url; (content type, body). Any failure raises DicomWebError naming the URL and the cause."""
    try:
        response = await pyfetch(url, headers={"Accept": accept})
    except Exception as exc:  # refused by the CSP, unreachable, CORS: the browser says only "failed"
        same_origin = URL.new(url).origin == location.origin
        why = "" if same_origin else " (this page may connect only to its own origin)"
        raise dicomweb.DicomWebError(f"cannot reach {url}{why}: {exc}") from None
    if not response.ok:
        raise dicomweb.DicomWebError(f"{url} answered {response.status} {response.status_text}")
    return response.headers.get("content-type", ""), await response.bytes()


async def fetch_json(url: str):
    _, body = await fetch(url, JSON)
    return json.loads(body) if body else None


def build_panel():
    """The panel's elements, made here so that index.html needs no change."""
    panel = make("details", id="study-browser", class_="study-browser")
    panel.append(make("summary", "Studies (DICOMweb)"))
    form = make("form", id="study-search", class_="study-search")
    form.append(make("label", "Server", for_="dicomweb-url"),
                make("input", id="dicomweb-url", type="url", placeholder="DICOMweb URL, e.g. /dicom-web/"))
    for input_id, label in FIELD_LABELS.items():
        kind = "date" if "date" in input_id else "search"
        form.append(make("label", label, for_=input_id), make("input", id=input_id, type=kind))
    form.append(make("button", "Search", type="submit", id="study-search-button"))
    status = make("p", id="study-status", class_="study-status", role="status")
    progress = make("progress", id="series-progress", max="1", value="0", hidden="")
    table = make("table", id="study-list", class_="study-list")
    head = make("tr")
    head.append(*[make("th", text) for text in ("Patient", "ID", "Date", "Modalities", "Description")])
    table.append(make("thead"), make("tbody"))
    table.tHead.append(head)
    panel.append(form, status, progress, table, make("ul", id="dicomweb-series-list", class_="dicomweb-series-list"))
    return panel


class StudyBrowser:
    """Search, list and open; `page` is the ViewerPage whose session receives the series."""

    def __init__(self, page) -> None:
        self.page = page
        self.base = ""
        self.thumbnails = ""  # the plugin's thumbnail route, "" elsewhere
        self.studies: dict[str, dict[str, str]] = {}

    def attach(self) -> None:
        side = document.querySelector("aside.side")
        side.prepend(build_panel())
        listen(element("study-search"), "submit", self.on_search)
        listen(element("study-list"), "click", self.on_study_click)
        listen(element("dicomweb-series-list"), "click", self.on_series_click)
        self.page.spawn(self.discover())

    def status(self, text: str) -> None:
        element("study-status").textContent = text

    async def query(self, url: str, to_rows, failing: str) -> list[dict[str, str]] | None:
        """QIDO-RS answer as rows, or None after saying "<failing>: <reason>" in the status line."""
        try:
            return to_rows(await fetch_json(url))
        except (dicomweb.DicomWebError, ValueError) as exc:  # ValueError: the body is not JSON
            self.status(f"{failing}: {exc}")
            return None

    async def discover(self) -> None:
        """Served by Orthanc: use its DICOMweb root and thumbnails, and list the studies at once."""
        info_url = URL.new("../server.json", document.baseURI).href
        try:
            info = json.loads((await fetch(info_url, "application/json"))[1])
        except (dicomweb.DicomWebError, ValueError):
            return  # a static host: the panel waits for a URL
        self.thumbnails = URL.new(info.get("thumbnail", ""), info_url).href if info.get("thumbnail") else ""
        element("dicomweb-url").value = URL.new(info["dicomweb"], info_url).href
        element("study-browser").open = True
        study = urllib.parse.parse_qs(location.hash.lstrip("#")).get("study", [""])[0]
        await self.search(dicomweb.StudyQuery(study_uid=study or ""))
        if study and study in self.studies:
            await self.list_series(study)

    def on_search(self, event) -> None:  # site/boot.js keeps the form from being sent
        fields = {field: element(input_id).value for input_id, field in SEARCH_FIELDS.items()}
        self.page.spawn(self.search(dicomweb.StudyQuery(**fields)))

    async def search(self, query: dicomweb.StudyQuery) -> None:
        self.base = element("dicomweb-url").value.strip()
        if not self.base:
            self.status("Type the DICOMweb URL of a server first.")
            return
        self.status("Searching…")
        try:
            url = dicomweb.study_search_url(self.base, query)
        except dicomweb.DicomWebError as exc:
            self.status(f"Search failed: {exc}")
            return
        rows = await self.query(url, dicomweb.study_rows, "Search failed")
        if rows is None:
            return
        self.studies = {row["study_uid"]: row for row in rows}
        body = element("study-list").tBodies[0]
        body.replaceChildren()
        for row in rows:
            tr = make("tr", data_study_uid=row["study_uid"])
            button = make("button", row["patient_name"] or "(no name)", type="button", class_="study-open")
            first = make("td")
            first.append(button)
            tr.append(first, *[make("td", row[key]) for key in ("patient_id", "study_date", "modalities",
                                                                "description")])
            body.append(tr)
        more = " (the first ones: narrow the search)" if len(rows) >= dicomweb.STUDY_LIMIT else ""
        self.status(f"{len(rows)} stud{'y' if len(rows) == 1 else 'ies'}{more}")

    def on_study_click(self, event) -> None:
        row = event.target.closest("tr[data-study-uid]")
        if row is not None:
            self.page.spawn(self.list_series(row.getAttribute("data-study-uid")))

    async def list_series(self, study_uid: str) -> None:
        for row in document.querySelectorAll("#study-list tr[data-study-uid]"):  # UIDs never go into a selector
            if row.getAttribute("data-study-uid") == study_uid:
                row.setAttribute("aria-selected", "true")
            else:
                row.removeAttribute("aria-selected")
        rows = await self.query(dicomweb.series_search_url(self.base, study_uid), dicomweb.series_rows,
                                "Cannot list the series")
        if rows is None:
            return
        listing = element("dicomweb-series-list")
        listing.replaceChildren()
        for row in rows:
            item = make("li", data_series_uid=row["series_uid"], data_study_uid=study_uid)
            if self.thumbnails:
                src = self.thumbnails + urllib.parse.quote(row["series_uid"], safe="")
                item.append(make("img", src=src, alt="", class_="thumbnail",
                                 loading="lazy"))
            label = " · ".join(part for part in (row["modality"], row["number"] and f"#{row['number']}",
                                                 row["description"]) if part)
            count = f" ({row['instance_count']} images)" if row["instance_count"] else ""
            item.append(make("button", f"{label or 'Series'}{count}", type="button", class_="series-open"))
            listing.append(item)
        self.status(f"{len(rows)} series in this study: choose one to open")

    def on_series_click(self, event) -> None:
        item = event.target.closest("li[data-series-uid]")
        if item is not None:
            self.page.spawn(self.open_series(item.getAttribute("data-study-uid"),
                                             item.getAttribute("data-series-uid")))

    async def retrieve(self, url: str) -> list[bytes]:
        """The instance as stored; again as Explicit VR Little Endian if this browser cannot decode it."""
        parts = dicomweb.multipart_parts(*await fetch(url, dicomweb.accept_header("*")))
        if any(dicomweb.part_needs_transcoding(part) for part in parts):
            parts = dicomweb.multipart_parts(*await fetch(url, dicomweb.accept_header(dicomweb.TRANSCODE_TO)))
        return parts

    async def open_series(self, study_uid: str, series_uid: str) -> None:
        """Every instance through WADO-RS, one request each so the progress bar moves."""
        await self.page.codecs_ready()
        progress = element("series-progress")
        instances = await self.query(dicomweb.instance_search_url(self.base, study_uid, series_uid),
                                     dicomweb.instance_rows, "Cannot list the images")
        if instances is None:
            return
        progress.max, progress.value, progress.hidden = max(len(instances), 1), 0, False
        first_new = len(self.page.session.images)
        for count, row in enumerate(instances, start=1):
            self.status(f"Loading image {count} of {len(instances)}…")
            name = f"{row['instance_uid']}.dcm"
            url = dicomweb.instance_url(self.base, study_uid, series_uid, row["instance_uid"])
            try:
                parts = await self.retrieve(url)
            except dicomweb.DicomWebError as exc:
                self.page.add_problem(Problem(name, str(exc)))
                parts = []
            for part in parts:
                outcome = self.page.session.open_file(name, part)
                if isinstance(outcome, Problem):
                    self.page.add_problem(outcome)
            progress.value = count
        progress.hidden = True
        new = self.page.session.images[first_new:]
        self.page.session.arrange()
        await self.page.present(new)
        self.status(f"Opened {len(instances)} image(s) of the series")
