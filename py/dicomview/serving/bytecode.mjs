// Byte-compile what the page imports at start-up from numpy, Pillow and pydicom, with the vendored
// Pyodide under Node.js, and write the .pyc files as one wheel (dicomview.serving.vendor calls this).
// Why: none of those wheels ships bytecode and Pyodide writes none, so every page load compiled
// ~150 modules from source. The .pyc files are "unchecked-hash" (PEP 552: no timestamps, no source
// check at import; the sources are pinned wheels that never change under them), the hash seed is
// fixed and the zip has fixed dates and order, so the same pinned inputs give the same bytes.
// Usage: node bytecode.mjs <site/vendor dir> <pydicom wheel> <output wheel> <dist name> <version>
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [vendorDir, pydicomWheel, output, distName, version] = process.argv.slice(2);
const indexURL = resolve(vendorDir, "pyodide") + "/";
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const pyodide = await loadPyodide({ indexURL, env: { PYTHONHASHSEED: "0" } });
await pyodide.loadPackage(["numpy", "pillow", resolve(pydicomWheel)], { messageCallback: () => {} });
pyodide.globals.set("dist_name", distName);
pyodide.globals.set("version", version);
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
        wheel.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
print(len(sources))
`);
writeFileSync(output, pyodide.FS.readFile("/tmp/bytecode.whl"));
