// Scheduler tests with a fake model (no weights): the fake stores each token in the KV cache and
// derives its logits from the whole sequence READ BACK FROM THE CACHE, so any mistake in
// positions, prefix reuse, forks or copy-on-write changes the generated tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <thread>
#include <condition_variable>

#include "core/error.h"
#include "core/thread_pool.h"
#include "engine/scheduler.h"
#include "kernels/kernels.h"
#include "sampling/sampler.h"

namespace hearth::engine {
namespace {

constexpr int32_t kVocab = 97;

// Next-token logits as a function of the token history: a rolling hash, then a permutation-ish
// score per token so the argmax depends on every earlier token.
uint64_t mix(uint64_t h, int32_t token, int32_t pos) {
  h ^= uint64_t(token) * 0x9E3779B97F4A7C15ull + uint64_t(pos) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 29)) * 0x94D049BB133111EBull;
  return h ^ (h >> 32);
}
void logits_from_hash(uint64_t h, float* out) {
  for (int32_t j = 0; j < kVocab; ++j) {
    uint64_t x = mix(h, j, 7);
    out[j] = float(x % 100000) / 10000.0f;  // [0, 10)
  }
}

struct StepRecord {
  size_t n_tokens = 0;
  size_t n_logits = 0;
  std::map<int32_t, int32_t> per_seq;  // batch seq index -> tokens
};

class FakeModel : public model::Model {
 public:
  FakeModel() : Model(nullptr) {
    hp_.arch = "fake";
    hp_.n_vocab = kVocab;
    hp_.n_embd = 4;
    hp_.n_layer = 1;
    hp_.n_head = {1};
    hp_.n_head_kv = {1};
    hp_.n_ff = {4};
    hp_.head_dim_k = 2;
    hp_.head_dim_v = 2;
  }
  void forward(const model::ForwardEnv&, const model::Batch& b, const model::KvView& kv,
               std::vector<float>& logits) override {
    if (fail_next) {
      fail_next = false;
      fail("fake forward failure");
    }
    StepRecord rec;
    rec.n_tokens = b.size();
    for (size_t t = 0; t < b.size(); ++t) {
      ++rec.per_seq[b.seq[t]];
      uint16_t* k = kv.k_at(0, b.seq[t], b.pos[t], 0);
      k[0] = uint16_t(b.tokens[t]);
      k[1] = uint16_t(b.pos[t]);
    }
    logits.clear();
    for (size_t t = 0; t < b.size(); ++t) {
      if (!b.want_logits[t]) continue;
      uint64_t h = 0;
      for (int32_t p = 0; p <= b.pos[t]; ++p) {
        const uint16_t* k = kv.k_at(0, b.seq[t], p, 0);
        if (k[1] != uint16_t(p)) fail("fake model: position ", p, " of the cache was never written");
        h = mix(h, int32_t(k[0]), p);
      }
      logits.resize(logits.size() + kVocab);
      logits_from_hash(h, logits.data() + logits.size() - kVocab);
      ++rec.n_logits;
    }
    steps.push_back(rec);
  }
  std::vector<StepRecord> steps;
  bool fail_next = false;
};

// What a correct engine must generate: the same hash over the plain token list.
std::vector<int32_t> reference(std::vector<int32_t> seq, int n, const sampling::Params& sp) {
  sampling::Sampler sampler(sp, kVocab);
  for (int32_t t : seq) sampler.accept(t);
  std::vector<int32_t> out;
  std::vector<float> logits(kVocab);
  for (int i = 0; i < n; ++i) {
    uint64_t h = 0;
    for (size_t p = 0; p < seq.size(); ++p) h = mix(h, seq[p], int32_t(p));
    logits_from_hash(h, logits.data());
    const int32_t tok = sampler.sample(logits.data());
    sampler.accept(tok);
    out.push_back(tok);
    seq.push_back(tok);
  }
  return out;
}

sampling::Params greedy() {
  sampling::Params p;
  p.temperature = 0;
  return p;
}

std::vector<int32_t> prompt_of(int len, int seed) {
  std::vector<int32_t> p(static_cast<size_t>(len));
  for (int i = 0; i < len; ++i) p[size_t(i)] = int32_t((i * 31 + seed * 17 + seed * i) % kVocab);
  return p;
}

struct Collected {
  std::vector<int32_t> tokens;
  std::vector<TokenEvent> events;
  bool done = false;
  Result result;
};

struct Harness {
  explicit Harness(SchedulerOptions opt) {
    pool = std::make_unique<ThreadPool>(1);
    env.pool = pool.get();
    env.kernels = &kernels::reference_table();
    opt.env = &env;
    model = std::make_shared<FakeModel>();
    sched = std::make_unique<Scheduler>(model, opt);
  }
  std::shared_ptr<Request> submit(std::vector<int32_t> prompt, int max_tokens,
                                  sampling::Params sp = greedy(), int stop_after = -1) {
    auto c = std::make_shared<Collected>();
    auto r = std::make_shared<Request>();
    r->prompt = std::move(prompt);
    r->params.sampling = sp;
    r->params.max_tokens = max_tokens;
    r->on_token = [c, stop_after](const TokenEvent& ev) {
      c->tokens.push_back(ev.token);
      c->events.push_back(ev);
      return stop_after < 0 || int(c->tokens.size()) < stop_after;
    };
    r->on_finish = [c](const Result& res) {
      EXPECT_FALSE(c->done) << "on_finish called twice";
      c->done = true;
      c->result = res;
    };
    out.push_back(c);
    sched->submit(r);
    return r;
  }
  void run_all(int max_steps = 100000) {
    for (int i = 0; i < max_steps && !sched->idle(); ++i) sched->step();
    ASSERT_TRUE(sched->idle());
  }
  std::unique_ptr<ThreadPool> pool;
  model::ForwardEnv env;
  std::shared_ptr<FakeModel> model;
  std::unique_ptr<Scheduler> sched;
  std::vector<std::shared_ptr<Collected>> out;
};

SchedulerOptions opts(int slots, int ctx, int batch, int block = 4) {
  SchedulerOptions o;
  o.n_slots = slots;
  o.n_ctx = ctx;
  o.n_batch = batch;
  o.kv_block_size = block;
  return o;
}

TEST(Scheduler, SingleRequestMatchesReference) {
  Harness h(opts(1, 64, 16));
  const auto p = prompt_of(11, 1);
  h.submit(p, 9);
  h.run_all();
  ASSERT_TRUE(h.out[0]->done);
  EXPECT_EQ(h.out[0]->tokens, reference(p, 9, greedy()));
  EXPECT_EQ(h.out[0]->result.reason, FinishReason::kLength);
  EXPECT_EQ(h.out[0]->result.n_generated, 9);
  EXPECT_EQ(h.out[0]->result.n_prompt, 11);
  EXPECT_EQ(h.out[0]->result.n_reused, 0);
}

TEST(Scheduler, BatchOfManySequencesEqualsSingleRuns) {
  // 8 requests, 4 slots (the rest queue), a budget that splits prompts into chunks.
  Harness h(opts(4, 96, 10, 4));
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 8; ++i) {
    prompts.push_back(prompt_of(3 + 5 * i, 10 + i));
    h.submit(prompts.back(), 6 + i);
  }
  h.run_all();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(h.out[size_t(i)]->done);
    EXPECT_EQ(h.out[size_t(i)]->tokens, reference(prompts[size_t(i)], 6 + i, greedy())) << "request " << i;
  }
  size_t max_tokens = 0, max_seqs = 0;
  for (const auto& s : h.model->steps) {
    max_tokens = std::max(max_tokens, s.n_tokens);
    max_seqs = std::max(max_seqs, s.per_seq.size());
  }
  EXPECT_LE(max_tokens, 10u) << "a step exceeded the token budget";
  EXPECT_EQ(max_seqs, 4u) << "steps should carry all 4 slots at once, and never more";
}

TEST(Scheduler, LongPromptDoesNotStallRunningGenerations) {
  Harness h(opts(2, 512, 16, 8));
  const auto pa = prompt_of(5, 3);
  h.submit(pa, 200);
  // Let A start generating.
  for (int i = 0; i < 3; ++i) h.sched->step();
  const size_t a_before = h.out[0]->tokens.size();
  ASSERT_GE(a_before, 1u);
  const auto pb = prompt_of(300, 4);
  h.submit(pb, 3);
  // B's 300-token prompt needs ceil(300 / 15) steps at a 16-token budget shared with A's decode.
  int steps = 0;
  while (h.out[1]->tokens.empty()) {
    ASSERT_TRUE(h.sched->step());
    ++steps;
    // A advanced by exactly one token in each of those steps.
    ASSERT_EQ(h.out[0]->tokens.size(), a_before + size_t(steps));
    ASSERT_LE(h.model->steps.back().n_tokens, 16u);
  }
  EXPECT_EQ(steps, 20);
  h.run_all();
  EXPECT_EQ(h.out[0]->tokens, reference(pa, 200, greedy()));
  EXPECT_EQ(h.out[1]->tokens, reference(pb, 3, greedy()));
}

TEST(Scheduler, MoreRequestsThanSlotsQueueInOrder) {
  Harness h(opts(2, 64, 32));
  for (int i = 0; i < 5; ++i) h.submit(prompt_of(4, 20 + i), 3);
  EXPECT_EQ(h.sched->stats().queue_depth, 5);
  h.sched->step();
  EXPECT_EQ(h.sched->stats().queue_depth, 3);
  EXPECT_EQ(h.sched->stats().slots_busy, 2);
  h.run_all();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(h.out[size_t(i)]->done);
    EXPECT_EQ(h.out[size_t(i)]->tokens, reference(prompt_of(4, 20 + i), 3, greedy()));
  }
  for (const auto& s : h.model->steps) EXPECT_LE(s.per_seq.size(), 2u);
  EXPECT_EQ(h.sched->stats().requests_finished, 5u);
  EXPECT_EQ(h.sched->stats().queue_depth, 0);
}

TEST(Scheduler, NextTurnReusesTheSlotCacheForTheCommonPrefix) {
  Harness h(opts(1, 256, 64, 4));
  auto turn1 = prompt_of(21, 5);
  h.submit(turn1, 7);
  h.run_all();
  const auto gen1 = h.out[0]->tokens;
  // Turn 2: history (prompt + the answer) + a new user message.
  auto turn2 = turn1;
  turn2.insert(turn2.end(), gen1.begin(), gen1.end());
  const auto extra = prompt_of(9, 6);
  turn2.insert(turn2.end(), extra.begin(), extra.end());
  const uint64_t computed_before = h.sched->stats().prompt_tokens_computed;
  h.submit(turn2, 5);
  h.run_all();
  // The cache held turn1 + all answer tokens but the last (never fed back).
  EXPECT_EQ(h.out[1]->result.n_reused, 21 + 7 - 1);
  EXPECT_EQ(h.sched->stats().prompt_tokens_computed - computed_before, turn2.size() - (21 + 7 - 1));
  EXPECT_EQ(h.out[1]->tokens, reference(turn2, 5, greedy()));

  // A divergent prompt truncates to the common prefix (mid-block) and still computes correctly.
  auto turn3 = turn2;
  turn3.resize(13);
  turn3.push_back((turn2[13] + 1) % kVocab);
  turn3.push_back(3);
  h.submit(turn3, 4);
  h.run_all();
  EXPECT_EQ(h.out[2]->result.n_reused, 13);
  EXPECT_EQ(h.out[2]->tokens, reference(turn3, 4, greedy()));

  // The same prompt again: everything but the last token is reused.
  h.submit(turn3, 4);
  h.run_all();
  EXPECT_EQ(h.out[3]->result.n_reused, int32_t(turn3.size()) - 1);
  EXPECT_EQ(h.out[3]->tokens, h.out[2]->tokens);
}

TEST(Scheduler, ReturningConversationFindsItsSlot) {
  Harness h(opts(3, 128, 64, 4));
  const auto a = prompt_of(17, 7), b = prompt_of(19, 8), c = prompt_of(23, 9);
  h.submit(a, 2);
  h.submit(b, 2);
  h.submit(c, 2);
  h.run_all();
  auto a2 = a;
  a2.push_back(h.out[0]->tokens[0]);
  a2.push_back(5);
  h.submit(a2, 3);
  h.run_all();
  EXPECT_EQ(h.out[3]->result.n_reused, 18);
  EXPECT_EQ(h.out[3]->tokens, reference(a2, 3, greedy()));
}

TEST(Scheduler, PrefixOfABusySlotIsSharedByFork) {
  // Slot 0 generates after a long system prompt; a second request with the same system prompt
  // borrows those blocks instead of recomputing them, and both keep generating correctly
  // (copy-on-write protects the shared partial block).
  Harness h(opts(2, 256, 64, 8));
  const auto system = prompt_of(37, 11);
  auto a = system;
  a.push_back(1);
  a.push_back(2);
  h.submit(a, 30);
  h.sched->step();  // prefill: the cache holds positions 0..38, block 4 (32..39) is partial
  auto b = system;
  b.push_back(9);
  h.submit(b, 25);
  h.run_all();
  EXPECT_EQ(h.out[1]->result.n_reused, 37);
  EXPECT_EQ(h.out[0]->tokens, reference(a, 30, greedy()));
  EXPECT_EQ(h.out[1]->tokens, reference(b, 25, greedy()));
}

TEST(Scheduler, CancelFreesTheSlotForTheQueue) {
  Harness h(opts(1, 128, 16));
  auto r0 = h.submit(prompt_of(6, 12), 100);
  auto r1 = h.submit(prompt_of(6, 13), 100);  // waits in the queue
  auto r2 = h.submit(prompt_of(6, 14), 4);
  for (int i = 0; i < 5; ++i) h.sched->step();
  EXPECT_EQ(h.out[0]->tokens.size(), 5u);
  r0->cancel();
  r1->cancel();  // cancelled while queued
  h.run_all();
  EXPECT_EQ(h.out[0]->result.reason, FinishReason::kCancelled);
  EXPECT_EQ(h.out[0]->tokens.size(), 5u);
  EXPECT_EQ(h.out[1]->result.reason, FinishReason::kCancelled);
  EXPECT_TRUE(h.out[1]->tokens.empty());
  EXPECT_EQ(h.out[2]->result.reason, FinishReason::kLength);
  EXPECT_EQ(h.out[2]->tokens, reference(prompt_of(6, 14), 4, greedy()));
}

TEST(Scheduler, ConsumerStopEogAndContextLimit) {
  Harness h(opts(2, 32, 16));
  h.submit(prompt_of(5, 15), 50, greedy(), /*stop_after=*/3);
  h.run_all();
  EXPECT_EQ(h.out[0]->result.reason, FinishReason::kStopped);
  EXPECT_EQ(h.out[0]->tokens.size(), 3u);

  // No max_tokens: the slot's context bounds the generation (prompt + generated = n_ctx).
  h.submit(prompt_of(10, 16), -1);
  h.run_all();
  EXPECT_EQ(h.out[1]->result.reason, FinishReason::kLength);
  EXPECT_EQ(h.out[1]->tokens.size(), 22u);
  EXPECT_EQ(h.out[1]->tokens, reference(prompt_of(10, 16), 22, greedy()));

  EXPECT_THROW(h.submit(prompt_of(32, 1), 1), Error);  // no room for a generated token
  EXPECT_THROW(h.submit({}, 1), Error);
  EXPECT_THROW(h.submit({1, kVocab}, 1), Error);
  sampling::Params bad = greedy();
  bad.top_p = 2;
  EXPECT_THROW(h.submit({1, 2}, 1, bad), Error);
}

TEST(Scheduler, EndOfGenerationToken) {
  const auto p = prompt_of(8, 17);
  const auto ref = reference(p, 10, greedy());
  const int32_t eog = ref[4];
  const size_t first = size_t(std::find(ref.begin(), ref.end(), eog) - ref.begin());
  SchedulerOptions o = opts(1, 64, 16);
  o.is_eog = [eog](int32_t t) { return t == eog; };
  Harness h(o);
  h.submit(p, 10);
  h.run_all();
  EXPECT_EQ(h.out[0]->result.reason, FinishReason::kEog);
  ASSERT_EQ(h.out[0]->tokens.size(), first + 1);
  EXPECT_TRUE(h.out[0]->events.back().eog);
  EXPECT_EQ(h.out[0]->result.n_generated, int32_t(first + 1));
}

TEST(Scheduler, ForwardFailureEndsTheBatchWithAnErrorAndServingGoesOn) {
  Harness h(opts(2, 64, 16));
  h.submit(prompt_of(5, 18), 5);
  h.model->fail_next = true;
  h.run_all();
  EXPECT_EQ(h.out[0]->result.reason, FinishReason::kError);
  EXPECT_NE(h.out[0]->result.error.find("fake forward failure"), std::string::npos);
  h.submit(prompt_of(5, 18), 5);
  h.run_all();
  EXPECT_EQ(h.out[1]->tokens, reference(prompt_of(5, 18), 5, greedy()));
}

TEST(Scheduler, SeededSamplingIsIndependentOfBatchComposition) {
  sampling::Params sp;
  sp.temperature = 1.0f;
  sp.top_k = 0;
  sp.top_p = 0.9f;
  sp.min_p = 0;
  sp.seed = 1234;
  const auto p = prompt_of(9, 19);
  Harness alone(opts(1, 64, 16));
  alone.submit(p, 12, sp);
  alone.run_all();
  Harness crowd(opts(4, 64, 7));
  for (int i = 0; i < 3; ++i) crowd.submit(prompt_of(13, 40 + i), 12, sp);
  crowd.submit(p, 12, sp);
  crowd.run_all();
  EXPECT_EQ(alone.out[0]->tokens, crowd.out[3]->tokens);
  EXPECT_EQ(alone.out[0]->tokens, reference(p, 12, sp));
}

TEST(Scheduler, LogprobsComeFromTheRawLogits) {
  Harness h(opts(1, 64, 16));
  auto r = std::make_shared<Request>();
  const auto p = prompt_of(6, 21);
  std::vector<TokenEvent> evs;
  r->prompt = p;
  r->params.sampling = greedy();
  r->params.max_tokens = 2;
  r->params.n_logprobs = 3;
  r->on_token = [&](const TokenEvent& ev) {
    evs.push_back(ev);
    return true;
  };
  h.sched->submit(r);
  h.run_all();
  ASSERT_EQ(evs.size(), 2u);
  uint64_t hh = 0;
  for (size_t i = 0; i < p.size(); ++i) hh = mix(hh, p[i], int32_t(i));
  std::vector<float> logits(kVocab);
  logits_from_hash(hh, logits.data());
  EXPECT_FLOAT_EQ(evs[0].logprob, sampling::logprob_of(logits.data(), kVocab, evs[0].token));
  const auto top = sampling::top_logprobs(logits.data(), kVocab, 3);
  ASSERT_EQ(evs[0].top.size(), 3u);
  EXPECT_EQ(evs[0].top, top);
  EXPECT_EQ(evs[0].top[0].first, evs[0].token);  // greedy picks the most likely token
}

TEST(Scheduler, RandomWorkloadStaysCorrectAndReleasesBlocks) {
  // Mixed prompts sharing prefixes, cancellations and queueing; every completed request must
  // equal its reference, and the pool must never hold more than the slots' contexts.
  Harness h(opts(3, 80, 12, 4));
  uint32_t state = 7;
  auto rnd = [&](uint32_t n) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % n;
  };
  std::vector<std::vector<int32_t>> prompts;
  std::vector<int> lens;
  std::vector<std::shared_ptr<Request>> reqs;
  const auto base = prompt_of(30, 50);
  for (int i = 0; i < 40; ++i) {
    std::vector<int32_t> p(base.begin(), base.begin() + ptrdiff_t(rnd(30)));
    const uint32_t tail = 1 + rnd(20);
    for (uint32_t k = 0; k < tail; ++k) p.push_back(int32_t(rnd(kVocab)));
    const int n = 1 + int(rnd(15));
    prompts.push_back(p);
    lens.push_back(n);
    reqs.push_back(h.submit(p, n));
    for (uint32_t s = rnd(4); s > 0; --s) h.sched->step();
    if (rnd(6) == 0) reqs[rnd(uint32_t(reqs.size()))]->cancel();
    const auto st = h.sched->stats();
    ASSERT_LE(st.kv_blocks_used, st.kv_blocks_total);
  }
  h.run_all();
  int checked = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    ASSERT_TRUE(h.out[i]->done);
    if (h.out[i]->result.reason == FinishReason::kCancelled) {
      const auto ref = reference(prompts[i], int(h.out[i]->tokens.size()), greedy());
      EXPECT_EQ(h.out[i]->tokens, ref);
      continue;
    }
    EXPECT_EQ(h.out[i]->tokens, reference(prompts[i], lens[i], greedy())) << "request " << i;
    ++checked;
  }
  EXPECT_GT(checked, 20);
  EXPECT_GT(h.sched->stats().prompt_tokens_reused, 0u);
  // Idle slots keep only their cached tokens: at most 3 slots x ceil(80 / 4) blocks.
  EXPECT_LE(h.sched->stats().kv_blocks_used, 3 * 20);
}

TEST(Scheduler, SubmitFromManyThreadsWhileAnotherSteps) {
  Harness h(opts(3, 64, 16));
  std::atomic<bool> stop{false};
  std::thread engine([&] {
    while (!stop.load()) {
      h.sched->wait_for_work(std::chrono::milliseconds(50));
      h.sched->step();
    }
  });
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<std::vector<int32_t>> got(12);
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&, c] {
      for (int k = 0; k < 3; ++k) {
        const int i = c * 3 + k;
        auto r = std::make_shared<Request>();
        r->prompt = prompt_of(5 + i, 60 + i);
        r->params.sampling = greedy();
        r->params.max_tokens = 4;
        r->on_token = [&, i](const TokenEvent& ev) {
          got[size_t(i)].push_back(ev.token);
          return true;
        };
        r->on_finish = [&](const Result&) {
          std::lock_guard<std::mutex> lock(mu);
          ++done;
          cv.notify_all();
        };
        h.sched->submit(r);
      }
    });
  for (auto& t : clients) t.join();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == 12; }));
  }
  stop = true;
  h.sched->wake();
  engine.join();
  for (int i = 0; i < 12; ++i) EXPECT_EQ(got[size_t(i)], reference(prompt_of(5 + i, 60 + i), 4, greedy()));
}

}  // namespace
}  // namespace hearth::engine
