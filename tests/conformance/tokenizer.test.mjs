#!/usr/bin/env node
// Tokenizer conformance: `hearth tokenize` must give llama.cpp's token ids (node-llama-cpp,
// vocab-only load of the same GGUF) for the real vocabularies of qwen3, llama3, deepseek_v3,
// gpt-oss and gemma3 (from @lenml/tokenizer-*) and for Hearth's synthetic vocabulary, on every
// line of tokenizer_corpus.txt, with and without special-token parsing; detokenized text must
// match llama.cpp's too. @lenml/tokenizers (transformers.js) is reported alongside: lines where
// it differs from llama.cpp are listed, not failed (llama.cpp is the reference).
//
// Usage: node tokenizer.test.mjs --hearth <hearth binary> --oracle <.oracle dir> --work <dir>
// Exit: 0 all match, 1 a mismatch, 77 oracle missing (skipped).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function arg(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}
const hearth = arg("--hearth");
const oracle = arg("--oracle");
const work = arg("--work");
if (!hearth || !oracle || !work) {
  console.error("usage: tokenizer.test.mjs --hearth BIN --oracle DIR --work DIR");
  process.exit(2);
}
const nm = path.join(oracle, "node_modules");
const nlcIndex = path.join(nm, "node-llama-cpp", "dist", "index.js");
const lenmlIndex = path.join(nm, "@lenml", "tokenizers", "dist", "main.mjs");
if (!existsSync(nlcIndex)) {
  console.log(`SKIP: node-llama-cpp not installed under ${nm} (run scripts/setup)`);
  process.exit(77);
}
if (!existsSync(hearth)) {
  console.error(`hearth binary not found: ${hearth}`);
  process.exit(1);
}
const dir = path.join(work, "tokenizer");
mkdirSync(dir, { recursive: true });

// ---- corpus ------------------------------------------------------------------------------------

// Each non-comment line is one text; \n \r \t \\ \xHH \u{H..} escapes (see the file's header).
function parseCorpusLine(line) {
  const out = [];
  for (let i = 0; i < line.length; ) {
    const c = line[i];
    if (c !== "\\") {
      const cp = line.codePointAt(i);
      out.push(...Buffer.from(String.fromCodePoint(cp), "utf8"));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const n = line[i + 1];
    if (n === "n") { out.push(10); i += 2; }
    else if (n === "r") { out.push(13); i += 2; }
    else if (n === "t") { out.push(9); i += 2; }
    else if (n === "\\") { out.push(92); i += 2; }
    else if (n === "x") { out.push(parseInt(line.slice(i + 2, i + 4), 16)); i += 4; }
    else if (n === "u" && line[i + 2] === "{") {
      const end = line.indexOf("}", i);
      const cp = parseInt(line.slice(i + 3, end), 16);
      out.push(...Buffer.from(String.fromCodePoint(cp), "utf8"));
      i = end + 1;
    } else {
      out.push(92); i += 1;  // a lone backslash is literal
    }
  }
  return Buffer.from(out);
}

const corpusText = readFileSync(path.join(here, "tokenizer_corpus.txt"), "utf8");
const corpus = corpusText.split("\n").filter((l) => l.length > 0 && !l.startsWith("#")).map(parseCorpusLine);
// One long text as well: the whole corpus joined (special-token splitting and merging at scale).
corpus.push(Buffer.concat(corpus.flatMap((b) => [b, Buffer.from("\n")])));

// llama.cpp's lenient UTF-8 decoding (unicode_cpts_from_utf8): what its BPE pre-tokenizer sees.
// Returns null when the result has code points a JS string cannot carry.
function llamaDecode(buf) {
  const cps = [];
  let i = 0;
  const cont = (k) => k < buf.length && (buf[k] & 0xc0) === 0x80;
  while (i < buf.length) {
    const b = buf[i];
    if (b < 0x80) { cps.push(b); i += 1; }
    else if ((b & 0xe0) === 0xc0 && cont(i + 1)) { cps.push(((b & 0x1f) << 6) | (buf[i + 1] & 0x3f)); i += 2; }
    else if ((b & 0xf0) === 0xe0 && cont(i + 1) && cont(i + 2)) {
      cps.push(((b & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6) | (buf[i + 2] & 0x3f)); i += 3;
    } else if ((b & 0xf8) === 0xf0 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      cps.push(((b & 0x07) << 18) | ((buf[i + 1] & 0x3f) << 12) | ((buf[i + 2] & 0x3f) << 6) | (buf[i + 3] & 0x3f)); i += 4;
    } else { cps.push(0xfffd); i += 1; }
  }
  if (cps.some((c) => (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)) return null;
  return String.fromCodePoint(...cps);
}
const isValidUtf8 = (buf) => Buffer.from(buf.toString("utf8"), "utf8").equals(buf);

// ---- raw-byte oracle -----------------------------------------------------------------------------
// node-llama-cpp only takes JS strings, so text that is not valid UTF-8 (which llama.cpp's SPM
// merger sees byte by byte) goes to the same libllama through Python ctypes instead:
// llama_model_load_from_file(vocab_only) + llama_tokenize on the raw bytes.
const ctypesHelper = String.raw`
import ctypes, json, sys
d = sys.argv[1]
ctypes.CDLL(d + "/libggml-base.so", mode=ctypes.RTLD_GLOBAL)
ctypes.CDLL(d + "/libggml.v0.5.0.so", mode=ctypes.RTLD_GLOBAL)
L = ctypes.CDLL(d + "/libllama.v0.5.0.so")
class P(ctypes.Structure):  # struct llama_model_params (llama.h of the bundled release)
    _fields_ = [("devices", ctypes.c_void_p), ("tbo", ctypes.c_void_p), ("n_gpu_layers", ctypes.c_int32),
                ("split_mode", ctypes.c_int32), ("load_mode", ctypes.c_int32), ("lazy_mode", ctypes.c_int32),
                ("main_gpu", ctypes.c_int32), ("tensor_split", ctypes.c_void_p), ("progress", ctypes.c_void_p),
                ("progress_data", ctypes.c_void_p), ("kv_overrides", ctypes.c_void_p), ("vocab_only", ctypes.c_bool),
                ("check_tensors", ctypes.c_bool), ("use_extra_bufts", ctypes.c_bool), ("no_host", ctypes.c_bool),
                ("no_alloc", ctypes.c_bool), ("load_mtp", ctypes.c_bool)]
LOG = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
quiet = LOG(lambda a, b, c: None)
L.llama_log_set(quiet, None)
L.llama_backend_init()
L.llama_model_default_params.restype = P
p = L.llama_model_default_params()
p.vocab_only = True
L.llama_model_load_from_file.restype = ctypes.c_void_p
L.llama_model_load_from_file.argtypes = [ctypes.c_char_p, P]
m = L.llama_model_load_from_file(sys.argv[2].encode(), p)
if not m:
    sys.exit("cannot load " + sys.argv[2])
L.llama_model_get_vocab.restype = ctypes.c_void_p
L.llama_model_get_vocab.argtypes = [ctypes.c_void_p]
v = L.llama_model_get_vocab(m)
L.llama_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_int32),
                             ctypes.c_int32, ctypes.c_bool, ctypes.c_bool]
for line in sys.stdin:
    q = json.loads(line)
    b = bytes.fromhex(q["hex"])
    cap = 4 * len(b) + 16
    buf = (ctypes.c_int32 * cap)()
    n = L.llama_tokenize(v, b, len(b), buf, cap, False, q["special"])
    print(json.dumps(list(buf[:n]) if n >= 0 else None), flush=True)
`;
const llamaLibDir = path.join(nm, "@node-llama-cpp", "linux-x64", "bins", "linux-x64");
const helperPath = path.join(dir, "llama_tokenize_ctypes.py");
writeFileSync(helperPath, ctypesHelper);

// Tokenizes raw byte strings with libllama; returns null (with the reason) if unavailable.
function llamaRawTokenize(gguf, queries) {
  if (!existsSync(path.join(llamaLibDir, "libllama.v0.5.0.so"))) return { error: "libllama not found" };
  const input = queries.map((q) => JSON.stringify({ hex: q.buf.toString("hex"), special: q.special })).join("\n") + "\n";
  const r = spawnSync("python3", [helperPath, llamaLibDir, gguf], { input, maxBuffer: 1 << 28 });
  if (r.error || r.status !== 0) return { error: `python3 ctypes helper failed: ${r.error ?? r.stderr?.toString().trim()}` };
  return { ids: r.stdout.toString().trim().split("\n").map((l) => JSON.parse(l)) };
}

// ---- hearth ------------------------------------------------------------------------------------

function runHearth(args, input) {
  const r = spawnSync(hearth, args, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) {
    throw new Error(`hearth ${args.join(" ")} failed (${r.status}): ${r.stderr?.toString()}`);
  }
  return r.stdout.toString();
}

function hearthTokenize(gguf, flags) {
  const input = corpus.map((b) => JSON.stringify({ hex: b.toString("hex") })).join("\n") + "\n";
  const t0 = process.hrtime.bigint();
  const out = runHearth(["tokenize", "-m", gguf, "--jsonl", "--file", "-", ...flags], input);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rows = out.trim().split("\n").map((l) => JSON.parse(l));
  if (rows.length !== corpus.length) throw new Error(`hearth returned ${rows.length} rows for ${corpus.length} lines`);
  return { rows, ms };
}

// ---- models --------------------------------------------------------------------------------------

const models = [
  { name: "qwen3", pkg: "tokenizer-qwen3" },
  { name: "llama3", pkg: "tokenizer-llama3" },
  { name: "deepseek_v3", pkg: "tokenizer-deepseek_v3" },
  { name: "gpt-oss", pkg: "tokenizer-gptoss" },
  { name: "gemma3", pkg: "tokenizer-gemma3" },
  { name: "synthetic", synthetic: 4096 },
];

const { getLlama, LlamaLogLevel } = await import(pathToFileURL(nlcIndex).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.disabled });
const lenml = existsSync(lenmlIndex) ? await import(pathToFileURL(lenmlIndex).href) : null;

const show = (buf) => JSON.stringify(buf.length > 80 ? buf.toString("utf8").slice(0, 80) + "…" : buf.toString("utf8"));
const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

const summary = [];
const failures = [];
const hfDiffs = [];
const rawNotes = [];

for (const m of models) {
  const gguf = path.join(dir, `${m.name}.gguf`);
  let hfTok = null;
  if (m.synthetic) {
    runHearth(["tokenize", "--write-vocab-gguf", gguf, "--synthetic-vocab", String(m.synthetic)]);
  } else {
    const mdir = path.join(nm, "@lenml", m.pkg, "models");
    if (!existsSync(mdir)) {
      console.log(`SKIP ${m.name}: ${mdir} missing`);
      summary.push({ model: m.name, note: "skipped: tokenizer package missing" });
      continue;
    }
    runHearth(["tokenize", "--write-vocab-gguf", gguf, "--hf-tokenizer", path.join(mdir, "tokenizer.json"),
               "--hf-config", path.join(mdir, "tokenizer_config.json")]);
    if (lenml) {
      hfTok = lenml.TokenizerLoader.fromPreTrained({
        tokenizerJSON: JSON.parse(readFileSync(path.join(mdir, "tokenizer.json"), "utf8")),
        tokenizerConfig: JSON.parse(readFileSync(path.join(mdir, "tokenizer_config.json"), "utf8")),
      });
    }
  }
  const special = hearthTokenize(gguf, ["--no-bos"]);
  const plain = hearthTokenize(gguf, ["--no-bos", "--no-special"]);
  const withBos = runHearth(["tokenize", "-m", gguf, "Hello"]).trim().split(" ").map(Number);

  const model = await llama.loadModel({ modelPath: gguf, vocabOnly: true });
  const isSpm = !m.synthetic && JSON.parse(readFileSync(path.join(nm, "@lenml", m.pkg, "models", "tokenizer.json"), "utf8")).model.byte_fallback === true;
  const st = { model: m.name, lines: corpus.length, checked: 0, ids: 0, idsNoSpecial: 0, detok: 0, hfAgree: 0, hfChecked: 0, raw: 0, skipped: 0, ms: special.ms };
  const raw = [];  // lines only the ctypes oracle can take
  for (let i = 0; i < corpus.length; ++i) {
    const buf = corpus[i];
    const valid = isValidUtf8(buf);
    const text = llamaDecode(buf);
    // SPM hands raw bytes to its merger, which a JS string cannot carry; BPE sees U+FFFD.
    if (text === null || (isSpm && !valid)) { raw.push(i); continue; }
    st.checked++;
    const ref = Array.from(model.tokenize(text, true));
    const refPlain = Array.from(model.tokenize(text, false));
    const got = special.rows[i].ids;
    const gotPlain = plain.rows[i].ids;
    if (eq(got, ref)) st.ids++;
    else failures.push(`${m.name} line ${i + 1} ${show(buf)}: hearth ${JSON.stringify(got)} llama.cpp ${JSON.stringify(ref)}`);
    if (eq(gotPlain, refPlain)) st.idsNoSpecial++;
    else failures.push(`${m.name} line ${i + 1} (no special) ${show(buf)}: hearth ${JSON.stringify(gotPlain)} llama.cpp ${JSON.stringify(refPlain)}`);
    const refText = model.detokenize(ref, true);
    const gotText = Buffer.from(special.rows[i].text_hex, "hex").toString("utf8");
    if (refText === gotText) st.detok++;
    else failures.push(`${m.name} line ${i + 1} detokenize ${show(buf)}: hearth ${JSON.stringify(gotText)} llama.cpp ${JSON.stringify(refText)}`);
    if (hfTok && valid) {
      st.hfChecked++;
      const hf = hfTok.encode(buf.toString("utf8"), { add_special_tokens: false });
      if (eq(hf, ref)) st.hfAgree++;
      else hfDiffs.push(`${m.name} line ${i + 1} ${show(buf)}: transformers.js ${JSON.stringify(hf)} llama.cpp ${JSON.stringify(ref)}`);
    }
  }
  // Raw-byte lines, plus two valid lines to prove the ctypes oracle agrees with node-llama-cpp.
  if (raw.length) {
    const probe = [0, 1];
    const queries = [...probe, ...raw].flatMap((i) => [{ buf: corpus[i], special: true }, { buf: corpus[i], special: false }]);
    const res = llamaRawTokenize(gguf, queries);
    const sane = !res.error && probe.every((i, k) =>
      eq(res.ids[2 * k], Array.from(model.tokenize(corpus[i].toString("utf8"), true))));
    if (!sane) {
      st.skipped += raw.length;
      rawNotes.push(`${m.name}: ${raw.length} raw-byte line(s) not checked: ${res.error ?? "ctypes oracle disagrees with node-llama-cpp"}`);
    } else {
      raw.forEach((i, k) => {
        const ref = res.ids[2 * (probe.length + k)], refPlain = res.ids[2 * (probe.length + k) + 1];
        st.checked++;
        st.raw++;
        if (ref && eq(special.rows[i].ids, ref)) st.ids++;
        else failures.push(`${m.name} line ${i + 1} (raw bytes) ${show(corpus[i])}: hearth ${JSON.stringify(special.rows[i].ids)} llama.cpp ${JSON.stringify(ref)}`);
        if (refPlain && eq(plain.rows[i].ids, refPlain)) st.idsNoSpecial++;
        else failures.push(`${m.name} line ${i + 1} (raw bytes, no special) ${show(corpus[i])}: hearth ${JSON.stringify(plain.rows[i].ids)} llama.cpp ${JSON.stringify(refPlain)}`);
      });
    }
  }
  // BOS: added exactly when the vocabulary asks for it, as llama.cpp's add_special does.
  const bos = model.tokens.bos;
  const wantBos = model.tokens.shouldPrependBosToken;
  const helloIds = Array.from(model.tokenize("Hello", true));
  const expect = wantBos ? [bos, ...helloIds] : helloIds;
  if (!eq(withBos, expect)) failures.push(`${m.name}: default (BOS) tokenization of "Hello": hearth ${JSON.stringify(withBos)} expected ${JSON.stringify(expect)}`);
  st.bos = wantBos ? "yes" : "no";
  await model.dispose();
  summary.push(st);
}

// ---- report ------------------------------------------------------------------------------------

const cols = ["model", "lines", "checked", "raw", "skipped", "ids", "idsNoSpecial", "detok", "hfAgree", "hfChecked", "bos", "ms"];
const rows = summary.map((s) => cols.map((c) => (s[c] === undefined ? (s.note && c === "lines" ? s.note : "") : typeof s[c] === "number" ? String(Math.round(s[c])) : s[c])));
const widths = cols.map((c, k) => Math.max(c.length, ...rows.map((r) => r[k].length)));
const fmt = (r) => r.map((v, k) => v.padEnd(widths[k])).join("  ");
console.log("\nTokenizer conformance (ids / idsNoSpecial: lines equal to llama.cpp out of `checked`; detok: out of");
console.log("checked - raw (llama_detokenize through node-llama-cpp);");
console.log("raw: of those, lines checked with raw bytes through libllama via ctypes; hfAgree: lines where");
console.log("@lenml/tokenizers equals llama.cpp out of hfChecked (valid UTF-8 lines); ms: hearth, whole corpus)\n");
for (const n of rawNotes) console.log("NOTE: " + n);
console.log(fmt(cols));
for (const r of rows) console.log(fmt(r));
if (hfDiffs.length) {
  console.log(`\n${hfDiffs.length} line(s) where transformers.js differs from llama.cpp (informational):`);
  for (const d of hfDiffs.slice(0, 40)) console.log("  " + d);
}
if (failures.length) {
  console.log(`\nFAIL: ${failures.length} mismatch(es) with llama.cpp:`);
  for (const f of failures.slice(0, 60)) console.log("  " + f);
  process.exit(1);
}
console.log("\nPASS: hearth matches llama.cpp on every checked line");
process.exit(0);
