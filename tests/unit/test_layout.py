"""Structural rules: only dicomview.web touches the browser, and pyscript.toml maps every browser module."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from dicomview.serving import bundle

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "py" / "dicomview"
BROWSER_MODULES = {"js", "pyodide", "pyodide_js", "pyscript"}
CPYTHON_ONLY = {"serving", "tools"}  # subpackages never loaded in the browser


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_the_browser_layer_imports_browser_modules():
    offenders = [
        str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")
        if "web" not in path.relative_to(PACKAGE).parts and imported_roots(path) & BROWSER_MODULES
    ]
    assert offenders == []


def test_the_rule_is_checked_for_real():
    assert imported_roots(PACKAGE / "web" / "app.py") & BROWSER_MODULES


def test_pyscript_config_maps_every_browser_module_and_nothing_server_side():
    """The package reaches the browser as one archive, unpacked where `import dicomview` finds it;
    the archive holds every module outside serving/ and tools/ (and serve.py sends exactly that)."""
    config = tomllib.loads((ROOT / "pyscript.toml").read_text())
    assert config["files"] == {f"./{bundle.URL_PATH}": "./*"}
    expected = {
        path.relative_to(ROOT / "py").as_posix()
        for path in PACKAGE.rglob("*.py") if not CPYTHON_ONLY & set(path.relative_to(PACKAGE).parts)
    }
    assert set(bundle.browser_sources(ROOT / "py")) == expected
    served = bundle.read(bundle.served(ROOT).data)
    assert {name for name in served if name.endswith(".py")} == expected
    # the vendored Pyodide + compiled stdlib; in PyScript's worker the path is relative to pyscript.toml
    assert config["interpreter"] == "./site/python-runtime.mjs"


def test_page_loads_the_entry_point_with_the_config():
    html = (ROOT / "site" / "index.html").read_text()
    assert '<script type="py" worker src="../py/dicomview/web/main.py" config="../pyscript.toml"></script>' in html
    for contract in ('id="open-files"', 'type="file" multiple', 'id="image"', 'id="messages"',
                     'role="alert"', 'data-runtime="loading"'):
        assert contract in html


def test_the_page_csp_meta_matches_the_served_header():
    """Static hosts send no headers: the meta tag must carry the same policy (frame-ancestors and
    sandboxing cannot be set from a meta tag, so only those may differ)."""
    import re

    from dicomview.serving.static import CONTENT_SECURITY_POLICY

    html = (ROOT / "site" / "index.html").read_text()
    meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    header = {d.strip() for d in CONTENT_SECURITY_POLICY.split(";")} - {"frame-ancestors 'none'"}
    assert {d.strip() for d in meta.split(";")} == header
    assert "default-src 'self'" in header and "connect-src 'self'" in header
