// Single-sequence session over the batched forward.
#include "engine/session.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"

namespace hearth::engine {

Session::Session(std::shared_ptr<model::Model> model, const SessionOptions& opt)
    : model_(std::move(model)), n_ctx_(opt.n_ctx), n_batch_(std::max(1, opt.n_batch)) {
  const int threads = opt.threads > 0 ? opt.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  if (n_ctx_ <= 0) fail("context size must be positive");
  pool_ = std::make_unique<ThreadPool>(threads);
  cache_ = std::make_unique<KvCache>(KvCache::shape_of(model_->hparams()), n_ctx_);
  seq_ = cache_->create_seq();
  env_.pool = pool_.get();
  env_.kernels = &kernels::active_table();
  env_.trace = opt.trace;
}

Session::~Session() = default;

int32_t Session::n_past() const { return cache_->length(seq_); }
int Session::threads() const { return pool_->size(); }

const std::vector<float>& Session::eval(std::span<const int32_t> tokens, bool all_logits) {
  const int64_t n_vocab = model_->hparams().n_vocab;
  const int32_t start = n_past();
  if (int64_t(start) + int64_t(tokens.size()) > n_ctx_)
    fail("the prompt is too long: ", start + tokens.size(), " tokens do not fit in the context of ",
         n_ctx_, " (use a larger --ctx)");
  for (int32_t t : tokens)
    if (t < 0 || t >= n_vocab) fail("token id ", t, " is outside the vocabulary (", n_vocab, ")");
  // One batch (every decode step) swaps the step's logits in below; clearing logits_ first
  // would hand forward() an empty buffer to zero-fill again on the next step.
  const bool one_batch = !tokens.empty() && tokens.size() <= size_t(n_batch_);
  if (!one_batch) {
    logits_.clear();
    if (all_logits) logits_.reserve(tokens.size() * size_t(n_vocab));
  }
  const int32_t seqs[1] = {seq_};
  for (size_t off = 0; off < tokens.size(); off += size_t(n_batch_)) {
    const size_t n = std::min(tokens.size() - off, size_t(n_batch_));
    const int32_t pos0 = start + int32_t(off);
    cache_->extend(seq_, pos0 + int32_t(n));
    batch_.clear();
    for (size_t i = 0; i < n; ++i)
      batch_.add(tokens[off + i], pos0 + int32_t(i), 0, all_logits || off + i + 1 == tokens.size());
    cache_->fill_view(seqs, view_);
    model_->forward(env_, batch_, view_, step_logits_);
    if (one_batch)
      logits_.swap(step_logits_);  // no copy of n_vocab floats per decode step
    else if (all_logits || off + n == tokens.size())
      logits_.insert(logits_.end(), step_logits_.begin(), step_logits_.end());
  }
  return logits_;
}

void Session::truncate(int32_t n) { cache_->truncate(seq_, n); }

}  // namespace hearth::engine
