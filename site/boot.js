// Loads the vendored PyScript runtime. If it is missing (site/vendor/ not generated), the page says
// how to fix it instead of hanging. All viewer logic is Python (py/dicomview).
const root = document.documentElement;
const status = document.getElementById("status-text");

function fail(text) {
  root.dataset.runtime = "error";
  status.textContent = text;
}

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
// Python runs in a worker (issue 7): its handlers run after the event has been dispatched, too late to
// prevent the browser's own action or to read a drop. So the page does those two things here, at once:
// it prevents the actions the viewer replaces, and keeps what was dropped on the event for Python.
for (const name of ["dragenter", "dragover"]) {
  addEventListener(name, (event) => event.preventDefault()); // else the browser opens the file
}
addEventListener("drop", (event) => {
  event.preventDefault();
  if (starting()) {
    queue(event.dataTransfer.files);
    return;
  }
  const files = [], directories = []; // the DataTransfer empties once the event is over
  for (const item of Array.from(event.dataTransfer.items)) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (entry && entry.isDirectory) directories.push(entry);
    else if (item.getAsFile()) files.push(item.getAsFile());
  }
  event.dicomviewDrop = { files, directories }; // library.py on_drop
}, { capture: true });

const imageShown = () => document.getElementById("image").hasAttribute("data-render-count");
const overView = (event) => event.target instanceof Element && event.target.closest("canvas.mpr-overlay");
const overImage = (event) =>
  event.target instanceof Element && event.target.closest("#viewport") && !event.target.closest("#help") && imageShown();
addEventListener("wheel", (event) => { // the wheel steps through images, not the page
  if (overImage(event) || overView(event)) event.preventDefault();
}, { passive: false });
addEventListener("contextmenu", (event) => { // the right button drags (zoom, window)
  if (overImage(event) || overView(event)) event.preventDefault();
});
addEventListener("pointerdown", (event) => { // a drag keeps its target when the pointer leaves it
  const target = overView(event) || (overImage(event) && document.getElementById("viewport"));
  if (target && event.button <= 2) {
    target.setPointerCapture(event.pointerId);
    event.preventDefault();
  }
});
// The shortcut keys come from Python (web/gestures.py publish_keys) once it is ready.
const isShortcut = (event) => {
  const keys = globalThis.dicomviewShortcuts;
  if (!keys || event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target instanceof Element ? event.target : document.body;
  if (event.key === "Escape" && !document.getElementById("help").hidden) return true;
  if (target.closest("input, select, textarea")) return false;
  if ((event.key === " " || event.key === "Enter") && target.closest("button, summary, a[href]")) return false;
  if (target.closest("#mpr")) return keys.volume.includes(event.key);
  return keys.anyTime.includes(event.key) || (imageShown() && keys.image.includes(event.key));
};
addEventListener("keydown", (event) => { if (isShortcut(event)) event.preventDefault(); });
addEventListener("submit", (event) => event.preventDefault()); // forms are handled by Python, never sent


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

// Python runs in a worker that reaches the page through SharedArrayBuffer, which browsers give only to a
// cross-origin isolated page. serve.py and the Orthanc plugin send the headers for it; on a host that
// cannot (python -m http.server, GitHub Pages) the offline cache's service worker adds them: the first
// visit registers it and reloads once.
const RELOADED = "dicomview-reloaded-for-isolation";

async function isolate() {
  if (globalThis.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED);
    return true;
  }
  if (!("serviceWorker" in navigator) || sessionStorage.getItem(RELOADED)) {
    sessionStorage.removeItem(RELOADED);
    return false;
  }
  status.textContent = "Preparing the viewer for its first use…";
  const controlled = (async () => {
    await navigator.serviceWorker.register("sw.js");
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
    }
  })();
  const timeout = new Promise((resolve, reject) => setTimeout(() => reject(new Error("no service worker took the page")), 300000));
  try {
    await Promise.race([controlled, timeout]);
  } catch (error) {
    return `${error.message}`;
  }
  sessionStorage.setItem(RELOADED, "1");
  location.reload();
  return null;
}

isolate().then((isolated) => {
  if (isolated === null) return; // reloading
  if (isolated !== true) {
    fail("The viewer needs a cross-origin isolated page to run Python beside it: serve it with serve.py or "
      + "from Orthanc, or open it over https or on localhost, where its service worker can provide that"
      + (isolated ? ` (${isolated}).` : "."));
    return;
  }
  import("./vendor/pyscript/core.js").catch((error) => {
    fail(`The Python runtime is missing (${error.message}). Run "python serve.py --vendor-only" once.`);
  });
}, (error) => fail(`The viewer could not prepare its page: ${error.message}`));

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
