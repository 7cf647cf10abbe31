"""The dicomview routes inside Orthanc's Python plugin (py/orthanc_plugin.py registers them).

CPython only, and free of the `orthanc` module at import time: the plugin passes that module in,
so everything here but `register` is plain Python tested without Orthanc. Under the route prefix
(default /dicomview) the repository layout is mirrored, because the page loads ../pyscript.toml and
pyscript.toml maps ./py/...: {prefix}/site/..., {prefix}/py/..., {prefix}/pyscript.toml. Those paths
go through serving.static.safe_resolve, so the plugin serves exactly what serve.py serves, and the
package archive {prefix}/site/vendor/dicomview.zip is built from py/ as serve.py builds it.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from dicomview.serving import bundle, static

PAGE = "site/index.html"
LEVEL_PATHS = {"Instance": "instances", "Series": "series"}
ORTHANC_ID = re.compile(r"^[0-9a-f]{8}(?:-[0-9a-f]{8}){4}$")  # Orthanc's SHA-1 based resource ids
SECURITY_HEADERS = {
    "Content-Security-Policy": static.CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
    **static.ISOLATION_HEADERS,
}


@dataclass(frozen=True)
class Settings:
    """The optional "DicomView" section of Orthanc's configuration, with its defaults."""

    prefix: str = "/dicomview"
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    python: str = ""  # the venv (or its bin/python) holding numpy, pydicom 3, Pillow; "" = <repo>/.orthanc-venv
    thumbnail_size: int = 128
    image_format: str = "png"
    dicomweb_root: str = "/dicom-web/"  # DicomWeb.Root of the DICOMweb plugin
    explorer_button: bool = True
    root: Path | None = None  # the folder whose site/, py/ and pyscript.toml are served; None = this repository


def read_settings(configuration: dict) -> Settings:
    """Settings from Orthanc's whole configuration (orthanc.GetConfiguration(), parsed)."""
    own = configuration.get("DicomView", {}) or {}
    if not isinstance(own, dict):
        raise ValueError('"DicomView" in the Orthanc configuration must be an object')
    prefix = "/" + str(own.get("Prefix", Settings.prefix)).strip("/")
    if prefix == "/" or not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix) or ".." in prefix.split("/"):
        raise ValueError(f'DicomView.Prefix {own.get("Prefix")!r} must be a path like "/dicomview"')
    dicomweb = configuration.get("DicomWeb", {}) or {}
    root = "/" + str(dicomweb.get("Root", Settings.dicomweb_root)).strip("/") + "/"
    image_format = str(own.get("Format", Settings.image_format)).lower()
    if image_format not in ("png", "jpeg"):
        raise ValueError(f"DicomView.Format {image_format!r} must be png or jpeg")
    return Settings(
        prefix=prefix,
        workers=max(1, int(own.get("Workers", os.cpu_count() or 1))),
        python=str(own.get("Python", "")),
        thumbnail_size=max(16, int(own.get("ThumbnailSize", Settings.thumbnail_size))),
        image_format=image_format,
        dicomweb_root=root,
        explorer_button=bool(own.get("ExplorerButton", True)),
        root=Path(own["Root"]) if own.get("Root") else None,
    )


@dataclass(frozen=True)
class Answer:
    """A plugin's reply: status, content type, body, extra headers (or a redirect target)."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    location: str = ""


def not_found(what: str = "Not found") -> Answer:
    return Answer(404, what.encode())


def static_answer(relative: str, repo_root: Path) -> Answer:
    """The file at `relative` (the path after the prefix, as Orthanc passes it: already
    percent-decoded) if safe_resolve allows it, else 404."""
    if relative == bundle.URL_PATH:  # built from py/, as serve.py does (serving/bundle.py)
        try:
            return Answer(200, bundle.served(repo_root).data, static.MIME_TYPES[".zip"])
        except bundle.BuildError as exc:
            return Answer(500, str(exc).encode())
    # Orthanc decoded the URI once already; quote it back so safe_resolve's single decoding is
    # the only one (a file named "%41.txt" must not turn into "A.txt").
    try:
        target = static.safe_resolve("/" + urllib.parse.quote(relative, safe="/"), repo_root)
    except UnicodeDecodeError:
        target = None
    if target is None:
        return not_found()
    content_type = static.MIME_TYPES.get(posixpath.splitext(target.name)[1].lower(), "application/octet-stream")
    return Answer(200, target.read_bytes(), content_type)


def server_info(settings: Settings) -> Answer:
    """{prefix}/server.json: tells the page it is served by Orthanc and where things are,
    as URLs relative to this file, so a reverse proxy's extra path prefix keeps working."""
    def relative(path: str) -> str:  # server.json's folder is the prefix itself
        return posixpath.relpath(path, settings.prefix) + ("/" if path.endswith("/") else "")

    info = {
        "server": "orthanc",
        "dicomweb": relative(settings.dicomweb_root),
        "thumbnail": relative(f"{settings.prefix}/thumbnail/"),
        "render": relative(f"{settings.prefix}/render/"),
    }
    return Answer(200, json.dumps(info).encode(), "application/json")


def explorer_script(settings: Settings) -> str:
    """JavaScript for orthanc.ExtendOrthancExplorer: an "Open in dicomview" button on a study's page.

    Orthanc Explorer 1 lives at /app/explorer.html and uses jQuery Mobile 1.1; the study page's
    Orthanc id is $.mobile.pageData.uuid, and ../studies/{id} gives its Study Instance UID."""
    page = json.dumps(".." + settings.prefix + "/" + PAGE)
    return """
$('#study').live('pagebeforeshow', function () {
  $('#dicomview-open').remove();
  var id = $.mobile.pageData && $.mobile.pageData.uuid;
  if (!id) { return; }
  var button = $('<a>', {id: 'dicomview-open', href: '#', 'data-role': 'button', 'data-icon': 'search',
                         'data-theme': 'e', text: 'Open in dicomview'});
  button.insertBefore($('#study-delete').parent().parent());
  button.button();
  button.click(function (event) {
    event.preventDefault();
    $.ajax({url: '../studies/' + id, dataType: 'json', success: function (study) {
      window.open(PAGE + '#study=' + encodeURIComponent(study.MainDicomTags.StudyInstanceUID));
    }});
  });
});
""".replace("PAGE", page)


class WorkerCrashed(RuntimeError):
    """A render worker died (killed, or a decoder crashed on the file); the pool was replaced."""


class RenderPool:
    """A process pool that replaces itself when a worker dies: a dead worker breaks a
    ProcessPoolExecutor for good, and one hostile file must not stop every later render."""

    def __init__(self, make: Callable[[], Executor]) -> None:
        self._make = make
        self._pool = make()
        self._lock = threading.Lock()

    def run(self, function: Callable, *args):
        """function(*args) in a worker; its exception is raised here, WorkerCrashed if the worker died."""
        pool = self._pool
        try:
            return pool.submit(function, *args).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:  # the first request to see it replaces it
                    self._pool = self._make()
                    pool.shutdown(wait=False, cancel_futures=True)
            raise WorkerCrashed("a render worker stopped; the pool was restarted") from None

    def start(self, count: int, function: Callable) -> None:
        """Start the workers now (function is a no-op), not at the first request."""
        for _ in range(count):
            self._pool.submit(function)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class Renderer:
    """Renders instances and series thumbnails in a process pool; the Orthanc calls stay in the
    plugin's process (they are I/O and release the GIL), only the pixel work crosses over."""

    pool: RenderPool
    get_instance_file: Callable[[str], bytes]  # Orthanc instance id -> DICOM bytes
    lookup: Callable[[str], list[dict]]  # a UID or id -> [{"ID":..., "Type":...}] (POST /tools/lookup)
    get_json: Callable[[str], object]  # GET on Orthanc's own REST API, parsed; None on an error
    transcode: Callable[[str], bytes | None]  # instance id -> the file in Explicit VR Little Endian, None if impossible
    settings: Settings

    def resource_id(self, key: str, level: str) -> str | None:
        """An Orthanc id of `level` ("Instance", "Series") from its id or its DICOM UID."""
        if ORTHANC_ID.match(key):
            return key if self.get_json(f"/{LEVEL_PATHS[level]}/{key}") is not None else None
        for match in self.lookup(key):
            if match.get("Type") == level:
                return match["ID"]
        return None

    def middle_instance(self, series_id: str) -> str | None:
        """The instance a series thumbnail shows: the middle one by Instance Number."""
        instances = self.get_json(f"/series/{series_id}/instances")
        if not instances:
            return None

        def number(instance: dict) -> int:
            text = instance.get("MainDicomTags", {}).get("InstanceNumber", "")
            return int(text) if text.strip().lstrip("-").isdigit() else 0

        ordered = sorted(instances, key=lambda instance: (number(instance), instance["ID"]))
        return ordered[len(ordered) // 2]["ID"]

    def render(self, instance_id: str, request) -> Answer:
        from dicomview.serving import rendering  # needs numpy and Pillow: imported once the venv is on sys.path

        try:
            picture = self.pool.run(rendering.render_image, self.get_instance_file(instance_id), request)
        except rendering.UnreadableFile as exc:
            # as the page does: let Orthanc (DCMTK) decode what our decoders cannot, then render that
            transcoded = self.transcode(instance_id)
            if transcoded is None:
                return Answer(415, f"cannot render instance {instance_id}: {exc}".encode())
            try:
                picture = self.pool.run(rendering.render_image, transcoded, request)
            except rendering.UnreadableFile as again:
                return Answer(415, f"cannot render instance {instance_id}: {again}".encode())
        except WorkerCrashed as exc:
            return Answer(500, f"cannot render instance {instance_id}: {exc}".encode())
        return Answer(200, picture, rendering.mime_type(request.image_format))

    def render_route(self, key: str, arguments: dict[str, str]) -> Answer:
        from dicomview.serving import rendering

        try:
            request = rendering.parse_request({"format": self.settings.image_format, **arguments})
        except rendering.BadRequest as exc:
            return Answer(400, str(exc).encode())
        instance_id = self.resource_id(key, "Instance")
        if instance_id is None:
            return not_found(f"no instance {key}")
        return self.render(instance_id, request)

    def thumbnail_route(self, key: str, arguments: dict[str, str]) -> Answer:
        from dicomview.serving import rendering

        series_id = self.resource_id(key, "Series")
        instance_id = None if series_id is None else self.middle_instance(series_id)
        if instance_id is None:
            return not_found(f"no series {key}")
        request = rendering.RenderRequest(image_format=self.settings.image_format,
                                          max_size=self.settings.thumbnail_size)
        return self.render(instance_id, request)
