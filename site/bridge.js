// The page's half of py/dicomview/web/host.py: Python runs in PyScript's worker (issue 7) and holds the
// page's objects by number. Python sends batches of commands, plain JSON (typed arrays and Files travel
// beside it as `extras`: cloned, or moved when Python made them for the page alone), on its own channel
// below; `run` does one batch.
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


// One command: [op, number, ...]. `keep` (a negative number Python chose) stores an object Python
// creates without waiting for it (createElement, getContext, new ImageData): it is named before it exists.
function execute([op, number, name, json, keep], extras) {
  const target = objects.get(number);
  const store = (value) => {
    if (keep === undefined || keep === null) return out(value);
    objects.set(keep, value);
    return null;
  };
  switch (op) {
    case "get": {
      if (name.endsWith("\0")) return out(target[name.slice(0, -1)]);
      if (!(name in Object(target))) return { m: 1 };
      const value = target[name];
      return typeof value === "function" ? { fn: 1 } : out(value);
    }
    case "set": target[name] = into(json, extras); return null;
    case "call": return store(target[name](...into(json, extras)));
    case "new": return store(new (name === null ? target : target[name])(...into(json, extras)));
    case "apply": return out(target(...into(json, extras)));
    case "items": return { l: Array.from(target, out) };
    case "release": for (const each of json) objects.delete(each); return null;
    default: throw new TypeError(`unknown command ${op}`);
  }
}

// host.py's channel: every batch from Python arrives here in order. A batch of writes is done when it
// comes (Python has gone on); one ending in a read is answered in shared memory, where Python waits for it.
const ANSWER_READY = 1, ANSWER_TOO_LONG = 2; // the answer's states, as host.py names them
const STATE = 0, LENGTH = 1, POSTED = 2, DONE = 3; // the counters' places
let channel = null; // the page's end of host.py's MessagePort: batches come in, Files go out
let counters = null; // Int32Array on shared memory: answer state, answer length, batches posted, done
let answerBytes = null;
let pendingAnswer = null; // an answer that did not fit: written again into the larger buffer Python sends
const encoder = new TextEncoder();

function writeAnswer(bytes) {
  Atomics.store(counters, LENGTH, bytes.length);
  if (bytes.length > answerBytes.length) {
    pendingAnswer = bytes;
    Atomics.store(counters, STATE, ANSWER_TOO_LONG);
  } else {
    answerBytes.set(bytes);
    Atomics.store(counters, STATE, ANSWER_READY);
  }
  Atomics.notify(counters, STATE);
}

function onBatch({ data }) {
  if (data.answerBytes && !data.json) { // the larger buffer for an answer that did not fit
    answerBytes = data.answerBytes;
    const bytes = pendingAnswer;
    pendingAnswer = null;
    writeAnswer(bytes);
    return;
  }
  const reply = run(data.json, data.extras);
  if (data.answer) writeAnswer(encoder.encode(reply));
  else for (const error of JSON.parse(reply).errors) console.error(`dicomview: on the page: ${error}`);
  Atomics.add(counters, DONE, 1);
  Atomics.notify(counters, DONE);
}

function listenForChannel() {
  const script = document.querySelector('script[type="py"][worker]');
  script.xworker.addEventListener("message", (event) => {
    if (!event.data || !event.data.dicomviewChannel) return;
    counters = event.data.counters;
    answerBytes = event.data.answerBytes;
    channel = event.data.dicomviewChannel;
    channel.onmessage = onBatch;
  });
}

globalThis.dicomviewBridge = {
  connect(dispatcher) { dispatch = dispatcher; listenForChannel(); },
  busy: 0, // Python's own pending work (tasks, animation frames), set by host.py
  // Nothing sent to Python is still being handled, and nothing it sent is still to be done here: what
  // tests and tools wait for after an input.
  get idle() {
    return inflight === 0 && this.busy === 0
      && (counters === null || Atomics.load(counters, POSTED) === Atomics.load(counters, DONE));
  },
};

// One batch: Python's writes since its last one, perhaps ending in the read it waits for. The answer is
// the last command's value (or its error); earlier commands' errors are listed beside it.
function run(json, extras) {
  const commands = JSON.parse(json);
  const errors = [];
  let result = null;
  commands.forEach((command, index) => {
    try {
      const value = execute(command, extras);
      if (index === commands.length - 1) result = value;
    } catch (error) {
      const text = `${error && error.name ? `${error.name}: ` : ""}${error && error.message !== undefined ? error.message : error}`;
      if (index === commands.length - 1) result = { e: text };
      else errors.push(`${command[0]} ${command[2] || ""}: ${text}`);
    }
  });
  return JSON.stringify({ r: result, errors });
}

// Files reach Python's worker as its own File objects (handles, not bytes) on host.py's channel
// (local_files). Cloning a File costs the page ~0.25 ms (more on a busy machine), so a
// 300-file choice goes in parts of FILES_PER_MESSAGE, each in its own task: in one message of 300 the
// page was blocked for 80 ms (traced), the longest task while a series loaded (issue 7).
const FILES_PER_MESSAGE = 8;
const taskQueue = new MessageChannel(); // a new task each, without setTimeout's 4 ms once nested
const tasks = [];
taskQueue.port1.onmessage = () => tasks.shift()();
const nextTask = (work) => { tasks.push(work); taskQueue.port2.postMessage(null); };
globalThis.dicomviewShareFiles = (ticket, files) => {
  const all = Array.from(files);
  const post = (start) => {
    const end = Math.min(start + FILES_PER_MESSAGE, all.length);
    try {
      channel.postMessage({ ticket, files: all.slice(start, end), last: end >= all.length });
    } catch (error) { // Python's wait ends with the reason
      channel.postMessage({ ticket, files: [], last: true, error: String(error) });
      return;
    }
    if (end < all.length) nextTask(() => post(end));
  };
  post(0);
};
