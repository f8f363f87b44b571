// The batched engine: slots (one KV sequence each), a FIFO queue of requests, and step(), which
// runs ONE Model::forward over a batch mixing one decode token per generating slot with prefill
// chunks of new prompts under a per-step token budget, then samples. Knows tokens, never text.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/kv_cache.h"
#include "model/model.h"
#include "sampling/sampler.h"

namespace hearth {
class ThreadPool;
}

namespace hearth::engine {

// One generated token as the engine hands it to its consumer.
struct TokenEvent {
  int32_t token = -1;
  int32_t index = 0;          // 0 for the first generated token
  bool eog = false;           // an end-of-generation token (it ends the request unless ignore_eos)
  float logprob = 0.0f;       // log p(token) under the model's raw distribution (with n_logprobs >= 0)
  std::vector<std::pair<int32_t, float>> top;  // the n_logprobs most likely (token, logprob)
};

enum class FinishReason {
  kEog,        // an end-of-generation token was sampled
  kLength,     // max_tokens reached, or the slot's context is full
  kStopped,    // the consumer's on_token returned false (e.g. a stop string matched)
  kCancelled,  // Request::cancel() (client went away, shutdown)
  kError,      // the request could not run (message in Result::error)
};
const char* finish_reason_name(FinishReason r);

struct Result {
  FinishReason reason = FinishReason::kError;
  std::string error;
  int32_t n_prompt = 0;     // prompt tokens
  int32_t n_reused = 0;     // prompt tokens whose KV was already cached (not recomputed)
  int32_t n_generated = 0;  // sampled tokens, the final end-of-generation token included
  double queue_s = 0;       // submit -> admitted to a slot
  double ttft_s = 0;        // submit -> first token (0 if none)
  double total_s = 0;       // submit -> finish
};

struct GenParams {
  sampling::Params sampling;
  int32_t max_tokens = -1;   // < 0: until the slot's context is full
  int32_t n_logprobs = -1;   // < 0: no logprobs; k >= 0: logprob of each token and the top k
  bool ignore_eos = false;
};

// A generation request. Callbacks run on the thread that calls Scheduler::step() and must be
// quick: they are called between forward passes of every running request.
class Request {
 public:
  std::vector<int32_t> prompt;  // [n] token ids, non-empty
  GenParams params;
  // Called once per sampled token, in order; return false to end the request (kStopped).
  std::function<bool(const TokenEvent&)> on_token;
  // Called exactly once, after the last on_token (also for requests cancelled while queued).
  std::function<void(const Result&)> on_finish;

  // Thread-safe; the request ends at the next step (kCancelled) and frees its slot.
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  friend class Scheduler;
  std::atomic<bool> cancelled_{false};
  std::chrono::steady_clock::time_point submitted_;
};

struct SchedulerOptions {
  int32_t n_slots = 1;       // sequences generating at once; more requests wait in the queue
  int64_t n_ctx = 4096;      // positions per slot (prompt + generated)
  int32_t n_batch = 128;     // token budget of one step (decode tokens + prefill chunks), >= n_slots
  int threads = 0;           // 0: all cores
  int32_t kv_block_size = 32;
  std::function<bool(int32_t)> is_eog;  // end-of-generation test; empty: nothing ends early
  // Tests: run forwards with this env instead of building a thread pool and kernel table.
  const model::ForwardEnv* env = nullptr;
};

// A snapshot for /metrics and tests.
struct SchedulerStats {
  int32_t n_slots = 0;
  int32_t slots_busy = 0;
  int32_t queue_depth = 0;          // submitted, not yet in a slot
  int32_t kv_blocks_total = 0;
  int32_t kv_blocks_used = 0;       // blocks holding live or cached (reusable) positions
  uint64_t steps = 0;               // forward passes
  uint64_t prompt_tokens = 0;       // prompt tokens submitted (all requests admitted)
  uint64_t prompt_tokens_computed = 0;  // prompt tokens that went through a forward
  uint64_t prompt_tokens_reused = 0;    // prompt tokens served from a cached prefix
  uint64_t generated_tokens = 0;
  uint64_t requests_finished = 0;
  double busy_s = 0;                // wall time spent in step() with work
};

class Scheduler {
 public:
  Scheduler(std::shared_ptr<model::Model> model, const SchedulerOptions& opt);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Thread-safe. Validates the request (throws hearth::Error, naming the field, for an empty
  // prompt, a token outside the vocabulary, a prompt that does not fit in a slot's context or
  // invalid sampling parameters) and queues it. Never blocks on the engine.
  void submit(std::shared_ptr<Request> req);

  // Runs one scheduling step: admits queued requests into free slots, runs one forward pass
  // (if any slot has work), samples and calls the callbacks. Returns false if there was nothing
  // to do. Call from one thread only.
  bool step();
  // Blocks until there is work for step() or wake() is called, at most `timeout`.
  void wait_for_work(std::chrono::milliseconds timeout);
  // Wakes a wait_for_work() (used for shutdown).
  void wake();
  // Ends every queued and running request with kCancelled (call from the stepping thread).
  void cancel_all();

  bool idle() const;
  SchedulerStats stats() const;
  const SchedulerOptions& options() const { return opt_; }
  int32_t n_vocab() const { return n_vocab_; }

  // Tokens whose KV a slot holds (tests and diagnostics; stepping thread only).
  const std::vector<int32_t>& slot_cache(int32_t slot) const { return slots_.at(size_t(slot)).cache; }

 private:
  struct Slot {
    int32_t seq = -1;                 // KV cache sequence
    std::vector<int32_t> cache;       // tokens whose K/V are in `seq`, positions 0..size-1
    std::shared_ptr<Request> req;     // null when idle
    size_t prompt_done = 0;           // prompt tokens in the cache
    int32_t pending = -1;             // sampled token not yet fed (decode state)
    int32_t n_generated = 0;
    int32_t budget = 0;               // tokens this request may still sample in total
    std::unique_ptr<sampling::Sampler> sampler;
    uint64_t last_used = 0;           // admission counter, for least-recently-used choice
    uint64_t admitted_order = 0;
    Result result;
  };

  void admit();
  void finish(Slot& s, FinishReason reason, std::string error = {});
  void finish_unstarted(const std::shared_ptr<Request>& r, FinishReason reason, std::string error);
  void publish_stats();

  std::shared_ptr<model::Model> model_;
  SchedulerOptions opt_;
  int32_t n_vocab_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  model::ForwardEnv env_;
  std::unique_ptr<KvCache> cache_;
  std::vector<Slot> slots_;
  uint64_t admissions_ = 0;

  // Incoming queue, shared with submitting threads.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Request>> queue_;
  bool woken_ = false;
  SchedulerStats stats_;  // guarded by mu_

  // Per-step buffers (stepping thread only).
  model::Batch batch_;
  model::KvView view_;
  std::vector<int32_t> batch_seqs_;   // [n sequences in the batch] KV sequence ids
  std::vector<int32_t> batch_slots_;  // [n sequences in the batch] slot index
  std::vector<float> logits_;         // [n rows wanting logits, n_vocab] f32
};

}  // namespace hearth::engine
