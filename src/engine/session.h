// A single-sequence inference session: the model, a thread pool, a KV cache and one sequence.
// Feeds tokens through the one batched forward path (prefill in chunks, decode one at a time).
// Used by `run`, `logprobs`, `bench` and the terminal chat; the server's scheduler drives the
// same forward with many sequences.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "engine/kv_cache.h"
#include "model/model.h"

namespace hearth {
class ThreadPool;
}

namespace hearth::engine {

struct SessionOptions {
  int threads = 0;         // 0: all cores
  int64_t n_ctx = 4096;    // context (positions) of the sequence
  int32_t n_batch = 512;   // tokens per forward during prefill
  model::TraceFn trace;    // named-intermediate hook (debugging), may be empty
};

class Session {
 public:
  Session(std::shared_ptr<model::Model> model, const SessionOptions& opt);
  ~Session();

  model::Model& model() { return *model_; }
  int64_t n_ctx() const { return n_ctx_; }
  int32_t n_past() const;
  int threads() const;

  // Appends tokens to the sequence. Returns the logits after the last token [n_vocab], or
  // with all_logits the logits after every token [tokens.size(), n_vocab].
  // Throws hearth::Error (sequence unchanged) if the context would overflow.
  const std::vector<float>& eval(std::span<const int32_t> tokens, bool all_logits = false);
  // Forgets positions >= n (rollback / reuse of a common prefix).
  void truncate(int32_t n);
  void reset() { truncate(0); }

 private:
  std::shared_ptr<model::Model> model_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<KvCache> cache_;
  int32_t seq_ = -1;
  int64_t n_ctx_;
  int32_t n_batch_;
  model::ForwardEnv env_;
  model::Batch batch_;
  model::KvView view_;
  std::vector<float> step_logits_;
  std::vector<float> logits_;
};

}  // namespace hearth::engine
