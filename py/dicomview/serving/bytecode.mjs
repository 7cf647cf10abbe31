// Byte-compile, with the vendored Pyodide under Node.js, (1) what the page imports at start-up from
// numpy, Pillow and pydicom, written as one wheel of .pyc files, and (2) Pyodide's standard library,
// written as a copy of python_stdlib.zip with a .pyc next to every .py (zipimport prefers the .pyc).
// dicomview.serving.vendor calls this. Why: neither those wheels nor python_stdlib.zip ships bytecode
// and Pyodide writes none, so every page load compiled ~400 modules from source. The .pyc files are "unchecked-hash" (PEP 552: no timestamps, no source
// check at import; the sources are pinned wheels that never change under them), the hash seed is
// fixed and the zip has fixed dates (zipfile.ZipInfo's default, 1980-01-01, as in dicomview.serving.bundle)
// and order, so the same pinned inputs give the same bytes.
// Usage: node bytecode.mjs <site/vendor dir> <pydicom wheel> <output wheel> <dist name> <version>
//        <output stdlib zip>
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [vendorDir, pydicomWheel, output, distName, version, stdlibOutput] = process.argv.slice(2);
const indexURL = resolve(vendorDir, "pyodide") + "/";
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const pyodide = await loadPyodide({ indexURL, env: { PYTHONHASHSEED: "0" } });
await pyodide.loadPackage(["numpy", "pillow", resolve(pydicomWheel)], { messageCallback: () => {} });
pyodide.globals.set("dist_name", distName);
pyodide.globals.set("version", version);
pyodide.FS.writeFile("/tmp/python_stdlib.zip", readFileSync(indexURL + "python_stdlib.zip"));
pyodide.runPython(`
import base64, hashlib, importlib.util, py_compile, site, sys, zipfile
from pathlib import Path

# What web/main.py and the modules app.py imports load from these three packages.
before = set(sys.modules)
import numpy, PIL.Image, pydicom, pydicom.pixels, pydicom.pixels.decoders.base, pydicom.pixels.processing
root = Path(site.getsitepackages()[0])
sources = sorted({Path(m.__file__) for name, m in sys.modules.items()
                  if name not in before and (getattr(m, "__file__", None) or "").endswith(".py")
                  and Path(m.__file__).is_relative_to(root)})
mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
entries = {}
for source in sources:
    pyc = Path(importlib.util.cache_from_source(str(source)))
    py_compile.compile(str(source), cfile=str(pyc), doraise=True, invalidation_mode=mode)
    entries[pyc.relative_to(root).as_posix()] = pyc.read_bytes()
info = f"{dist_name}-{version}.dist-info/"
entries[info + "METADATA"] = f"Metadata-Version: 2.1\\nName: {dist_name}\\nVersion: {version}\\n".encode()
entries[info + "WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: dicomview\\nRoot-Is-Purelib: true\\nTag: cp312-none-any\\n"
record = [f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
          for name, data in entries.items()] + [info + "RECORD,,"]
entries[info + "RECORD"] = ("\\n".join(record) + "\\n").encode()
with zipfile.ZipFile("/tmp/bytecode.whl", "w") as wheel:
    for name, data in entries.items():
        wheel.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)

# The standard library: zipimport loads <name>.pyc before <name>.py; an unchecked-hash .pyc is used
# as it is. co_filename is the path zipimport gives the source, so tracebacks still show its lines.
with zipfile.ZipFile("/tmp/python_stdlib.zip") as source, zipfile.ZipFile("/tmp/stdlib.zip", "w") as out:
    for item in source.infolist():
        data = source.read(item)
        out.writestr(zipfile.ZipInfo(item.filename), data, zipfile.ZIP_DEFLATED)
        if item.filename.endswith(".py"):
            code = compile(data, f"/lib/python312.zip/{item.filename}", "exec", dont_inherit=True)
            pyc = importlib._bootstrap_external._code_to_hash_pyc(code, importlib.util.source_hash(data), False)
            out.writestr(zipfile.ZipInfo(item.filename + "c"), pyc, zipfile.ZIP_DEFLATED)
`);
writeFileSync(output, pyodide.FS.readFile("/tmp/bytecode.whl"));
writeFileSync(stdlibOutput, pyodide.FS.readFile("/tmp/stdlib.zip"));
