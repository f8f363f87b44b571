// Shared plumbing for conformance scripts: argument parsing, loading oracle packages from the
// .oracle folder scripts/setup fills, running hearth, and the exit code meaning "skipped" (77).
import {spawnSync} from "node:child_process";
import {createRequire} from "node:module";
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";

export const SKIP = 77;

export function parseArgs(argv = process.argv.slice(2)) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith("--")) continue;
    const key = argv[i].slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) args[key] = true;
    else { args[key] = next; i++; }
  }
  for (const k of ["hearth", "oracle", "work"])
    if (!args[k]) { console.error(`missing --${k}`); process.exit(2); }
  fs.mkdirSync(args.work, {recursive: true});
  return args;
}

// Imports an npm package installed in <oracle>/node_modules, or exits 77 saying why.
export async function importOracle(oracleDir, name) {
  const req = createRequire(path.resolve(oracleDir, "package.json"));
  let resolved;
  try {
    resolved = req.resolve(name);
  } catch {
    console.log(`SKIP: oracle package ${name} is not installed in ${oracleDir} (run scripts/setup)`);
    process.exit(SKIP);
  }
  return import(pathToFileURL(resolved).href);
}

export function hearth(bin, args, {input, allowFail = false} = {}) {
  const r = spawnSync(bin, args, {input, maxBuffer: 1 << 30, encoding: "utf8"});
  if (r.status !== 0 && !allowFail)
    throw new Error(`hearth ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r;
}

// Deterministic PRNG (mulberry32) so every run uses the same token sequences.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// log-softmax of a dense Float64Array, in double.
export function logSoftmax(logits) {
  let mx = -Infinity;
  for (const v of logits) if (v > mx) mx = v;
  let s = 0;
  for (const v of logits) s += Math.exp(v - mx);
  const lse = mx + Math.log(s);
  return logits.map((v) => v - lse);
}

export function table(rows, headers) {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => "| " + r.map((c, i) => String(c).padEnd(w[i])).join(" | ") + " |";
  return [line(headers), "|" + w.map((x) => "-".repeat(x + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}
