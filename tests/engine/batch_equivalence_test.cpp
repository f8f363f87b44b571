// The batched engine on a real (synthetic-weight) model: N sequences generated together through
// the scheduler, with prefill chunks and decode tokens mixed in the same forward passes, give
// exactly the tokens of N separate single-sequence runs (engine::Session), greedy.
#include <gtest/gtest.h>

#include "core/error.h"
#include "engine/scheduler.h"
#include "engine/session.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "model/model_test_util.h"
#include "model/synth.h"
#include "sampling/sampler.h"

namespace hearth::engine {
namespace {

std::vector<int32_t> prompt_of(int len, int seed, int32_t n_vocab) {
  std::vector<int32_t> p;
  uint32_t s = uint32_t(seed) * 2654435761u + 1;
  for (int i = 0; i < len; ++i) {
    s = s * 1664525u + 1013904223u;
    p.push_back(int32_t((s >> 8) % uint32_t(n_vocab)));
  }
  return p;
}

std::vector<int32_t> single_run(model::Model& m, std::shared_ptr<model::Model> owner,
                                const std::vector<int32_t>& prompt, int n) {
  SessionOptions so;
  so.threads = 1;  // tiny model: thread hand-offs would cost more than the math
  so.n_ctx = 256;
  Session s(std::move(owner), so);
  sampling::Params sp;
  sp.temperature = 0;
  sampling::Sampler sampler(sp, int32_t(m.hparams().n_vocab));
  const std::vector<float>* logits = &s.eval(prompt);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    const int32_t t = sampler.sample(logits->data());
    out.push_back(t);
    const int32_t one[1] = {t};
    if (i + 1 < n) logits = &s.eval(one);
  }
  return out;
}

void check_type(const std::string& type) {
  model::testing::TempSynthModel sm(model::testing::tiny_options("qwen3", type, 11), "batcheq");
  const int32_t n_vocab = int32_t(sm.model->hparams().n_vocab);
  const int kN = 5, kGen = 12;
  std::vector<std::vector<int32_t>> prompts, expected;
  for (int i = 0; i < kN; ++i) {
    prompts.push_back(prompt_of(7 + 9 * i, 100 + i, n_vocab));
    expected.push_back(single_run(*sm.model, sm.model, prompts.back(), kGen));
  }
  SchedulerOptions opt;
  opt.n_slots = 3;  // 5 requests on 3 slots: two wait, then join mid-generation
  opt.n_ctx = 128;
  opt.n_batch = 16;  // prompts of up to 43 tokens are prefilled in chunks beside decode tokens
  opt.threads = 1;
  Scheduler sched(sm.model, opt);
  std::vector<std::vector<int32_t>> got(kN);
  for (int i = 0; i < kN; ++i) {
    auto r = std::make_shared<Request>();
    r->prompt = prompts[size_t(i)];
    r->params.sampling.temperature = 0;
    r->params.max_tokens = kGen;
    r->on_token = [&got, i](const TokenEvent& ev) {
      got[size_t(i)].push_back(ev.token);
      return true;
    };
    sched.submit(r);
  }
  int steps = 0;
  while (!sched.idle() && steps < 1000) {
    sched.step();
    ++steps;
  }
  for (int i = 0; i < kN; ++i) EXPECT_EQ(got[size_t(i)], expected[size_t(i)]) << type << " request " << i;
}

TEST(BatchEquivalence, Q8_0) { check_type("q8_0"); }
TEST(BatchEquivalence, F32) { check_type("f32"); }

}  // namespace
}  // namespace hearth::engine
