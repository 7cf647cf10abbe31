// Byte-compile the viewer's own modules with the vendored Pyodide's Python under Node.js, for the
// package archive (dicomview.serving.bundle): the browser runs Python 3.12 and the CPython that
// vendors may be another version, whose .pyc it could not load. Reads a zip of sources and writes a
// zip holding, for each, an "unchecked-hash" .pyc (PEP 552: no timestamp, no look at the source at
// import) where importlib.util.cache_from_source puts it. Same sources, same bytes.
// Usage: node package_bytecode.mjs <site/vendor dir> <sources zip> <output zip>
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [vendorDir, sourcesZip, output] = process.argv.slice(2);
const indexURL = resolve(vendorDir, "pyodide") + "/";
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const pyodide = await loadPyodide({ indexURL, env: { PYTHONHASHSEED: "0" } });
pyodide.FS.writeFile("/tmp/sources.zip", readFileSync(sourcesZip));
pyodide.runPython(`
import importlib._bootstrap_external as external, importlib.util, zipfile

with zipfile.ZipFile("/tmp/sources.zip") as sources, zipfile.ZipFile("/tmp/bytecode.zip", "w") as out:
    for name in sorted(sources.namelist()):
        data = sources.read(name)
        code = compile(data, name, "exec", dont_inherit=True)  # the import system fixes co_filename
        pyc = external._code_to_hash_pyc(code, importlib.util.source_hash(data), False)
        out.writestr(zipfile.ZipInfo(importlib.util.cache_from_source(name), (1980, 1, 1, 0, 0, 0)), pyc)
`);
writeFileSync(output, pyodide.FS.readFile("/tmp/bytecode.zip"));
