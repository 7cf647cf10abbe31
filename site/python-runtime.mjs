// The page's Python runtime (pyscript.toml `interpreter`): the vendored Pyodide, loading the standard
// library with bytecode (python_stdlib_pyc.zip, made by py/dicomview/serving/bytecode.mjs at vendor
// time) instead of its source-only python_stdlib.zip, which every start compiled again (issue 7).
// It also fetches the wheels that web/main.py imports numpy and pydicom from, while Pyodide starts
// rather than once main.py runs: the service worker and the network read them meanwhile.
import * as pyodide from "./vendor/pyodide/pyodide.mjs";

const folder = new URL("./vendor/pyodide/", import.meta.url).href;
const WHEELS = [
  "./vendor/pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
  "./vendor/wheels/pydicom-3.0.2-py3-none-any.whl",
  // .pyc of what start-up imports from numpy and pydicom, and of Pillow (serving/vendor.py BYTECODE_WHEEL)
  "./vendor/wheels/dicomview_bytecode-0.27.7-cp312-none-any.whl",
].map((rel) => new URL(rel, import.meta.url).href);

export const version = pyodide.version;

async function wheelBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

export function loadPyodide(options = {}) {
  const wheels = WHEELS.map(wheelBytes);
  wheels.forEach((wheel) => wheel.catch(() => {})); // a failure is reported when main.py asks
  // web/main.py: the wheels' bytes, in order (a promise of an ArrayBuffer each)
  globalThis.dicomviewStartupWheels = () => wheels;
  return pyodide.loadPyodide({ ...options, indexURL: folder, stdLibURL: `${folder}python_stdlib_pyc.zip` });
}
