// Forward-pass conformance of the dense architectures against llama.cpp (node-llama-cpp):
// llama, qwen2 and qwen3 synthetic models in every weight type, 160 positions each.
// Method and bounds: lib/forward.mjs.
import {parseArgs} from "./lib/common.mjs";
import {runForwardCases} from "./lib/forward.mjs";

process.exit(await runForwardCases(parseArgs(), {
  archs: ["llama", "qwen2", "qwen3"],
  types: ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "iq4_xs", "mxfp4"],
  nTokens: 160,
}));
