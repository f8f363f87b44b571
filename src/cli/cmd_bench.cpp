// `hearth bench`: prompt-processing and generation speed of a model (median of repetitions),
// peak RSS, weight bytes read per generated token, and the fraction of the machine's measured
// read bandwidth that generation reaches (the decode roofline).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/membw.h"
#include "core/thread_pool.h"
#include "engine/kv_cache.h"
#include "engine/session.h"
#include "kernels/kernels.h"
#include "sampling/sampler.h"

namespace hearth::cli {
namespace {

struct BenchOptions {
  std::string model;
  int32_t n_prompt = 512, n_gen = 128, reps = 3;
  int threads = 0;
  bool json = false;
  bool no_repack = false;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

void bench(const BenchOptions& o) {
  if (o.n_prompt < 1 || o.n_gen < 1 || o.reps < 1) fail("-p, -n and -r must be at least 1");
  LoadedModel m = load_model(o.model, !o.no_repack);
  const model::HParams& hp = m.model->hparams();
  engine::SessionOptions so;
  so.threads = o.threads;
  so.n_ctx = int64_t(o.n_prompt) + o.n_gen + 1;
  engine::Session session(m.model, so);
  // Greedy sampling as `hearth run --temp 0` does it (its cost per token is part of decode).
  sampling::Params greedy_params;
  greedy_params.temperature = 0.0f;
  sampling::Sampler greedy(greedy_params, int32_t(hp.n_vocab));
  // Prompt of varied ordinary token ids (content does not change the work done).
  std::vector<int32_t> prompt(size_t(o.n_prompt));
  for (int32_t i = 0; i < o.n_prompt; ++i) prompt[size_t(i)] = int32_t((1009 + 7919ll * i) % hp.n_vocab);

  using clock = std::chrono::steady_clock;
  auto secs = [](clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  // The read bandwidth is sampled after every repetition, not once: on a shared machine it
  // moves by tens of percent from minute to minute, and the roofline fraction should compare
  // generation with the bandwidth of the same stretch of time (median of all samples).
  ThreadPool probe_pool(session.threads());
  std::vector<double> bw_samples;
  uint64_t rss = 0;
  std::vector<double> pp, tg;
  for (int r = 0; r <= o.reps; ++r) {  // repetition 0 warms up (pages in the weights)
    session.reset();
    const auto t0 = clock::now();
    const std::vector<float>* logits = &session.eval(prompt);
    const auto t1 = clock::now();
    int32_t next = greedy.sample(logits->data());
    for (int32_t i = 0; i < o.n_gen; ++i) {
      const int32_t one[1] = {next};
      logits = &session.eval(one);
      next = greedy.sample(logits->data());
    }
    const auto t2 = clock::now();
    if (r == 0) continue;
    // Peak RSS of the model run, taken before the first probe allocates its buffer (the
    // repetitions allocate nothing new after the warm-up).
    if (r == 1) {
      struct rusage ru {};
      ::getrusage(RUSAGE_SELF, &ru);
      rss = uint64_t(ru.ru_maxrss) * 1024;
    }
    for (double b : read_bandwidth_samples(probe_pool, size_t(512) << 20, 3)) bw_samples.push_back(b);
    pp.push_back(o.n_prompt / secs(t0, t1));
    tg.push_back(o.n_gen / secs(t1, t2));
  }

  // Bytes one generated token must read: active weights plus the KV cache at the average
  // generation position.
  const uint64_t kv_pos = engine::KvCache::bytes_per_position(engine::KvCache::shape_of(hp));
  const uint64_t weight_bytes = m.model->bytes_per_token();
  const uint64_t bytes_tok = weight_bytes + kv_pos * uint64_t(o.n_prompt + o.n_gen / 2);
  const double bw = median(bw_samples);
  const double pp_med = median(pp), tg_med = median(tg);
  const double bw_frac = tg_med * double(bytes_tok) / bw;
  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["threads"] = session.threads();
    j["kernels"] = kernels::active_table().name;
    j["n_prompt"] = o.n_prompt;
    j["n_gen"] = o.n_gen;
    j["reps"] = o.reps;
    j["pp_tok_s"] = pp_med;
    j["tg_tok_s"] = tg_med;
    j["pp_tok_s_all"] = pp;
    j["tg_tok_s_all"] = tg;
    j["rss_bytes"] = rss;
    j["weight_bytes_per_token"] = weight_bytes;
    j["bytes_per_token"] = bytes_tok;
    j["read_bandwidth_bytes_s"] = bw;
    j["bw_fraction"] = bw_frac;
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("model        %s (%s, %d threads, %s kernels)\n", o.model.c_str(), hp.arch.c_str(),
              session.threads(), kernels::active_table().name);
  std::printf("prompt       %d tokens: %.2f tok/s (median of %d)\n", o.n_prompt, pp_med, o.reps);
  std::printf("generation   %d tokens: %.2f tok/s (median of %d)\n", o.n_gen, tg_med, o.reps);
  std::printf("read/token   %.1f MB (weights %.1f MB + KV cache)\n", bytes_tok / 1e6, weight_bytes / 1e6);
  std::printf("bandwidth    %.2f GB/s measured read bandwidth\n", bw / 1e9);
  std::printf("roofline     %.1f%% of the read bandwidth during generation (roofline %.2f tok/s)\n",
              bw_frac * 100.0, bw / double(bytes_tok));
  std::printf("peak RSS     %.1f MB\n", rss / 1e6);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure prompt and generation speed, RSS and roofline fraction");
  auto o = std::make_shared<BenchOptions>();
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens")->capture_default_str();
  cmd->add_option("-n,--n-gen", o->n_gen, "Generated tokens")->capture_default_str();
  cmd->add_option("-r,--reps", o->reps, "Repetitions (the median is reported)")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  cmd->add_flag("--no-repack", o->no_repack, "Keep weights in the GGUF layout (no load-time repacking)");
  cmd->add_flag("--json", o->json, "Print one JSON object (pp_tok_s, tg_tok_s, rss_bytes, bw_fraction, ...)");
  cmd->callback([o] { bench(*o); });
}

}  // namespace hearth::cli
