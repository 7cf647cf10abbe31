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

// Files opened or dropped while Python starts wait here; main.py opens them the moment it is ready
// (dicomviewTakePendingFiles). Once the page is ready these listeners step aside for Python's own.
const pending = [];
const starting = () => root.dataset.runtime === "loading";
const waiting = () => (pending.length ? ` (${pending.length} file(s) will open when it is ready)` : "");
globalThis.dicomviewTakePendingFiles = () => pending.splice(0);

function queue(files) {
  pending.push(...files);
  status.textContent = status.textContent.replace(/ \(\d+ file\(s\) will open.*$/, "") + waiting();
}

document.getElementById("open-files").addEventListener("change", (event) => {
  if (starting()) {
    queue(event.target.files);
    event.target.value = ""; // choosing the same files again fires change again
  }
});
for (const name of ["dragenter", "dragover"]) {
  addEventListener(name, (event) => starting() && event.preventDefault()); // else the browser opens the file
}
addEventListener("drop", (event) => {
  if (starting()) {
    event.preventDefault();
    queue(event.dataTransfer.files);
  }
});

addEventListener("py:progress", (event) => {
  if (starting() && typeof event.detail === "string") {
    status.textContent = event.detail + waiting();
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

// The offline cache (sw.js), registered once the page is ready so that filling it (from the HTTP cache
// by then) never competes with start-up. The page never waits for it; where it cannot register (plain
// http on another host than localhost, a private window) the viewer works as before, online only.
if ("serviceWorker" in navigator) {
  const register = new MutationObserver(() => {
    if (root.dataset.runtime !== "ready") return;
    register.disconnect();
    navigator.serviceWorker.register("sw.js").catch((error) => {
      console.warn(`dicomview: no offline cache (${error.message})`);
    });
  });
  register.observe(root, { attributes: true, attributeFilter: ["data-runtime"] });
}
