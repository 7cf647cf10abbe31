// The viewer's offline cache (issue 7). After one visit the page starts without the network, and a
// reload reads the ~30 MB runtime from here without even revalidating it.
// - site/vendor/** is immutable for a given runtime_pins.json (every file is pinned by sha256), so it
//   is served cache-first from a cache named after the pins' own sha256; a new pins file (copied to
//   vendor/runtime_pins.json by the vendor step) makes a new cache and drops the old ones.
// - The page's own code (site/*, ../pyscript.toml, ../py/**, and vendor/dicomview.zip: py/dicomview as
//   one archive, which serve.py builds from py/ at each request) is network-first: edits show at once
//   when online, the last copy is used offline.
// - Anything else (other methods, other origins, DICOMweb or Orthanc's own URLs) is left to the network.
// - The page it serves carries the cross-origin isolation headers that serve.py and the Orthanc plugin
//   send: Python runs in a worker that needs them (issue 7), and `python -m http.server` or GitHub Pages
//   cannot send them (site/boot.js registers this worker and reloads once on such hosts).
const SCOPE = self.registration.scope; // .../site/
const ROOT = new URL("../", SCOPE).href; // the folder holding site/, py/ and pyscript.toml
const VENDOR = new URL("vendor/", SCOPE).href;
const PINS = new URL("runtime_pins.json", VENDOR).href;
const CODE_CACHE = "dicomview-code";
const RUNTIME_PREFIX = "dicomview-runtime-";
// Start-up needs these before Python runs: the page, its config, its entry script and the package.
const SHELL = ["./", "boot.js", "bridge.js", "viewer.css", "mpr.css", "studies.css", "icon.svg", "python-runtime.mjs"];
const CONFIG = new URL("pyscript.toml", ROOT).href;
const ENTRY = new URL("py/dicomview/web/main.py", ROOT).href; // index.html's <script type="py" src>
const PACKAGE = new URL("dicomview.zip", VENDOR).href; // pyscript.toml [files]; not pinned: our own code

const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

// Only the page itself needs them (its worker starts from a blob and inherits them; every resource is
// same-origin), and only where the server did not send them: a response rebuilt here loses its place in
// the browser's code cache, and Pyodide's 10 MB of WebAssembly would be compiled again at each start.
function isolated(response) {
  if (response.type !== "basic" || response.headers.has("Cross-Origin-Embedder-Policy")) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function isCode(url) {
  return url === PACKAGE || url.startsWith(SCOPE) || url.startsWith(ROOT + "py/") || url === CONFIG;
}

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function storeIfGood(cache, request, response) {
  if (response.ok && response.status === 200 && response.type === "basic" && !response.redirected) {
    await cache.put(request, response.clone());
  }
  return response;
}

// Skips the write when the cached copy has the same validator (the usual reload: a 304 behind the scenes).
async function storeIfNew(cache, request, response) {
  const tag = (r) => r && (r.headers.get("ETag") || r.headers.get("Last-Modified"));
  const copy = response.clone();
  const cached = await cache.match(request);
  if (!tag(copy) || tag(cached) !== tag(copy)) await storeIfGood(cache, request, copy);
}

// The runtime cache for the pins on the server: filled with every pinned file, older ones dropped.
async function syncRuntime() {
  const text = await (await fetch(PINS, { cache: "no-cache" })).text();
  const name = RUNTIME_PREFIX + (await sha256(text));
  if (!(await caches.has(name))) {
    const cache = await caches.open("incomplete-" + name);
    await cache.addAll(Object.keys(JSON.parse(text)).map((rel) => new URL(rel, VENDOR).href));
    await copyCache(cache, await caches.open(name)); // complete, or not at all
    await caches.delete("incomplete-" + name);
  }
  runtimeCache = null;
  for (const key of await caches.keys()) {
    if (![name, "incomplete-" + name, CODE_CACHE].includes(key)) await caches.delete(key);
  }
}

async function copyCache(from, to) {
  for (const request of await from.keys()) await to.put(request, await from.match(request));
}

async function precacheCode() {
  const cache = await caches.open(CODE_CACHE);
  await Promise.all([...SHELL.map((rel) => new URL(rel, SCOPE).href), CONFIG, ENTRY, PACKAGE].map(
    async (url) => storeIfGood(cache, url, await fetch(url, { cache: "no-cache" }))));
}

self.addEventListener("install", (event) => {
  event.waitUntil(Promise.all([syncRuntime(), precacheCode()]).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  // Navigation preload: the page's request leaves while this worker is still starting.
  event.waitUntil(Promise.all([self.registration.navigationPreload?.enable(), self.clients.claim()]));
});

let runtimeCache = null; // while this worker runs: the complete runtime cache, looked up once

async function openRuntimeCache() {
  const name = (await caches.keys()).find((key) => key.startsWith(RUNTIME_PREFIX));
  return name ? caches.open(name) : null;
}

async function runtimeFile(request) {
  runtimeCache = runtimeCache || openRuntimeCache();
  const hit = await (await runtimeCache)?.match(request);
  return hit || fetch(request);
}

let serverAnswered = null; // did the server answer the last page load (null: none seen by this worker)

async function networkFirst(event) {
  const cache = await caches.open(CODE_CACHE);
  try {
    // Always ask the server (a static host's max-age must not hide an edit); the HTTP cache may answer 304.
    const request = event.request;
    const response = await (request.mode === "navigate"
      ? (await event.preloadResponse) || fetch(request)
      : fetch(request, { cache: "no-cache" }));
    event.waitUntil(storeIfNew(cache, request, response)); // a clone
    if (request.mode === "navigate") serverAnswered = true;
    return response;
  } catch (error) {
    if (event.request.mode === "navigate") serverAnswered = false;
    const hit = await cache.match(event.request, { ignoreSearch: event.request.mode === "navigate" });
    if (hit) return hit;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || request.url === PINS) return;
  if (request.url.startsWith(VENDOR) && request.url !== PACKAGE) {
    // While the server answers, WebAssembly goes the browser's own way (its HTTP cache answers): Chromium
    // then reuses the module's compiled code in Python's worker, which it does not for a response this
    // worker gives, even one it fetched (measured: Pyodide's start ~350 ms slower, tests/bench/README.md).
    if (new URL(request.url).pathname.endsWith(".wasm") && (serverAnswered ?? self.navigator.onLine)) return;
    event.respondWith(runtimeFile(request));
  } else if (isCode(request.url)) {
    if (request.mode === "navigate") event.waitUntil(syncRuntime().catch(() => {})); // new pins: new cache
    event.respondWith(request.mode === "navigate" ? networkFirst(event).then(isolated) : networkFirst(event));
  }
});
