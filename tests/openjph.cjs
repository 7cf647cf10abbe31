// HTJ2K with OpenJPH's WebAssembly build (npm @cornerstonejs/codec-openjph, vendored into
// site/vendor/codecs/openjph/ by `serve.py --vendor-only`): the very module the page decodes with, run
// under Node.js. The tests call it from CPython (tests/synthetic.py) to make HTJ2K DICOM files out of
// real pixel data, and to decode lossy frames the way the page must.
//
//   node openjph.cjs encode PARAMS_JSON SAMPLES CODESTREAMS
//   node openjph.cjs decode CODESTREAMS SAMPLES
//
// PARAMS_JSON: {"frames", "width", "height", "componentCount", "bitsPerSample", "isSigned",
//               "isUsingColorTransform", "lossless", "quantizationStep", "progressionOrder",
//               "decompositions", "tlmMarker"}
// SAMPLES: frames one after the other, colour-by-pixel, little endian, one byte per sample up to
//          8 bits, two above (OpenJPH's own layout).
// CODESTREAMS: each frame's codestream preceded by its length (uint32, little endian).
"use strict";

const fs = require("fs");
const path = require("path");

const VENDORED = path.join(__dirname, "..", "site", "vendor", "codecs", "openjph", "openjphjs.js");

function encode(codec, p, samples) {
  const frameBytes = p.width * p.height * p.componentCount * (p.bitsPerSample <= 8 ? 1 : 2);
  if (samples.length !== p.frames * frameBytes) {
    throw new Error(`expected ${p.frames * frameBytes} bytes of samples, got ${samples.length}`);
  }
  const chunks = [];
  for (let frame = 0; frame < p.frames; frame++) {
    const encoder = new codec.HTJ2KEncoder();
    try {
      const input = encoder.getDecodedBuffer({
        width: p.width, height: p.height, bitsPerSample: p.bitsPerSample, componentCount: p.componentCount,
        isSigned: p.isSigned, isUsingColorTransform: p.isUsingColorTransform,
      });
      if (input.length !== frameBytes) {
        throw new Error(`OpenJPH wants ${input.length} bytes per frame, not ${frameBytes}`);
      }
      input.set(samples.subarray(frame * frameBytes, (frame + 1) * frameBytes));
      encoder.setQuality(p.lossless, p.quantizationStep);
      encoder.setProgressionOrder(p.progressionOrder);
      encoder.setDecompositions(p.decompositions);
      encoder.setTLMMarker(p.tlmMarker);
      encoder.encode();
      const encoded = Buffer.from(encoder.getEncodedBuffer()); // a copy: the view dies with the encoder
      const length = Buffer.alloc(4);
      length.writeUInt32LE(encoded.length);
      chunks.push(length, encoded);
    } finally {
      encoder.delete();
    }
  }
  return Buffer.concat(chunks);
}

function decode(codec, codestreams) {
  const chunks = [];
  for (let at = 0; at < codestreams.length;) {
    const length = codestreams.readUInt32LE(at);
    const decoder = new codec.HTJ2KDecoder();
    try {
      decoder.getEncodedBuffer(length).set(codestreams.subarray(at + 4, at + 4 + length));
      decoder.decode();
      chunks.push(Buffer.from(decoder.getDecodedBuffer()));
    } finally {
      decoder.delete();
    }
    at += 4 + length;
  }
  return Buffer.concat(chunks);
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  const codec = await require(VENDORED)({});
  if (command === "encode") {
    const [params, samples, out] = args;
    fs.writeFileSync(out, encode(codec, JSON.parse(params), fs.readFileSync(samples)));
  } else if (command === "decode") {
    const [codestreams, out] = args;
    fs.writeFileSync(out, decode(codec, fs.readFileSync(codestreams)));
  } else {
    throw new Error("usage: node openjph.cjs encode PARAMS_JSON SAMPLES CODESTREAMS | decode CODESTREAMS SAMPLES");
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
