// `hearth run`: generate text from a prompt, streamed to stdout; timing on stderr.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "engine/session.h"
#include "sampling/sampler.h"

namespace hearth::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

struct RunOptions {
  std::string model, prompt, prompt_file;
  int32_t n_predict = 128;
  int threads = 0;
  int64_t ctx = 0;
  bool ignore_eos = false;
  bool no_repack = false;
  bool moe_stats = false;
  sampling::Params sp;
};

// Per-layer expert-selection histograms of an MoE model (--moe-stats), on stderr: for each MoE
// layer the number of selections (tokens x experts per token), how many experts were used at
// least once, the most-selected experts with their share, and the full histogram (one count per
// expert, in expert order) so a user can see routing balance and which experts are hot.
void print_moe_stats(const model::Model& m) {
  const auto* counts = m.expert_counts();
  if (!counts) {
    std::fprintf(stderr, "moe-stats: %s is not a mixture-of-experts model\n", m.hparams().arch.c_str());
    return;
  }
  std::fprintf(stderr, "\nexpert selections per layer (prompt and generation; %d of %d experts per token)\n",
               m.hparams().n_expert_used, m.hparams().n_expert);
  for (size_t il = 0; il < counts->size(); ++il) {
    const std::vector<uint64_t>& c = (*counts)[il];
    if (c.empty()) continue;  // dense layer
    uint64_t total = 0;
    int used = 0;
    for (uint64_t v : c) total += v, used += v > 0;
    std::vector<int> order(c.size());
    for (size_t e = 0; e < c.size(); ++e) order[e] = int(e);
    const size_t n_top = std::min<size_t>(4, order.size());
    std::partial_sort(order.begin(), order.begin() + ptrdiff_t(n_top), order.end(),
                      [&](int a, int b) { return c[size_t(a)] != c[size_t(b)] ? c[size_t(a)] > c[size_t(b)] : a < b; });
    std::string top;
    for (size_t i = 0; i < n_top; ++i) {
      char share[32];
      std::snprintf(share, sizeof share, "%.1f%%",
                    total ? 100.0 * double(c[size_t(order[i])]) / double(total) : 0.0);
      top += cat(i ? " " : "", "e", order[i], " ", share);
    }
    std::string hist;
    for (size_t e = 0; e < c.size(); ++e) hist += cat(e ? " " : "", c[e]);
    std::fprintf(stderr, "layer %2zu: %llu selections, %d/%zu experts used, top: %s\n  counts: %s\n", il,
                 static_cast<unsigned long long>(total), used, c.size(), top.c_str(), hist.c_str());
  }
}

void run(const RunOptions& o) {
  std::string path = o.model;
  const bool demo = path.empty();
  if (demo) {
    path = default_model_path(true);
    std::fprintf(stderr,
                 "hearth: no -m given, using the built-in demo model. Its weights are RANDOM: "
                 "the text below is noise, not language.\n");
  }
  std::string prompt = o.prompt;
  if (!o.prompt_file.empty()) {
    std::ifstream in(o.prompt_file, std::ios::binary);
    if (!in) fail("cannot read ", o.prompt_file);
    std::stringstream ss;
    ss << in.rdbuf();
    prompt = ss.str();
  }
  if (prompt.empty() && demo) prompt = "Once upon a time";
  if (o.n_predict < 0) fail("-n must be >= 0");

  LoadedModel m = load_model(path, !o.no_repack);
  const model::HParams& hp = m.model->hparams();
  std::vector<int32_t> ids = m.tok->encode(prompt, true, true);
  if (ids.empty()) fail("the prompt is empty and the model adds no BOS token");
  engine::SessionOptions so;
  so.threads = o.threads;
  so.n_ctx = o.ctx > 0 ? o.ctx : std::min<int64_t>(hp.n_ctx_train, 4096);
  if (int64_t(ids.size()) > so.n_ctx)
    fail("the prompt is too long: ", ids.size(), " tokens do not fit in the context of ", so.n_ctx,
         " (use a larger --ctx)");
  engine::Session session(m.model, so);
  sampling::Sampler sampler(o.sp, int32_t(hp.n_vocab));
  for (int32_t id : ids) sampler.accept(id);

  g_interrupted = 0;
  auto old = std::signal(SIGINT, on_sigint);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const std::vector<float>* logits = &session.eval(ids);
  const auto t1 = clock::now();
  tokenizer::StreamDecoder dec(*m.tok);
  int32_t n_gen = 0;
  const int64_t budget = std::min<int64_t>(o.n_predict, so.n_ctx - int64_t(ids.size()));
  while (n_gen < budget && !g_interrupted) {
    const int32_t next = sampler.sample(logits->data());
    sampler.accept(next);
    ++n_gen;
    if (!o.ignore_eos && m.tok->is_eog(next)) break;
    const std::string piece = dec.push(next);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    if (n_gen == budget) break;
    const int32_t one[1] = {next};
    logits = &session.eval(one);
  }
  const std::string tail = dec.flush();
  std::fwrite(tail.data(), 1, tail.size(), stdout);
  std::printf("\n");
  std::fflush(stdout);
  const auto t2 = clock::now();
  std::signal(SIGINT, old);
  const double pp_s = std::chrono::duration<double>(t1 - t0).count();
  const double tg_s = std::chrono::duration<double>(t2 - t1).count();
  std::fprintf(stderr, "\nprompt:     %zu tokens in %.3f s (%.2f tok/s)\n", ids.size(), pp_s,
               double(ids.size()) / pp_s);
  std::fprintf(stderr, "generation: %d tokens in %.3f s (%.2f tok/s)%s\n", n_gen, tg_s,
               n_gen > 0 ? double(n_gen) / tg_s : 0.0, g_interrupted ? " [interrupted]" : "");
  std::fprintf(stderr, "threads:    %d\n", session.threads());
  if (o.moe_stats) print_moe_stats(*m.model);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt (default model: built-in demo)");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("-m,--model", o->model, "GGUF model file (default: the built-in demo model)");
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  cmd->add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate")->capture_default_str();
  cmd->add_option("--temp", o->sp.temperature, "Temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", o->sp.top_k, "Top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", o->sp.top_p, "Top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", o->sp.min_p, "Min-p (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", o->sp.repeat_penalty, "Repetition penalty (1: off)")
      ->capture_default_str();
  cmd->add_option("--repeat-last-n", o->sp.penalty_last_n, "Window of the penalties")
      ->capture_default_str();
  cmd->add_option("--presence-penalty", o->sp.presence_penalty, "Presence penalty")
      ->capture_default_str();
  cmd->add_option("--frequency-penalty", o->sp.frequency_penalty, "Frequency penalty")
      ->capture_default_str();
  cmd->add_option("-s,--seed", o->sp.seed, "Random seed")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  cmd->add_option("-c,--ctx", o->ctx, "Context size (default: min(trained, 4096))");
  cmd->add_flag("--no-repack", o->no_repack, "Keep weights in the GGUF layout (no load-time repacking)");
  cmd->add_flag("--moe-stats", o->moe_stats, "Print per-layer expert-selection histograms at the end (MoE models)");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating after end-of-generation tokens");
  cmd->callback([o] { run(*o); });
}

}  // namespace hearth::cli
