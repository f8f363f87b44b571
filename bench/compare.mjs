// Peer comparison: llama.cpp (node-llama-cpp) and Hearth on the same GGUF files with the same
// threads, runs interleaved (llama.cpp, Hearth, llama.cpp, Hearth, ...), each in a fresh
// process; prints medians, their ratio and the decode roofline fractions as a markdown table.
// usage: bench/compare [--threads 2] [--reps 3] [-p 512] [-n 64] [--hearth build/hearth]
//                      [--oracle .oracle] MODEL.gguf [MODEL.gguf ...]
import {spawnSync} from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const opt = {threads: "2", reps: "3", p: "512", n: "64", hearth: path.join(root, "build/hearth"),
             oracle: path.join(root, ".oracle")};
const models = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith("-")) opt[argv[i].replace(/^-+/, "")] = argv[++i];
  else models.push(argv[i]);
}
if (!models.length) {
  console.error("usage: bench/compare [--threads N] [--reps R] [-p P] [-n N] MODEL.gguf ...");
  process.exit(2);
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
function run(cmd, args) {
  const r = spawnSync(cmd, args, {encoding: "utf8", maxBuffer: 1 << 26});
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().startsWith("{\n") ? r.stdout : r.stdout.trim().split("\n").pop());
}

const rows = [];
for (const model of models) {
  const llama = {pp: [], tg: []}, hearth = {pp: [], tg: [], bw: []};
  let hb;
  const info = run(opt.hearth, ["info", "-m", model, "--json"]);
  for (let r = 0; r < Number(opt.reps); r++) {
    const l = run("node", [path.join(here, "llama_bench.mjs"), "--oracle", opt.oracle, "--model", model,
                           "--vocab", String(info.n_vocab),
                           "--threads", opt.threads, "-p", opt.p, "-n", opt.n]);
    llama.pp.push(l.pp_tok_s);
    llama.tg.push(l.tg_tok_s);
    hb = run(opt.hearth, ["bench", "-m", model, "-t", opt.threads, "-p", opt.p, "-n", opt.n, "-r", "1", "--json"]);
    hearth.pp.push(hb.pp_tok_s);
    hearth.tg.push(hb.tg_tok_s);
    hearth.bw.push(hb.read_bandwidth_bytes_s);  // sampled by hearth bench after its run
  }
  // Read bandwidth: median over the run's samples (it drifts on a shared machine).
  const bytes = hb.bytes_per_token, bw = median(hearth.bw);
  const mb = (fs.statSync(model).size / 1e6).toFixed(0);
  const lp = median(llama.pp), hp = median(hearth.pp), lt = median(llama.tg), ht = median(hearth.tg);
  rows.push([path.basename(model), mb, lp.toFixed(1), hp.toFixed(1), (hp / lp).toFixed(2) + "x",
             lt.toFixed(2), ht.toFixed(2), (ht / lt).toFixed(2) + "x",
             (100 * lt * bytes / bw).toFixed(0) + "%", (100 * ht * bytes / bw).toFixed(0) + "%",
             (bw / 1e9).toFixed(1)]);
}
const headers = ["model", "MB", `pp${opt.p} llama.cpp`, `pp${opt.p} hearth`, "pp ratio",
                 `tg${opt.n} llama.cpp`, `tg${opt.n} hearth`, "tg ratio", "llama.cpp roofline",
                 "hearth roofline", "read GB/s"];
const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (r) => "| " + r.map((c, i) => String(c).padEnd(w[i])).join(" | ") + " |";
console.log(`threads ${opt.threads}, median of ${opt.reps} interleaved runs, tok/s`);
console.log([line(headers), "|" + w.map((x) => "-".repeat(x + 2)).join("|") + "|", ...rows.map(line)].join("\n"));
