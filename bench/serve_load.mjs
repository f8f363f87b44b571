// End-to-end serving benchmark: aggregate generation tokens/s with 1, 4 and 8 parallel streams,
// time to first token (short and long prompt), and a bounded load test (many requests from
// many clients: errors, latency, RSS before/after). Starts `hearth serve` itself on a free
// loopback port and talks HTTP (fetch + SSE) to it. Prints markdown tables.
//
//   node bench/serve_load.mjs --hearth build/hearth --model qwen3-0.6b-q8_0.gguf [--threads 1]
//        [--streams 1,4,8] [--tokens 64] [--load 200] [--clients 16] [--load-tokens 8]
//
// Without --model, --oracle .oracle builds a synthetic qwen3-0.6b (q8_0, Qwen3 vocabulary) in
// --work (default /tmp/hearth-bench).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";

import {rssKiB, startServer, synthModel} from "../tests/conformance/server/harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const bin = opt("hearth", path.join(here, "../build/hearth"));
const threads = opt("threads", "1");
const streams = opt("streams", "1,4,8").split(",").map(Number);
const genTokens = Number(opt("tokens", "64"));
const loadRequests = Number(opt("load", "200"));
const loadClients = Number(opt("clients", "16"));
const loadTokens = Number(opt("load-tokens", "8"));
const ctx = opt("ctx", "1024");
const batch = opt("batch", "128");
let model = opt("model", null);
if (!model) {
  const oracle = opt("oracle", path.join(here, "../.oracle"));
  const work = opt("work", path.join(os.tmpdir(), "hearth-bench"));
  console.error("building a synthetic qwen3-0.6b (q8_0) ...");
  model = synthModel(bin, oracle, work, "qwen3-0.6b", "q8_0");
}

const PROMPTS = [
  "The history of the printing press begins",
  "Write a function that reverses a linked list",
  "In the middle of the night, the old lighthouse keeper",
  "Explain the difference between TCP and UDP",
  "A recipe for sourdough bread starts with",
  "The three laws of thermodynamics are",
  "Once upon a time in a small village",
  "Translate into French: the weather is nice today",
];

// One streaming completion; returns {ttft, end, tokens} in ms since t0 and usage tokens.
async function streamOne(base, body, t0) {
  const res = await fetch(`${base}/v1/completions`, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({...body, stream: true, stream_options: {include_usage: true}}),
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const dec = new TextDecoder();
  let buf = "", ttft = null, tokens = 0, done = false;
  for await (const part of res.body) {
    buf += dec.decode(part, {stream: true});
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!ev.startsWith("data: ")) continue;
      const data = ev.slice(6);
      if (data === "[DONE]") {
        done = true;
        continue;
      }
      const j = JSON.parse(data);
      if (j.error) throw new Error(j.error.message);
      if (ttft === null && j.choices?.[0]?.text !== undefined && j.choices[0].text !== "") ttft = performance.now() - t0;
      if (j.usage) tokens = j.usage.completion_tokens;
    }
  }
  if (!done) throw new Error("stream ended without [DONE]");
  return {ttft, end: performance.now() - t0, tokens};
}

async function oneShot(base, body) {
  const res = await fetch(`${base}/v1/${body.messages ? "chat/completions" : "completions"}`, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

const rows = [];
let ttftRows = [];
for (const n of streams) {
  const srv = await startServer(bin, ["-m", model, "--parallel", String(Math.max(n, 1)), "--ctx", ctx,
    "--batch", batch, "-t", threads, "--no-log"]);
  try {
    await oneShot(srv.baseURL, {prompt: "warm up", max_tokens: 2});
    const t0 = performance.now();
    const res = await Promise.all(Array.from({length: n}, (_, i) =>
      streamOne(srv.baseURL, {prompt: PROMPTS[i % PROMPTS.length], max_tokens: genTokens, temperature: 0, ignore_eos: true}, t0)));
    const wall = Math.max(...res.map((r) => r.end)) / 1000;
    const total = res.reduce((s, r) => s + r.tokens, 0);
    // Decode rate: tokens after each stream's first, over the time from the last first token to
    // the end (all streams decoding together).
    const firstAll = Math.max(...res.map((r) => r.ttft));
    const decodeRate = (total - n) / ((Math.max(...res.map((r) => r.end)) - firstAll) / 1000);
    const ttfts = res.map((r) => r.ttft).sort((a, b) => a - b);
    rows.push([n, total, wall.toFixed(2), (total / wall).toFixed(2), decodeRate.toFixed(2),
      (total / wall / n).toFixed(2), ttfts[0].toFixed(0), ttfts[ttfts.length - 1].toFixed(0)]);
    console.error(`streams=${n}: ${total} tokens in ${wall.toFixed(2)} s`);
    if (n === streams[0]) {
      // Time to first token alone: short prompt, and a ~500-token prompt.
      const long = Array.from({length: 60}, (_, i) => PROMPTS[i % PROMPTS.length]).join(". ");
      for (const [label, prompt] of [["short (~8 tokens)", PROMPTS[0]], ["long", long]]) {
        const t1 = performance.now();
        const r = await streamOne(srv.baseURL, {prompt, max_tokens: 1, temperature: 0}, t1);
        const u = await oneShot(srv.baseURL, {prompt, max_tokens: 1, temperature: 0});
        ttftRows.push([label, u.usage.prompt_tokens, r.ttft.toFixed(0), u.usage.prompt_tokens_details.cached_tokens]);
      }
    }
  } finally {
    await srv.stop();
  }
}

console.log(`\nmodel ${path.basename(model)}, threads ${threads}, ${genTokens} tokens per stream, ` +
  `batch budget ${batch}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), load average ${os.loadavg()[0].toFixed(1)}\n`);
console.log("| streams | tokens | wall s | aggregate tok/s | decode tok/s | per-stream tok/s | TTFT min ms | TTFT max ms |");
console.log("|---|---|---|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
console.log("\n| TTFT (1 stream, idle server) | prompt tokens | TTFT ms | cached tokens when repeated |");
console.log("|---|---|---|---|");
for (const r of ttftRows) console.log(`| ${r.join(" | ")} |`);

if (loadRequests > 0) {
  const slots = Math.max(...streams);
  const srv = await startServer(bin, ["-m", model, "--parallel", String(slots), "--ctx", ctx, "--batch", batch,
    "-t", threads, "--no-log"]);
  try {
    const rssStart = rssKiB(srv.proc.pid);
    // Warm-up (pages in the memory-mapped weights, creates per-thread buffers), then the baseline.
    await Promise.all(Array.from({length: loadClients}, (_, i) =>
      oneShot(srv.baseURL, {prompt: `${PROMPTS[i % PROMPTS.length]} (warm-up)`, max_tokens: 2})));
    const rss0 = rssKiB(srv.proc.pid);
    let next = 0, errors = 0, ok = 0;
    const lat = [];
    const t0 = performance.now();
    await Promise.all(Array.from({length: loadClients}, async () => {
      while (next < loadRequests) {
        const i = next++;
        const t = performance.now();
        try {
          const prompt = `${PROMPTS[i % PROMPTS.length]} (${i})`;
          if (i % 2) await oneShot(srv.baseURL, {messages: [{role: "user", content: prompt}], max_tokens: loadTokens, seed: i});
          else await streamOne(srv.baseURL, {prompt, max_tokens: loadTokens, seed: i}, t);
          ok++;
        } catch (e) {
          errors++;
          console.error(`request ${i}: ${e.message}`);
        }
        lat.push(performance.now() - t);
      }
    }));
    const secs = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const rss1 = rssKiB(srv.proc.pid);
    lat.sort((a, b) => a - b);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(0);
    console.log(`\n| load: requests | clients | slots | ok | errors | wall s | req/s | p50 ms | p99 ms | RSS at start MiB | RSS after warm-up MiB | RSS after load MiB |`);
    console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
    console.log(`| ${loadRequests} | ${loadClients} | ${slots} | ${ok} | ${errors} | ${secs.toFixed(1)} | ${(ok / secs).toFixed(2)} | ` +
      `${q(0.5)} | ${q(0.99)} | ${(rssStart / 1024).toFixed(1)} | ${(rss0 / 1024).toFixed(1)} | ${(rss1 / 1024).toFixed(1)} |`);
  } finally {
    await srv.stop();
  }
}
