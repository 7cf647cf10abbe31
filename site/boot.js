// Loads the vendored PyScript runtime. If it is missing (site/vendor/ not generated), the page says
// how to fix it instead of hanging. All viewer logic is Python (py/dicomview).
const root = document.documentElement;
const status = document.getElementById("status-text");

function fail(text) {
  root.dataset.runtime = "error";
  status.textContent = text;
}

// Python cannot write `import()`: this lets it load the vendored ES-module codecs without eval.
globalThis.dicomviewImport = (url) => import(url);

addEventListener("py:progress", (event) => {
  if (root.dataset.runtime === "loading" && typeof event.detail === "string") {
    status.textContent = event.detail;
  }
});

// Anything that fails before Python marks the page ready is a start-up failure: say so.
for (const kind of ["error", "unhandledrejection"]) {
  addEventListener(kind, (event) => {
    if (root.dataset.runtime === "loading") {
      const reason = event.reason || event.error || event;
      fail(`The viewer could not start: ${reason && reason.message ? reason.message : reason}`);
    }
  });
}

import("./vendor/pyscript/core.js").catch((error) => {
  fail(`The Python runtime is missing (${error.message}). Run "python serve.py --vendor-only" once.`);
});
