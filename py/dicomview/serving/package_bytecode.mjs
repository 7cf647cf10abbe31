// Byte-compile the viewer's own modules with the vendored Pyodide's Python under Node.js, for the
// package archive (dicomview.serving.bundle): the browser runs Python 3.12 and the CPython that
// vendors may be another version, whose .pyc it could not load. Reads a zip of sources and writes a
// zip holding, for each, an "unchecked-hash" .pyc (PEP 552: no timestamp, no look at the source at
// import) where importlib.util.cache_from_source puts it; bundle.build re-packs them in a fixed order.
// PyScript's own modules (bundle.pyscript_sources) get a "checked-hash" .pyc instead.
// A module that does not compile gets no .pyc (it ships as source, and the page shows its error where
// it imports it): its failure is one line `name:line: message` of the failures file, so that neither
// the vendor step nor serve.py prints Node.js's stack, whose lines hold the minified runtime.
// Any other failure is one line on stderr, and exit status 1.
// Usage: node package_bytecode.mjs <site/vendor dir> <sources zip> <output zip> <failures file>
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const COMPILE = `
import importlib._bootstrap_external as external, importlib.util, zipfile

failures = []
with zipfile.ZipFile("/tmp/sources.zip") as sources, zipfile.ZipFile("/tmp/bytecode.zip", "w") as out:
    for name in sorted(sources.namelist()):
        data = sources.read(name)
        try:
            code = compile(data, name, "exec", dont_inherit=True)  # the import system fixes co_filename
        except Exception as error:  # SyntaxError mostly; also ValueError, RecursionError on odd sources
            line = getattr(error, "lineno", None) or 1
            message = getattr(error, "msg", None) or f"{type(error).__name__}: {error}"
            failures.append(f"{name}:{line}: {' '.join(str(message).split())}")
            continue
        # ours unchecked (the archive always carries its sources); PyScript's checked against the sources
        # PyScript writes at run time, so that they are used only for those they were made from
        checked = not name.startswith("dicomview/")
        pyc = external._code_to_hash_pyc(code, importlib.util.source_hash(data), checked)
        out.writestr(importlib.util.cache_from_source(name), pyc)
with open("/tmp/failures.txt", "w") as report:
    report.write("".join(failure + "\\n" for failure in failures))
`;

const [vendorDir, sourcesZip, output, failures] = process.argv.slice(2);
try {
  const indexURL = resolve(vendorDir, "pyodide") + "/";
  const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
  const pyodide = await loadPyodide({ indexURL, env: { PYTHONHASHSEED: "0" } });
  pyodide.FS.writeFile("/tmp/sources.zip", readFileSync(sourcesZip));
  pyodide.runPython(COMPILE);
  writeFileSync(output, pyodide.FS.readFile("/tmp/bytecode.zip"));
  writeFileSync(failures, pyodide.FS.readFile("/tmp/failures.txt"));
} catch (error) {
  const lines = String(error && error.message || error).trim().split("\n");
  process.stderr.write(`package_bytecode.mjs: ${lines[lines.length - 1].slice(0, 300)}\n`);
  process.exitCode = 1;
}
