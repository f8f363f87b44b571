// Forward-pass conformance of the mixture-of-experts architectures against llama.cpp
// (node-llama-cpp): synthetic qwen3moe and gpt-oss models, 256 positions each (longer than
// gpt-oss's 128-token sliding window, so the window and the attention sinks are exercised), in
// f32, f16 and the types these models ship in: MXFP4 experts with Q8_0 elsewhere (mxfp4_moe)
// for gpt-oss; Q8_0, Q4_K, Q6_K and the Q4_K_M mix for qwen3moe. Plus NVFP4 with per-tensor
// (per-expert) `.scale` tensors, which llama.cpp applies to the matmul outputs.
// Method and bounds: lib/forward.mjs.
import {parseArgs} from "./lib/common.mjs";
import {runForwardCases} from "./lib/forward.mjs";

const args = parseArgs();
const nTokens = 256;
const want = (arch) => !args.archs || args.archs.split(",").includes(arch);
let rc = 0;
if (want("qwen3moe"))
  rc |= await runForwardCases({...args, archs: "qwen3moe"}, {
    archs: ["qwen3moe"], types: ["f32", "f16", "q8_0", "q4_k", "q6_k", "q4_k_m", "nvfp4"], nTokens});
if (want("gpt-oss"))
  rc |= await runForwardCases({...args, archs: "gpt-oss"}, {
    archs: ["gpt-oss"], types: ["f32", "f16", "mxfp4_moe", "q8_0"], nTokens});
if (want("qwen3"))
  rc |= await runForwardCases({...args, archs: "qwen3"}, {archs: ["qwen3"], types: ["nvfp4"], nTokens});
process.exit(rc);
