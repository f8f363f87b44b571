// Times llama.cpp (through node-llama-cpp, the pinned CPU build in .oracle/) on a GGUF file:
// prefill of P tokens (one batch of up to 512) and greedy generation of G tokens.
// usage: node bench/llama_bench.mjs --oracle .oracle --model FILE --vocab N [--threads 2] [-p 512] [-n 64]
// prints one JSON object: {"pp_tok_s": .., "tg_tok_s": .., "threads": ..}
import {createRequire} from "node:module";
import path from "node:path";
import {pathToFileURL} from "node:url";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^-+/, "")] = process.argv[i + 1];
const oracle = path.resolve(args.oracle ?? ".oracle");
const req = createRequire(path.join(oracle, "package.json"));
const nlc = await import(pathToFileURL(req.resolve("node-llama-cpp")).href);
const P = Number(args.p ?? 512), G = Number(args.n ?? 64), threads = Number(args.threads ?? 2);
const llama = await nlc.getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath: args.model});
const ctx = await model.createContext({contextSize: P + G + 8, batchSize: Math.min(512, P + G + 8),
                                       threads, flashAttention: false});
const seq = ctx.getSequence();
// The same prompt ids `hearth bench` uses: (1009 + 7919 i) mod n_vocab.
const prompt = Array.from({length: P}, (_, i) => (1009 + 7919 * i) % Number(args.vocab));
let t0 = performance.now();
await seq.controlledEvaluate(prompt.slice(0, -1));
const pp = (performance.now() - t0) / 1000;
let n = 0;
t0 = performance.now();
for await (const tok of seq.evaluate([prompt[P - 1]], {temperature: 0})) {
  if (++n >= G) break;
}
const tg = (performance.now() - t0) / 1000;
console.log(JSON.stringify({pp_tok_s: (P - 1) / pp, tg_tok_s: n / tg, threads}));
await ctx.dispose();
await model.dispose();
