#!/usr/bin/env python3
"""What a worker design would leave on the main thread (not a test): the round trip of an RGBA frame
transferred to a worker and back, and putImageData of it, in headless Chromium, medians of 40.

    .venv/bin/python tests/bench/handoff.py

Numbers for the plan in tests/bench/README.md (Python decoding and rendering in a PyScript worker).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from playwright.sync_api import sync_playwright

from chromium import CHROMIUM, CHROMIUM_ARGS

HANDOFF = """async (size) => {
  const echo = new Worker(URL.createObjectURL(new Blob(
      ['onmessage = (event) => postMessage(event.data, [event.data]);'], {type: 'text/javascript'})));
  const canvas = document.body.appendChild(document.createElement('canvas'));
  canvas.width = canvas.height = size;
  const context = canvas.getContext('2d');
  const trips = [], puts = [];
  for (let i = 0; i < 40; i++) {
    let buffer = new ArrayBuffer(size * size * 4);
    new Uint8Array(buffer).fill(i);
    const sent = performance.now();
    buffer = await new Promise((done) => {
      echo.onmessage = (event) => done(event.data);
      echo.postMessage(buffer, [buffer]);
    });
    const back = performance.now();
    context.putImageData(new ImageData(new Uint8ClampedArray(buffer), size, size), 0, 0);
    trips.push(back - sent);
    puts.push(performance.now() - back);
  }
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return {size, transfer_round_trip_ms: median(trips), put_image_data_ms: median(puts)};
}"""

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page()
    page.goto("about:blank")
    for side in (512, 1760):
        print(json.dumps(page.evaluate(HANDOFF, side)))
    browser.close()
