// Conformance: `hearth chat` in a real pseudo-terminal (tmux on a private socket), on a synthetic
// qwen3 with the real Qwen3 vocabulary and chat template. Greedy answers must equal `hearth run`
// on the conversation rendered by `hearth template` (so the template, the reuse of the cached
// conversation and the streaming to the terminal are all right); multi-line input (trailing
// backslash, """ blocks), /reset, Ctrl-C stopping an answer but not the program, Ctrl-C at the
// prompt, tokens/s after each answer, /exit and Ctrl-D.
//
//   node chat_tty.test.mjs --hearth build/hearth --oracle .oracle --work build/conformance
//
// Exit 77 when tmux or the Qwen3 tokenizer is missing.
import {spawnSync} from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import {parseArgs, SKIP} from "./lib/common.mjs";
import {hearthAsync as hearth, qwen3Tokenizer, sleep, synthModel} from "./server/harness.mjs";

const args = parseArgs();
if (spawnSync("tmux", ["-V"]).status !== 0) {
  console.log("SKIP: tmux is not installed (scripts/setup installs it)");
  process.exit(SKIP);
}
if (!fs.existsSync(qwen3Tokenizer(args.oracle))) {
  console.log(`SKIP: ${qwen3Tokenizer(args.oracle)} is missing (run scripts/setup)`);
  process.exit(SKIP);
}
const work = path.join(args.work, "chat_tty");
fs.mkdirSync(work, {recursive: true});
const bin = path.resolve(args.hearth);
const model = synthModel(bin, args.oracle, path.join(args.work, "server"));
const socket = `hearth-chat-test-${process.pid}`;
const t0 = Date.now();

function tmux(...a) {
  const r = spawnSync("tmux", ["-L", socket, ...a], {encoding: "utf8"});
  if (r.status !== 0) throw new Error(`tmux ${a.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
const screen = (s) => tmux("capture-pane", "-p", "-J", "-S", "-5000", "-t", s);
async function waitFor(s, pred, what, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const text = screen(s);
    if (pred(text)) return text;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
    await sleep(100);
  }
}
const count = (text, needle) => text.split(needle).length - 1;
const typeLine = (s, text) => {
  if (text.length) tmux("send-keys", "-t", s, "-l", text);
  tmux("send-keys", "-t", s, "Enter");
};
function startChat(name, extra) {
  const cmd = [bin, "chat", "-m", model, "-t", "1", "--temp", "0", ...extra].map((x) => `'${x}'`).join(" ");
  tmux("new-session", "-d", "-s", name, "-x", "220", "-y", "50", `${cmd}; echo HEARTH-EXIT:$?; sleep 120`);
}
async function expectedAnswer(messages, n, extra = []) {
  const f = path.join(work, "messages.json");
  fs.writeFileSync(f, JSON.stringify(messages));
  const prompt = (await hearth(bin, ["template", "-m", model, "--messages", f])).stdout;
  const r = await hearth(bin, ["run", "-m", model, "-p", prompt, "-n", String(n), "--temp", "0", "-t", "1", ...extra]);
  return r.stdout.slice(0, -1);
}
function eq(a, b, msg) {
  if (JSON.stringify(a) !== JSON.stringify(b))
    throw new Error(`${msg}\n  got:      ${JSON.stringify(a)}\n  expected: ${JSON.stringify(b)}`);
}

let failed = false;
try {
  // ---- session 1: answers, multi-line input, /reset, /exit ----
  const transcript = path.join(work, "transcript.json");
  fs.rmSync(transcript, {force: true});
  startChat("a", ["-n", "24", "--transcript", transcript]);
  await waitFor("a", (t) => t.includes("Ctrl-C stops an answer") && t.trimEnd().endsWith(">"), "the first prompt");
  const turns = [
    {keys: ["Hello there, who are you?"], content: "Hello there, who are you?"},
    {keys: ["first line\\", "second line"], content: "first line\nsecond line"},
    {keys: ['"""', "alpha", "  beta", '"""'], content: "alpha\n  beta"},
  ];
  const history = [];
  for (let i = 0; i < turns.length; i++) {
    for (const k of turns[i].keys) typeLine("a", k);
    const text = await waitFor("a", (t) => count(t, "tok/s") === i + 1 && t.trimEnd().endsWith(">"), `answer ${i + 1}`);
    const msgs = JSON.parse(fs.readFileSync(transcript, "utf8"));
    eq(msgs.length, 2 * (i + 1), `transcript length after turn ${i + 1}`);
    eq(msgs[2 * i], {role: "user", content: turns[i].content}, `user message ${i + 1}`);
    history.push(msgs[2 * i]);
    const expected = await expectedAnswer(history, 24);
    eq(msgs[2 * i + 1].content, expected, `answer ${i + 1} equals hearth run on the rendered conversation`);
    history.push(msgs[2 * i + 1]);
    if (i > 0) {
      const m = [...text.matchAll(/\((\d+) reused\)/g)];
      const reused = Number(m[m.length - 1][1]);
      if (!(reused > 10)) throw new Error(`turn ${i + 1} reused only ${reused} cached tokens`);
    }
    console.log(`ok   turn ${i + 1}: ${JSON.stringify(turns[i].content)} -> answer equals hearth run`);
  }
  typeLine("a", "/reset");
  await waitFor("a", (t) => t.includes("(conversation cleared)"), "/reset");
  typeLine("a", "A new topic");
  await waitFor("a", (t) => count(t, "tok/s") === 4 && t.trimEnd().endsWith(">"), "the answer after /reset");
  const after = JSON.parse(fs.readFileSync(transcript, "utf8"));
  eq(after.length, 2, "/reset starts an empty conversation");
  eq(after[1].content, await expectedAnswer([{role: "user", content: "A new topic"}], 24), "answer after /reset");
  console.log("ok   /reset");
  typeLine("a", "/exit");
  await waitFor("a", (t) => t.includes("HEARTH-EXIT:0"), "exit code 0 after /exit");
  console.log("ok   /exit");

  // ---- session 2: Ctrl-C stops a long answer, not the program; Ctrl-C at the prompt; Ctrl-D ----
  startChat("b", ["--ignore-eos", "-c", "4096"]);
  await waitFor("b", (t) => t.includes("Ctrl-C stops an answer") && t.trimEnd().endsWith(">"), "the first prompt");
  typeLine("b", "Tell me a very long story.");
  // Wait until the answer is streaming (text after the question), then interrupt it.
  await waitFor("b", (t) => {
    const i = t.lastIndexOf("Tell me a very long story.");
    return i >= 0 && t.slice(i + 27).replace(/\s/g, "").length > 20;
  }, "the answer to start streaming");
  tmux("send-keys", "-t", "b", "C-c");
  const stopped = await waitFor("b", (t) => t.includes("[interrupted]") && t.trimEnd().endsWith(">"), "[interrupted] and a new prompt", 30000);
  const m = stopped.match(/\[(\d+) tokens in [\d.]+ s, ([\d.]+) tok\/s; prompt (\d+) tokens/);
  if (!m) throw new Error(`no stats line:\n${stopped}`);
  const n = Number(m[1]);
  if (!(n > 0 && n < 4096 - Number(m[3]))) throw new Error(`the answer was not cut short (${n} tokens)`);
  console.log(`ok   Ctrl-C stopped the answer after ${n} tokens (${m[2]} tok/s); the program goes on`);
  tmux("send-keys", "-t", "b", "-l", "half typed");
  tmux("send-keys", "-t", "b", "C-c");
  await waitFor("b", (t) => t.includes("input was discarded") && t.trimEnd().endsWith(">"), "Ctrl-C at the prompt");
  typeLine("b", "/help");
  await waitFor("b", (t) => t.includes("//text sends /text"), "/help");
  tmux("send-keys", "-t", "b", "C-d");
  await waitFor("b", (t) => t.includes("HEARTH-EXIT:0"), "exit code 0 after Ctrl-D");
  console.log("ok   Ctrl-C at the prompt discards the input; /help; Ctrl-D exits with 0");
} catch (e) {
  failed = true;
  console.log(`FAIL ${e.stack || e}`);
} finally {
  spawnSync("tmux", ["-L", socket, "kill-server"]);
}
console.log(`${failed ? "FAILED" : "passed"} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
