// The page's Python runtime (pyscript.toml `interpreter`): the vendored Pyodide, loading the standard
// library with bytecode (python_stdlib_pyc.zip, made by py/dicomview/serving/bytecode.mjs at vendor
// time) instead of its source-only python_stdlib.zip, which every start compiled again (issue 7).
import * as pyodide from "./vendor/pyodide/pyodide.mjs";

const folder = new URL("./vendor/pyodide/", import.meta.url).href;

export const version = pyodide.version;

export function loadPyodide(options = {}) {
  return pyodide.loadPyodide({ ...options, indexURL: folder, stdLibURL: `${folder}python_stdlib_pyc.zip` });
}
