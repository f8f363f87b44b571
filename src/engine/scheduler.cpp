// The batched scheduler: slot choice with prefix reuse, the per-step token budget, one forward
// per step, sampling and request bookkeeping. Must not know about text, HTTP or templates.
#include "engine/scheduler.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"

namespace hearth::engine {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kEog: return "eog";
    case FinishReason::kLength: return "length";
    case FinishReason::kStopped: return "stopped";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "?";
}

Scheduler::Scheduler(std::shared_ptr<model::Model> model, const SchedulerOptions& opt)
    : model_(std::move(model)), opt_(opt) {
  if (!model_) fail("scheduler: no model");
  n_vocab_ = int32_t(model_->hparams().n_vocab);
  if (opt_.n_slots < 1) fail("--parallel must be >= 1 (got ", opt_.n_slots, ")");
  if (opt_.n_ctx < 2) fail("--ctx must be >= 2 (got ", opt_.n_ctx, ")");
  if (opt_.n_ctx > std::numeric_limits<int32_t>::max() / 2) fail("--ctx is too large (", opt_.n_ctx, ")");
  if (opt_.n_batch < 1) fail("--batch must be >= 1 (got ", opt_.n_batch, ")");
  // Every generating slot feeds one token per step, so the budget can never be below n_slots.
  opt_.n_batch = std::max(opt_.n_batch, opt_.n_slots);
  if (opt_.env) {
    env_ = *opt_.env;
  } else {
    const int threads = opt_.threads > 0 ? opt_.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    pool_ = std::make_unique<ThreadPool>(threads);
    env_.pool = pool_.get();
    env_.kernels = &kernels::active_table();
  }
  // Room for every slot's whole context: admission never fails for lack of blocks. Prefix
  // sharing (fork) only lowers the count, and copy-on-write replaces a block one for one.
  const int64_t bs = opt_.kv_block_size;
  const int64_t blocks_per_slot = (opt_.n_ctx + bs - 1) / bs;
  cache_ = std::make_unique<KvCache>(KvCache::shape_of(model_->hparams()),
                                     blocks_per_slot * bs * opt_.n_slots, opt_.kv_block_size);
  slots_.resize(size_t(opt_.n_slots));
  for (Slot& s : slots_) s.seq = cache_->create_seq();
  stats_.n_slots = opt_.n_slots;
  stats_.kv_blocks_total = cache_->n_blocks();
}

Scheduler::~Scheduler() = default;

void Scheduler::submit(std::shared_ptr<Request> req) {
  if (!req) fail("scheduler: null request");
  if (req->prompt.empty()) fail("the prompt is empty (no tokens)");
  for (int32_t t : req->prompt)
    if (t < 0 || t >= n_vocab_) fail("prompt token id ", t, " is outside the vocabulary [0, ", n_vocab_, ")");
  if (int64_t(req->prompt.size()) >= opt_.n_ctx)
    fail("the prompt has ", req->prompt.size(), " tokens but the context of a slot holds ", opt_.n_ctx,
         " (prompt and at least one generated token must fit)");
  sampling::validate(req->params.sampling, n_vocab_);
  if (req->params.n_logprobs > n_vocab_)
    fail("logprobs: ", req->params.n_logprobs, " is more than the vocabulary (", n_vocab_, ")");
  req->submitted_ = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(req));
  }
  cv_.notify_one();
}

void Scheduler::wait_for_work(std::chrono::milliseconds timeout) {
  const bool busy = std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.req != nullptr; });
  if (busy) return;
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return woken_ || !queue_.empty(); });
  woken_ = false;
}

void Scheduler::wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool Scheduler::idle() const {
  for (const Slot& s : slots_)
    if (s.req) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SchedulerStats s = stats_;
  s.queue_depth = int32_t(queue_.size());
  return s;
}

void Scheduler::publish_stats() {
  int32_t busy = 0;
  for (const Slot& s : slots_) busy += s.req ? 1 : 0;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.slots_busy = busy;
  stats_.kv_blocks_used = cache_->n_blocks() - cache_->free_blocks();
}

void Scheduler::finish_unstarted(const std::shared_ptr<Request>& r, FinishReason reason, std::string error) {
  Result res;
  res.reason = reason;
  res.error = std::move(error);
  res.n_prompt = int32_t(r->prompt.size());
  res.total_s = seconds_since(r->submitted_);
  res.queue_s = res.total_s;
  if (r->on_finish) {
    try {
      r->on_finish(res);
    } catch (...) {
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.requests_finished;
}

void Scheduler::finish(Slot& s, FinishReason reason, std::string error) {
  std::shared_ptr<Request> r = std::move(s.req);
  s.req.reset();
  // The KV cache keeps exactly the tokens in s.cache (a failed forward may have written more).
  cache_->truncate(s.seq, int32_t(s.cache.size()));
  s.pending = -1;
  s.sampler.reset();
  s.last_used = ++admissions_;
  Result res = s.result;
  res.reason = reason;
  res.error = std::move(error);
  res.n_generated = s.n_generated;
  res.total_s = seconds_since(r->submitted_);
  if (r->on_finish) {
    try {
      r->on_finish(res);
    } catch (...) {
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.requests_finished;
}

void Scheduler::cancel_all() {
  for (Slot& s : slots_)
    if (s.req) finish(s, FinishReason::kCancelled);
  std::deque<std::shared_ptr<Request>> q;
  {
    std::lock_guard<std::mutex> lock(mu_);
    q.swap(queue_);
  }
  for (auto& r : q) finish_unstarted(r, FinishReason::kCancelled, {});
  publish_stats();
}

void Scheduler::admit() {
  for (;;) {
    // A free slot first: requests wait in the queue (in order) until one is free.
    Slot* free_slot = nullptr;
    for (Slot& s : slots_)
      if (!s.req) free_slot = &s;
    if (!free_slot) return;
    std::shared_ptr<Request> r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) return;
      r = std::move(queue_.front());
      queue_.pop_front();
    }
    if (r->cancelled()) {
      finish_unstarted(r, FinishReason::kCancelled, {});
      continue;
    }
    const std::vector<int32_t>& prompt = r->prompt;
    // The free slot whose cache shares the longest prefix with the prompt (ties: least recently
    // used, so a conversation that comes back finds its slot untouched as long as possible).
    Slot* best = nullptr;
    size_t best_lcp = 0;
    for (Slot& s : slots_) {
      if (s.req) continue;
      const size_t l = common_prefix(s.cache, prompt);
      if (!best || l > best_lcp || (l == best_lcp && s.last_used < best->last_used)) {
        best = &s;
        best_lcp = l;
      }
    }
    // Any other slot (busy or not) holding a longer prefix lends it by reference (fork).
    const Slot* donor = nullptr;
    size_t donor_lcp = best_lcp;
    for (const Slot& s : slots_) {
      if (&s == best) continue;
      const size_t l = common_prefix(s.cache, prompt);
      if (l > donor_lcp) {
        donor = &s;
        donor_lcp = l;
      }
    }
    Slot& s = *best;
    // At least the last prompt token goes through the forward: its logits give the first token.
    const size_t limit = prompt.size() - 1;
    size_t reuse;
    if (donor) {
      reuse = std::min(donor_lcp, limit);
      cache_->free_seq(s.seq);
      s.seq = cache_->fork(donor->seq, int32_t(reuse));
      s.cache.assign(donor->cache.begin(), donor->cache.begin() + ptrdiff_t(reuse));
    } else {
      reuse = std::min(best_lcp, limit);
      cache_->truncate(s.seq, int32_t(reuse));
      s.cache.resize(reuse);
    }
    s.req = std::move(r);
    s.prompt_done = reuse;
    s.pending = -1;
    s.n_generated = 0;
    s.admitted_order = ++admissions_;
    s.last_used = s.admitted_order;
    const int64_t room = opt_.n_ctx - int64_t(prompt.size());
    const GenParams& gp = s.req->params;
    s.budget = int32_t(gp.max_tokens < 0 ? room : std::min<int64_t>(gp.max_tokens, room));
    s.result = Result{};
    s.result.n_prompt = int32_t(prompt.size());
    s.result.n_reused = int32_t(reuse);
    s.result.queue_s = seconds_since(s.req->submitted_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.prompt_tokens += prompt.size();
      stats_.prompt_tokens_reused += reuse;
    }
    try {
      s.sampler = std::make_unique<sampling::Sampler>(gp.sampling, n_vocab_);
      for (int32_t t : prompt) s.sampler->accept(t);
    } catch (const std::exception& e) {
      finish(s, FinishReason::kError, e.what());
      continue;
    }
    if (s.budget <= 0) finish(s, FinishReason::kLength);
  }
}

bool Scheduler::step() {
  const auto t0 = Clock::now();
  admit();
  for (Slot& s : slots_)
    if (s.req && s.req->cancelled()) finish(s, FinishReason::kCancelled);

  batch_.clear();
  batch_seqs_.clear();
  batch_slots_.clear();
  std::vector<int32_t> fed(slots_.size(), 0);  // tokens each slot feeds this step
  auto seq_index = [&](size_t slot) {
    for (size_t i = 0; i < batch_slots_.size(); ++i)
      if (batch_slots_[i] == int32_t(slot)) return int32_t(i);
    batch_slots_.push_back(int32_t(slot));
    batch_seqs_.push_back(slots_[slot].seq);
    return int32_t(batch_slots_.size() - 1);
  };
  int32_t budget = opt_.n_batch;
  // Decode first: every generating slot advances by one token each step, whatever is prefilling.
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (!s.req || s.pending < 0) continue;
    batch_.add(s.pending, int32_t(s.cache.size()), seq_index(i), true);
    fed[i] = 1;
    --budget;
  }
  // Then prefill chunks, oldest admission first, until the budget is spent.
  std::vector<size_t> prefill;
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].req && slots_[i].pending < 0 && slots_[i].prompt_done < slots_[i].req->prompt.size())
      prefill.push_back(i);
  std::sort(prefill.begin(), prefill.end(),
            [&](size_t a, size_t b) { return slots_[a].admitted_order < slots_[b].admitted_order; });
  for (size_t i : prefill) {
    if (budget <= 0) break;
    Slot& s = slots_[i];
    const std::vector<int32_t>& p = s.req->prompt;
    const size_t n = std::min(size_t(budget), p.size() - s.prompt_done);
    const int32_t si = seq_index(i);
    for (size_t k = 0; k < n; ++k) {
      const size_t j = s.prompt_done + k;
      batch_.add(p[j], int32_t(j), si, j + 1 == p.size());
    }
    fed[i] = int32_t(n);
    budget -= int32_t(n);
  }
  if (batch_.size() == 0) {
    publish_stats();
    return false;
  }

  // Positions for the new tokens, then the forward.
  std::string forward_error;
  try {
    for (size_t k = 0; k < batch_slots_.size(); ++k) {
      const Slot& s = slots_[size_t(batch_slots_[k])];
      cache_->extend(s.seq, int32_t(s.cache.size()) + fed[size_t(batch_slots_[k])]);
    }
    cache_->fill_view(batch_seqs_, view_);
    model_->forward(env_, batch_, view_, logits_);
  } catch (const std::exception& e) {
    forward_error = e.what();
  }
  if (!forward_error.empty()) {
    for (int32_t si : batch_slots_)
      if (slots_[size_t(si)].req) finish(slots_[size_t(si)], FinishReason::kError, forward_error);
    publish_stats();
    return true;
  }

  uint64_t computed = 0, generated = 0;
  for (size_t t = 0; t < batch_.size(); ++t) {
    Slot& s = slots_[size_t(batch_slots_[size_t(batch_.seq[t])])];
    s.cache.push_back(batch_.tokens[t]);
    if (s.pending >= 0) {
      s.pending = -1;
    } else {
      ++s.prompt_done;
      ++computed;
    }
  }

  size_t row = 0;
  for (size_t t = 0; t < batch_.size(); ++t) {
    if (!batch_.want_logits[t]) continue;
    const float* logits = logits_.data() + row * size_t(n_vocab_);
    ++row;
    Slot& s = slots_[size_t(batch_slots_[size_t(batch_.seq[t])])];
    if (!s.req) continue;
    const GenParams& gp = s.req->params;
    TokenEvent ev;
    try {
      ev.token = s.sampler->sample(logits);
      s.sampler->accept(ev.token);
      if (gp.n_logprobs >= 0) {
        ev.logprob = sampling::logprob_of(logits, n_vocab_, ev.token);
        ev.top = sampling::top_logprobs(logits, n_vocab_, gp.n_logprobs);
      }
    } catch (const std::exception& e) {
      finish(s, FinishReason::kError, e.what());
      continue;
    }
    ev.index = s.n_generated;
    ev.eog = opt_.is_eog && opt_.is_eog(ev.token);
    ++s.n_generated;
    ++generated;
    if (s.n_generated == 1) s.result.ttft_s = seconds_since(s.req->submitted_);
    bool keep = true;
    if (s.req->on_token) {
      try {
        keep = s.req->on_token(ev);
      } catch (const std::exception& e) {
        finish(s, FinishReason::kError, e.what());
        continue;
      }
    }
    if (!keep) finish(s, FinishReason::kStopped);
    else if (ev.eog && !gp.ignore_eos) finish(s, FinishReason::kEog);
    else if (s.n_generated >= s.budget) finish(s, FinishReason::kLength);
    else s.pending = ev.token;
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.steps;
    stats_.prompt_tokens_computed += computed;
    stats_.generated_tokens += generated;
    stats_.busy_s += seconds_since(t0);
  }
  publish_stats();
  return true;
}

}  // namespace hearth::engine
