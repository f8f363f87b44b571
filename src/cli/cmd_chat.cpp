// `hearth chat`: interactive terminal chat with the model's chat template, streamed answers,
// multi-line input, /reset, /exit, Ctrl-C to stop an answer (not the program) and tokens/s
// after each answer. One sequence (engine::Session); the KV cache of the conversation so far is
// reused each turn (only the new tokens are computed).
//
// Input: a line is sent when Enter is pressed. A line ending in a backslash continues on the
// next line; a line that is exactly """ starts a block (for pasting) that ends at the next """
// line. Commands: /reset, /exit (or /quit, or Ctrl-D), /help; "//text" sends "/text".
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "engine/session.h"
#include "sampling/sampler.h"

namespace hearth::cli {
namespace {

using ojson = nlohmann::ordered_json;

volatile sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

struct ChatOptions {
  std::string model, system, transcript;
  int32_t n_predict = -1;
  int threads = 0;
  int64_t ctx = 0;
  bool ignore_eos = false;
  bool seed_set = false;
  std::vector<std::string> vars;
  sampling::Params sp;
};

// Writes everything, retrying writes interrupted by Ctrl-C.
void out(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += size_t(n);
  }
}
void say(const std::string& s) { out(1, s); }
void note(const std::string& s) { out(2, s); }

// Line input from fd 0 that notices Ctrl-C: read() returns EINTR because SIGINT is installed
// without SA_RESTART (and only this thread receives it).
class LineReader {
 public:
  enum Status { kLine, kEof, kInterrupted };
  Status read_line(std::string& line) {
    line.clear();
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return kLine;
      }
      char tmp[4096];
      const ssize_t n = ::read(0, tmp, sizeof tmp);
      if (n < 0 && errno == EINTR) {
        if (g_interrupted) {
          g_interrupted = 0;
          buf_.clear();
          return kInterrupted;
        }
        continue;
      }
      if (n <= 0) {
        if (buf_.empty()) return kEof;
        line.swap(buf_);
        buf_.clear();
        return kLine;
      }
      buf_.append(tmp, size_t(n));
    }
  }

 private:
  std::string buf_;
};

ojson parse_vars(const std::vector<std::string>& vars) {
  ojson extra = ojson::object();
  for (const std::string& v : vars) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) fail("--var ", v, ": expected KEY=JSON");
    try {
      extra[v.substr(0, eq)] = ojson::parse(v.substr(eq + 1));
    } catch (const nlohmann::json::exception&) {
      fail("--var ", v, ": the value is not valid JSON (strings need quotes: KEY='\"text\"')");
    }
  }
  return extra;
}

void chat(ChatOptions o) {
  std::string path = o.model;
  if (path.empty()) {
    path = default_model_path(true);
    note("hearth chat: no -m given, using the built-in demo model. Its weights are RANDOM: answers are noise.\n");
  }
  LoadedModel m = load_model(path);
  const model::HParams& hp = m.model->hparams();
  const tokenizer::VocabSpec& spec = m.tok->spec();
  std::string source;
  if (spec.chat_template) {
    source = *spec.chat_template;
  } else {
    note("hearth chat: the model has no tokenizer.chat_template; using ChatML\n");
    source = chat::ChatTemplate::chatml_source();
  }
  const chat::ChatTemplate tmpl(source);
  chat::RenderOptions ro;
  ro.add_generation_prompt = true;
  if (spec.bos >= 0 && size_t(spec.bos) < spec.tokens.size()) ro.bos_token = spec.tokens[size_t(spec.bos)];
  if (spec.eos >= 0 && size_t(spec.eos) < spec.tokens.size()) ro.eos_token = spec.tokens[size_t(spec.eos)];
  ro.extra = parse_vars(o.vars);
  if (!o.seed_set) o.sp.seed = std::random_device{}();

  engine::SessionOptions so;
  so.threads = o.threads;
  so.n_ctx = o.ctx > 0 ? o.ctx : std::min<int64_t>(hp.n_ctx_train > 0 ? hp.n_ctx_train : 4096, 4096);
  // Ctrl-C must reach this thread (to interrupt read()), never a worker: block it while the
  // session creates its threads, which inherit the mask.
  sigset_t sigint;
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigint, nullptr);
  engine::Session session(m.model, so);
  pthread_sigmask(SIG_UNBLOCK, &sigint, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read() returns EINTR
  struct sigaction old_sa {};
  sigaction(SIGINT, &sa, &old_sa);

  ojson messages = ojson::array();
  auto reset = [&] {
    messages = ojson::array();
    if (!o.system.empty()) messages.push_back(ojson{{"role", "system"}, {"content", o.system}});
  };
  reset();
  std::vector<int32_t> cached;  // tokens whose KV the session holds
  const bool tty = ::isatty(0);

  note("hearth chat: " + (hp.name.empty() ? path : hp.name) + " (" + hp.arch + "), context " +
       std::to_string(so.n_ctx) + " tokens, " + std::to_string(session.threads()) + " threads\n" +
       "Type a message and press Enter. End a line with \\ to continue it; paste between lines of \"\"\".\n"
       "/reset clears the conversation, /exit quits (or Ctrl-D). Ctrl-C stops an answer.\n");

  LineReader in;
  for (;;) {
    // ---- read one message ----
    say(tty ? "\n> " : "> ");
    std::string msg, line;
    bool block = false, eof = false, interrupted = false;
    for (;;) {
      const LineReader::Status st = in.read_line(line);
      if (st == LineReader::kEof) {
        eof = true;
        break;
      }
      if (st == LineReader::kInterrupted) {
        interrupted = true;
        break;
      }
      if (block) {
        if (line == "\"\"\"") break;
        msg += line + "\n";
        say("... ");
        continue;
      }
      if (msg.empty() && line == "\"\"\"") {
        block = true;
        say("... ");
        continue;
      }
      if (!line.empty() && line.back() == '\\') {
        line.pop_back();
        msg += line + "\n";
        say("... ");
        continue;
      }
      msg += line;
      break;
    }
    if (block && !msg.empty() && msg.back() == '\n') msg.pop_back();
    if (interrupted) {
      note("\n(Ctrl-C: the input was discarded; /exit or Ctrl-D quits)\n");
      continue;
    }
    if (eof && msg.empty()) {
      say("\n");
      break;
    }
    if (msg.empty()) continue;
    if (msg[0] == '/' && msg.rfind("//", 0) != 0) {
      const std::string cmd = msg.substr(0, msg.find_first_of(" \t"));
      if (cmd == "/exit" || cmd == "/quit") break;
      if (cmd == "/reset") {
        reset();
        note("(conversation cleared)\n");
        continue;
      }
      if (cmd == "/help") {
        note("End a line with \\ to continue it; paste between lines of \"\"\". /reset clears the conversation, "
             "/exit quits, Ctrl-C stops an answer, //text sends /text.\n");
        continue;
      }
      note("unknown command " + cmd + " (try /help)\n");
      continue;
    }
    if (msg.rfind("//", 0) == 0) msg.erase(0, 1);

    // ---- prompt: the whole conversation, only the new part computed ----
    messages.push_back(ojson{{"role", "user"}, {"content", msg}});
    std::vector<int32_t> tokens;
    try {
      const std::string text = tmpl.render(messages, ro);
      const bool has_bos = !ro.bos_token.empty() && text.rfind(ro.bos_token, 0) == 0;
      tokens = m.tok->encode(text, !has_bos, true);
    } catch (const Error& e) {
      messages.erase(messages.size() - 1);
      note(std::string("error: the chat template failed: ") + e.what() + "\n");
      continue;
    }
    if (int64_t(tokens.size()) >= so.n_ctx) {
      messages.erase(messages.size() - 1);
      note("error: the conversation (" + std::to_string(tokens.size()) + " tokens) no longer fits in the context of " +
           std::to_string(so.n_ctx) + "; /reset to start over\n");
      continue;
    }
    size_t keep = 0;
    while (keep < cached.size() && keep < tokens.size() && cached[keep] == tokens[keep]) ++keep;
    if (keep == tokens.size()) --keep;  // the last prompt token must run to give logits
    session.truncate(int32_t(keep));
    cached.resize(keep);

    using clock = std::chrono::steady_clock;
    g_interrupted = 0;
    const auto t0 = clock::now();
    const std::vector<float>* logits = nullptr;
    try {
      logits = &session.eval(std::span<const int32_t>(tokens).subspan(keep));
    } catch (const Error& e) {
      messages.erase(messages.size() - 1);
      session.truncate(0);
      cached.clear();
      note(std::string("error: ") + e.what() + "\n");
      continue;
    }
    cached = tokens;
    const auto t1 = clock::now();

    // ---- answer ----
    sampling::Sampler sampler(o.sp, int32_t(hp.n_vocab));
    for (int32_t t : tokens) sampler.accept(t);
    tokenizer::StreamDecoder dec(*m.tok);
    std::string answer;
    int32_t n_gen = 0;
    const int64_t room = so.n_ctx - int64_t(tokens.size());
    const int64_t budget = o.n_predict < 0 ? room : std::min<int64_t>(o.n_predict, room);
    const char* why = "";
    while (n_gen < budget) {
      if (g_interrupted) {
        why = " [interrupted]";
        break;
      }
      const int32_t next = sampler.sample(logits->data());
      sampler.accept(next);
      ++n_gen;
      if (!o.ignore_eos && m.tok->is_eog(next)) break;
      const std::string piece = dec.push(next);
      answer += piece;
      say(piece);
      if (n_gen == budget) {
        why = n_gen == room ? " [context full]" : " [length limit]";
        break;
      }
      const int32_t one[1] = {next};
      logits = &session.eval(one);
      cached.push_back(next);
    }
    const std::string tail = dec.flush();
    answer += tail;
    say(tail + "\n");
    const auto t2 = clock::now();
    g_interrupted = 0;
    messages.push_back(ojson{{"role", "assistant"}, {"content", answer}});
    const double pp = std::chrono::duration<double>(t1 - t0).count();
    const double tg = std::chrono::duration<double>(t2 - t1).count();
    char stats[256];
    std::snprintf(stats, sizeof stats,
                  "[%d tokens in %.2f s, %.1f tok/s; prompt %zu tokens (%zu reused) in %.2f s]%s\n", n_gen, tg,
                  n_gen > 0 && tg > 0 ? double(n_gen) / tg : 0.0, tokens.size(), keep, pp, why);
    note(stats);
    if (!o.transcript.empty()) {
      std::ofstream f(o.transcript, std::ios::binary | std::ios::trunc);
      f << messages.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
  }
  sigaction(SIGINT, &old_sa, nullptr);
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "Chat with a model in the terminal (its chat template, streamed answers)");
  auto o = std::make_shared<ChatOptions>();
  o->sp.temperature = 0.8f;
  cmd->add_option("-m,--model", o->model, "GGUF model file (default: the built-in demo model)");
  cmd->add_option("--system", o->system, "System prompt");
  cmd->add_option("-n,--n-predict", o->n_predict, "Most tokens per answer (default: until the context is full)");
  cmd->add_option("--temp", o->sp.temperature, "Temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", o->sp.top_k, "Top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", o->sp.top_p, "Top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", o->sp.min_p, "Min-p (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", o->sp.repeat_penalty, "Repetition penalty (1: off)")->capture_default_str();
  cmd->add_option("-s,--seed", o->sp.seed, "Random seed (default: random)")
      ->each([o](const std::string&) { o->seed_set = true; });
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  cmd->add_option("-c,--ctx", o->ctx, "Context size (default: min(trained, 4096))");
  cmd->add_option("--var", o->vars, "Template variable KEY=JSON (repeatable), e.g. enable_thinking=false");
  cmd->add_option("--transcript", o->transcript, "Write the conversation (JSON messages) to FILE after each answer");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating after end-of-generation tokens");
  cmd->callback([o] { chat(*o); });
}

}  // namespace hearth::cli
