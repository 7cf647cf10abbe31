// Installed by tests/bench/run.py into every benchmarked page before the page's own scripts run
// (Playwright add_init_script). It only records timestamps on performance.now()'s clock, which
// starts at navigation: when data-runtime becomes "ready", input handling intervals, renders
// (any data-render-count change), animation frames, long tasks, the JS heap in use, and the WebAssembly memories
// the page creates (Pyodide's heap, the codecs'), which the JS heap size does not include.
(() => {
  const now = () => performance.now();
  const bench = (globalThis.__bench = {
    marks: {}, inputs: [], renders: [], frames: [], longtasks: [], jsHeapPeak: 0, memories: new Set(),
  });
  const sampleMemory = () => {
    if (performance.memory) bench.jsHeapPeak = Math.max(bench.jsHeapPeak, performance.memory.usedJSHeapSize);
  };
  bench.reset = () => {
    for (const key of ["inputs", "renders", "frames", "longtasks"]) bench[key] = [];
    bench.marks = {};
    bench.jsHeapPeak = 0;
    sampleMemory();
  };
  bench.take = () => {
    sampleMemory();
    return {marks: bench.marks, inputs: bench.inputs, renders: bench.renders, frames: bench.frames,
            longtasks: bench.longtasks, jsHeapPeak: bench.jsHeapPeak,
            wasmBytes: [...bench.memories].reduce((sum, memory) => sum + memory.buffer.byteLength, 0)};
  };

  // Renders and readiness: attribute changes anywhere in the document.
  new MutationObserver((records) => {
    const at = now();
    for (const record of records) {
      if (record.attributeName === "data-render-count") bench.renders.push(at);
      else if (record.attributeName === "data-loaded") bench.marks.loaded = at;
      else if (record.target.dataset.runtime === "ready" && !("ready" in bench.marks)) bench.marks.ready = at;
    }
  }).observe(document, {subtree: true, attributes: true,
                        attributeFilter: ["data-render-count", "data-runtime", "data-loaded"]});

  // Input handling: from the capture phase at window (before any page handler) to the bubble phase
  // at window (after them). A pointer move is a pointermove then a mousemove dispatch: dicomview
  // handles the first, dwv the second, so the interval spans both.
  const begin = () => bench.inputs.push([now(), null]);
  const end = () => {
    const last = bench.inputs[bench.inputs.length - 1];
    if (last && last[1] === null) last[1] = now();
  };
  addEventListener("pointermove", begin, {capture: true});
  addEventListener("mousemove", end);
  addEventListener("wheel", begin, {capture: true, passive: true});
  addEventListener("wheel", end, {passive: true});
  addEventListener("change", () => { bench.marks.change = now(); }, {capture: true});

  // Frame starts: this callback is queued before any the page queues during a frame, so it runs first.
  const frame = (timestamp) => {
    bench.frames.push(now());
    if (bench.frames.length > 20000) bench.frames.splice(0, 10000);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) bench.longtasks.push([entry.startTime, entry.duration]);
    }).observe({type: "longtask", buffered: true});
  } catch (error) { /* no long task timing: the bench reports none */ }

  setInterval(sampleMemory, 25);

  // Emscripten (Pyodide, the codecs) creates its heap with `new WebAssembly.Memory` in JS: keep each.
  WebAssembly.Memory = new Proxy(WebAssembly.Memory, {
    construct(target, args, newTarget) {
      const memory = Reflect.construct(target, args, newTarget);
      bench.memories.add(memory);
      return memory;
    },
  });
})();
