// The page's half of py/dicomview/web/host.py: Python runs in PyScript's worker (issue 7) and holds the
// page's objects by number. Each function here is one synchronous call from the worker with plain JSON
// in and out (typed arrays and Files travel beside it as `extras`, cloned by the browser).
const objects = new Map([[1, globalThis], [2, document]]);
let nextNumber = 3;
let dispatch = () => {};
let inflight = 0; // callbacks sent to Python that it has not finished

function out(value) {
  if (value === undefined) return { u: 1 };
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : { n: String(value) };
  if (typeof value === "bigint") return Number(value);
  const number = nextNumber++;
  objects.set(number, value);
  return { h: number };
}

function into(value, extras) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => into(item, extras));
  if ("h" in value) return objects.get(value.h);
  if ("l" in value) return value.l.map((item) => into(item, extras));
  if ("o" in value) return Object.fromEntries(Object.entries(value.o).map(([key, item]) => [key, into(item, extras)]));
  if ("x" in value) return extras[value.x];
  if ("n" in value) return Number(value.n);
  if ("c" in value) {
    const number = value.c;
    return (...args) => {
      inflight += 1;
      Promise.resolve(dispatch(number, JSON.stringify(args.map(out)))).finally(() => { inflight -= 1; });
    };
  }
  throw new TypeError(`unexpected value from Python: ${JSON.stringify(value)}`);
}

function answer(work) {
  try {
    return JSON.stringify(work());
  } catch (error) {
    const name = error && error.name ? `${error.name}: ` : "";
    return JSON.stringify({ e: `${name}${error && error.message !== undefined ? error.message : error}` });
  }
}

globalThis.dicomviewBridge = {
  connect(dispatcher) { dispatch = dispatcher; },
  busy: 0, // Python's own pending work (tasks, animation frames), set by host.py
  // Nothing sent to Python is still being handled: what tests and tools wait for after an input.
  get idle() { return inflight === 0 && this.busy === 0; },
  get: (number, name) => answer(() => {
    const target = objects.get(number);
    if (name.endsWith("\0")) return out(target[name.slice(0, -1)]);
    if (!(name in Object(target))) return { m: 1 };
    const value = target[name];
    return typeof value === "function" ? { fn: 1 } : out(value);
  }),
  set: (number, name, json, extras) => answer(() => {
    objects.get(number)[name] = into(JSON.parse(json), extras)[0];
    return null;
  }),
  call: (number, name, json, extras) => answer(() => {
    const target = objects.get(number);
    return out(target[name](...into(JSON.parse(json), extras)));
  }),
  construct: (number, name, json, extras) => answer(() => {
    const target = objects.get(number);
    const Constructor = name === null ? target : target[name];
    return out(new Constructor(...into(JSON.parse(json), extras)));
  }),
  apply: (number, json, extras) => answer(() => out(objects.get(number)(...into(JSON.parse(json), extras)))),
  items: (number) => answer(() => ({ l: Array.from(objects.get(number), out) })),
  release: (json) => { for (const number of JSON.parse(json)) objects.delete(number); },
};

// Files reach Python's worker as its own File objects (handles, not bytes) on a channel only this page
// knows: host.py local_files.
const fileChannel = new BroadcastChannel(`dicomview-files-${crypto.randomUUID ? crypto.randomUUID() : Math.random()}`);
globalThis.dicomviewFileChannel = fileChannel.name;
globalThis.dicomviewShareFiles = (ticket, files) => fileChannel.postMessage({ ticket, files: Array.from(files) });
