"""dicomview as an Orthanc Python plugin: the viewer at /dicomview/, server-side rendering in a process pool.

Install once (with the Python that Debian's orthanc-python embeds, /usr/bin/python3 = 3.11):

    /usr/bin/python3 py/orthanc_plugin.py --install      # makes <repo>/.orthanc-venv

then add one line to Orthanc's configuration and restart Orthanc:

    "PythonScript" : "/path/to/dicomview/py/orthanc_plugin.py"

Optional settings, all with defaults: "DicomView" : { "Prefix" : "/dicomview", "Workers" : <cores>,
"Python" : "<repo>/.orthanc-venv", "Root" : "<repo>", "ThumbnailSize" : 128, "Format" : "png",
"ExplorerButton" : true }.

Why a venv and not Debian's python3-pydicom: Debian 12 ships pydicom 2.3, and the viewer's pipeline
uses pydicom 3 (pydicom.pixels); the venv pins the browser's own versions (py/orthanc-requirements.txt),
so the server renders with the very code and libraries the page runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

PY = Path(__file__).resolve().parent
REPO = PY.parent
DEFAULT_VENV = REPO / ".orthanc-venv"
REQUIREMENTS = PY / "orthanc-requirements.txt"


def install(target: Path = DEFAULT_VENV) -> Path:
    """Create the plugin's venv with numpy, pydicom 3 and Pillow (py/orthanc-requirements.txt)."""
    python = target / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(target)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-r", str(REQUIREMENTS)], check=True)
    return target


def venv_paths(setting: str) -> tuple[Path, Path]:
    """(its python, its site-packages) for the "Python" setting: a venv folder or its bin/python."""
    root = Path(setting) if setting else DEFAULT_VENV
    if root.name.startswith("python") and root.parent.name == "bin":
        root = root.parent.parent
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return root / "bin" / "python", root / "lib" / version / "site-packages"


def make_renderer(orthanc, routes, settings):
    """The render pool and its Orthanc accessors, or None (and a log line) without the venv."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    python, site_packages = venv_paths(settings.python)
    if not site_packages.is_dir():
        orthanc.LogError(f"dicomview: no venv at {site_packages.parents[2]}: server-side rendering is off; "
                         f"run `/usr/bin/python3 {PY / 'orthanc_plugin.py'} --install`")
        return None
    sys.path.insert(1, str(site_packages))
    from dicomview.serving import rendering

    # sys.executable is /usr/sbin/Orthanc here: pool workers are spawned (never forked from
    # Orthanc's threads and sockets) with the venv's python, and get this sys.path.
    context = multiprocessing.get_context("spawn")
    context.set_executable(str(python))
    pool = routes.RenderPool(lambda: ProcessPoolExecutor(settings.workers, mp_context=context))
    pool.start(settings.workers, rendering.warm_up)

    def on_change(change_type, level, resource) -> None:
        if change_type == orthanc.ChangeType.ORTHANC_STOPPED:
            pool.shutdown()

    orthanc.RegisterOnChangeCallback(on_change)

    def get_json(uri: str):
        """GET on Orthanc's REST API, parsed; None where Orthanc answers an error (unknown id)."""
        try:
            return json.loads(orthanc.RestApiGet(uri))
        except orthanc.OrthancException:
            return None

    def transcode(instance_id: str) -> bytes | None:
        """The instance decoded by Orthanc itself (DCMTK) to Explicit VR Little Endian, not stored."""
        try:
            return orthanc.RestApiPost(f"/instances/{instance_id}/modify",
                                       json.dumps({"Transcode": "1.2.840.10008.1.2.1", "Force": True}))
        except orthanc.OrthancException:
            return None

    return routes.Renderer(
        pool=pool,
        get_instance_file=orthanc.GetDicomForInstance,
        lookup=lambda key: json.loads(orthanc.RestApiPost("/tools/lookup", key)),
        get_json=get_json,
        transcode=transcode,
        settings=settings,
    )


def send(output, answer, headers: dict[str, str]) -> None:
    """An Answer through Orthanc's output object."""
    for name, value in headers.items():
        output.SetHttpHeader(name, value)
    if answer.location:
        output.Redirect(answer.location)  # Orthanc answers 301
    elif answer.status == 200:
        output.AnswerBuffer(answer.body, answer.content_type)
    else:
        text = answer.body.decode("utf-8", "replace")  # this binding takes the body as str
        output.SendHttpStatus(answer.status, text, len(text.encode()))


def start(orthanc) -> None:
    """Register every route with Orthanc (called when Orthanc loads this script)."""
    sys.path.insert(0, str(PY))
    from dicomview.serving import orthanc_routes as routes

    settings = routes.read_settings(json.loads(orthanc.GetConfiguration()))
    renderer = make_renderer(orthanc, routes, settings)
    no_renderer = routes.Answer(503, b"dicomview: server-side rendering needs the plugin's venv (--install)")

    def route(pattern: str, handler) -> None:
        def callback(output, uri, **request) -> None:
            if request["method"] != "GET":
                output.SendMethodNotAllowed("GET")
                return
            try:
                answer = handler(*request.get("groups", ()), request.get("get", {}))
            except Exception as exc:  # a broken request must not take the plugin down; say why
                orthanc.LogError(f"dicomview: {uri}: {exc!r}")
                answer = routes.Answer(500, f"dicomview: {exc}".encode())
            send(output, answer, routes.SECURITY_HEADERS)

        orthanc.RegisterRestCallback(settings.prefix + pattern, callback)

    page = routes.Answer(301, location=f"{settings.prefix}/{routes.PAGE}")
    # Orthanc 1.10 drops a trailing slash before routing: /dicomview/ arrives as /dicomview.
    route("", lambda arguments: page)
    route("/site", lambda arguments: page)
    route(r"/((?:site|py)/.+|pyscript\.toml)",
          lambda relative, arguments: routes.static_answer(relative, settings.root or REPO))
    route(r"/server\.json", lambda arguments: routes.server_info(settings))
    route("/render/([^/]+)", lambda key, arguments:
          renderer.render_route(key, arguments) if renderer else no_renderer)
    route("/thumbnail/([^/]+)", lambda key, arguments:
          renderer.thumbnail_route(key, arguments) if renderer else no_renderer)
    if settings.explorer_button:
        orthanc.ExtendOrthancExplorer(routes.explorer_script(settings))
    orthanc.LogWarning(f"dicomview: serving the viewer at {settings.prefix}/ ({settings.workers} render workers)")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Install the venv dicomview's Orthanc plugin needs.")
    parser.add_argument("--install", nargs="?", const=str(DEFAULT_VENV), metavar="DIR",
                        help=f"create or update the venv (default {DEFAULT_VENV})")
    args = parser.parse_args()
    if not args.install:
        parser.error("nothing to do: this script is loaded by Orthanc (PythonScript); use --install")
    print(f"dicomview: plugin venv ready at {install(Path(args.install))}")
else:
    import orthanc

    start(orthanc)
