// Sampler chain and log-softmax helpers (see sampler.h, docs/SAMPLING.md).
// Must stay allocation-free per token after construction and must not depend on anything but core/.
#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace hearth::sampling {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
// Bounds the ring buffer allocation; a window this long already spans any real context.
constexpr int32_t kMaxPenaltyLastN = 1 << 24;
// top-k uses a bounded heap when k <= n / kHeapTopKRatio, else nth_element.
constexpr size_t kHeapTopKRatio = 16;

bool is_finite(float x) { return std::isfinite(x); }

// A logit may be finite or -inf (masked); NaN and +inf make softmax meaningless.
void check_logit(float l, int32_t i, const char* what) {
  if (std::isnan(l) || l == kInf) fail(what, ": logits[", i, "] is ", l, " (must be finite or -inf)");
}

// log(sum(exp(logits))) with the sum in double. Validates the row.
double log_sum_exp(const float* logits, int32_t n_vocab, const char* what) {
  if (logits == nullptr) fail(what, ": logits is null");
  if (n_vocab <= 0) fail(what, ": n_vocab must be > 0 (got ", n_vocab, ")");
  float m = -kInf;
  for (int32_t i = 0; i < n_vocab; ++i) {
    check_logit(logits[i], i, what);
    m = std::max(m, logits[i]);
  }
  if (m == -kInf) fail(what, ": every logit is -inf");
  double sum = 0.0;
  const double md = m;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i]) - md);
  return md + std::log(sum);
}

}  // namespace

void validate(const Params& p, int32_t n_vocab) {
  if (n_vocab <= 0) fail("sampling: n_vocab must be > 0 (got ", n_vocab, ")");
  if (!is_finite(p.temperature))
    fail("sampling: temperature must be a finite number (got ", p.temperature, ")");
  if (!(p.top_p >= 0.0f && p.top_p <= 1.0f))
    fail("sampling: top_p must be in [0, 1] (got ", p.top_p, ")");
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f))
    fail("sampling: min_p must be in [0, 1] (got ", p.min_p, ")");
  if (!(is_finite(p.repeat_penalty) && p.repeat_penalty > 0.0f))
    fail("sampling: repeat_penalty must be finite and > 0 (got ", p.repeat_penalty, ")");
  if (p.penalty_last_n < 0)
    fail("sampling: penalty_last_n must be >= 0 (got ", p.penalty_last_n,
         "; resolve llama.cpp's -1 = context size before building the sampler)");
  if (p.penalty_last_n > kMaxPenaltyLastN)
    fail("sampling: penalty_last_n must be <= ", kMaxPenaltyLastN, " (got ", p.penalty_last_n, ")");
  if (!is_finite(p.presence_penalty))
    fail("sampling: presence_penalty must be finite (got ", p.presence_penalty, ")");
  if (!is_finite(p.frequency_penalty))
    fail("sampling: frequency_penalty must be finite (got ", p.frequency_penalty, ")");
  for (const auto& [token, bias] : p.logit_bias) {
    if (token < 0 || token >= n_vocab)
      fail("sampling: logit_bias token ", token, " is out of range [0, ", n_vocab, ")");
    if (std::isnan(bias) || bias == kInf)
      fail("sampling: logit_bias for token ", token, " must be finite or -inf (got ", bias, ")");
  }
}

Sampler::Sampler(const Params& params, int32_t n_vocab) : params_(params), n_vocab_(n_vocab) {
  validate(params_, n_vocab_);
  // Duplicate entries add up, as llama.cpp's logit-bias sampler applies each entry in turn.
  bias_ = params_.logit_bias;
  std::sort(bias_.begin(), bias_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t w = 0;
  for (size_t r = 0; r < bias_.size(); ++r) {
    if (w > 0 && bias_[w - 1].first == bias_[r].first) {
      bias_[w - 1].second += bias_[r].second;
    } else {
      bias_[w++] = bias_[r];
    }
  }
  bias_.resize(w);

  const bool penalties_active = params_.repeat_penalty != 1.0f ||
                                params_.frequency_penalty != 0.0f ||
                                params_.presence_penalty != 0.0f;
  if (params_.penalty_last_n > 0 && penalties_active) {  // otherwise accept() only validates
    ring_.assign(size_t(params_.penalty_last_n), 0);
    counts_.assign(size_t(n_vocab_), 0);
  }
  cand_.resize(size_t(n_vocab_));
  scratch_.resize(size_t(n_vocab_));
  bucket_mass_.resize(size_t(kTopPBuckets) + 1);
  bucket_count_.resize(size_t(kTopPBuckets) + 1);
  weight_.resize(size_t(n_vocab_));
  dist_.reserve(size_t(n_vocab_));
  reset();
}

void Sampler::reset() {
  for (size_t k = 0; k < ring_size_; ++k) counts_[size_t(ring_[k])] = 0;
  ring_pos_ = 0;
  ring_size_ = 0;
  rng_.seed_with(params_.seed);
  has_sample_ = false;
  n_ = 0;
  dist_.clear();
  dist_ready_ = false;
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_)
    fail("sampling: accepted token ", token, " is out of range [0, ", n_vocab_, ")");
  if (ring_.empty()) return;
  if (ring_size_ == ring_.size()) {
    --counts_[size_t(ring_[ring_pos_])];  // the oldest entry leaves the window
  } else {
    ++ring_size_;
  }
  ring_[ring_pos_] = token;
  ++counts_[size_t(token)];
  ring_pos_ = (ring_pos_ + 1) % ring_.size();
}

bool Sampler::penalties_active() const {
  return ring_size_ > 0 && (params_.repeat_penalty != 1.0f || params_.frequency_penalty != 0.0f ||
                            params_.presence_penalty != 0.0f);
}

// llama.cpp's penalties sampler: for each distinct token in the window (count c > 0), first the
// repetition penalty (divide a positive logit, multiply a non-positive one), then
// logit -= c * frequency + presence. Float arithmetic in llama.cpp's order.
void Sampler::apply_penalties() {
  const float rep = params_.repeat_penalty;
  const float freq = params_.frequency_penalty;
  const float pres = params_.presence_penalty;
  if (!penalties_active()) return;
  // A token occurs up to c times in the ring but is penalized once: negate its count as a
  // "done" mark, then restore the signs in a second pass (no extra buffer).
  for (size_t k = 0; k < ring_size_; ++k) {
    const size_t t = size_t(ring_[k]);
    const int32_t c = counts_[t];
    if (c <= 0) continue;
    float& l = cand_[t].logit;  // cand_ is still in id order here
    if (l <= 0.0f) {
      l *= rep;
    } else {
      l /= rep;
    }
    l -= float(c) * freq + pres;
    counts_[t] = -c;
  }
  for (size_t k = 0; k < ring_size_; ++k) {
    const size_t t = size_t(ring_[k]);
    if (counts_[t] < 0) counts_[t] = -counts_[t];
  }
}

// The k best of n candidates get(0..n-1) into h[0, k), in heap order: with ranks_before as the
// heap's less-than, h[0] is the worst kept candidate, and each candidate costs one comparison
// with it unless it ranks better.
template <typename Get>
void Sampler::heap_top_k(Candidate* h, size_t k, size_t n, Get&& get) {
  for (size_t i = 0; i < k; ++i) h[i] = get(i);
  std::make_heap(h, h + k, ranks_before);
  for (size_t i = k; i < n; ++i) {
    const Candidate c = get(i);
    if (c.logit >= h[0].logit && ranks_before(c, h[0])) {  // most fail the first test
      std::pop_heap(h, h + k, ranks_before);
      h[k - 1] = c;
      std::push_heap(h, h + k, ranks_before);
    }
  }
}

// Keeps the k best candidates in ranks_before order. For small k a bounded heap costs one
// comparison per token for most of the vocabulary; for large k nth_element is cheaper.
void Sampler::apply_top_k(size_t k) {
  Candidate* c = cand_.data();
  if (k * kHeapTopKRatio > n_) {
    std::nth_element(c, c + k, c + n_, ranks_before);
  } else {
    Candidate* h = scratch_.data();
    heap_top_k(h, k, n_, [&](size_t i) { return c[i]; });
    std::copy(h, h + k, c);
  }
  std::sort(c, c + k, ranks_before);
  n_ = k;
  sorted_ = true;
}

// Top-p on a set already in ranks_before order: the shortest prefix whose mass reaches top_p.
void Sampler::apply_top_p_sorted(double top_p) {
  const double md = cand_[0].logit;
  double sum = 0.0;
  for (size_t i = 0; i < n_; ++i) sum += std::exp(double(cand_[i].logit) - md);
  double cum = 0.0;
  for (size_t i = 0; i < n_; ++i) {
    cum += std::exp(double(cand_[i].logit) - md) / sum;
    if (cum >= top_p) {
      n_ = i + 1;
      return;
    }
  }
}

// Top-p on an unsorted set (the whole vocabulary): the same cut as apply_top_p_sorted, found
// without sorting the vocabulary. A histogram of the mass by (max - logit) finds the bucket the
// cut falls in; every better bucket is kept whole, and only the cut bucket is sorted to place the
// cut exactly. The survivors keep their id order (sorted_ stays false).
void Sampler::apply_top_p_unsorted(double top_p) {
  const double md = max_logit();
  const auto bucket_of = [md](float logit) -> size_t {
    const double d = md - double(logit);  // >= 0; +inf for masked tokens
    return d < double(kTopPBuckets) / kTopPBucketsPerNat ? size_t(d * kTopPBucketsPerNat)
                                                          : size_t(kTopPBuckets);
  };
  std::fill(bucket_mass_.begin(), bucket_mass_.end(), 0.0);
  std::fill(bucket_count_.begin(), bucket_count_.end(), 0u);
  double sum = 0.0;
  for (size_t i = 0; i < n_; ++i) {
    const double w = std::exp(double(cand_[i].logit) - md);
    const size_t b = bucket_of(cand_[i].logit);
    bucket_mass_[b] += w;
    ++bucket_count_[b];
    sum += w;
  }
  // Walk the buckets best first; inside the bucket that reaches top_p, walk its sorted members.
  // If rounding keeps a bucket's members from reaching top_p, move on to the next bucket.
  double cum = 0.0;
  for (size_t b = 0; b <= size_t(kTopPBuckets); ++b) {
    if (bucket_count_[b] == 0) continue;
    if (cum + bucket_mass_[b] / sum < top_p && b < size_t(kTopPBuckets)) {
      cum += bucket_mass_[b] / sum;
      continue;
    }
    Candidate* members = scratch_.data();
    size_t m = 0;
    for (size_t i = 0; i < n_; ++i) {
      if (bucket_of(cand_[i].logit) == b) members[m++] = cand_[i];
    }
    std::sort(members, members + m, ranks_before);
    for (size_t j = 0; j < m; ++j) {
      cum += std::exp(double(members[j].logit) - md) / sum;
      if (cum >= top_p) {
        // Keep every candidate of a better bucket, and this bucket's members up to the cut.
        const Candidate last = members[j];
        size_t w = 0;
        for (size_t i = 0; i < n_; ++i) {
          const size_t bi = bucket_of(cand_[i].logit);
          if (bi < b || (bi == b && !ranks_before(last, cand_[i]))) cand_[w++] = cand_[i];
        }
        n_ = w;
        return;
      }
    }
  }
  // The mass never reached top_p (rounding with top_p close to 1): everything stays.
}

float Sampler::max_logit() const {
  if (sorted_) return cand_[0].logit;
  float m = -kInf;
  for (size_t i = 0; i < n_; ++i) m = std::max(m, cand_[i].logit);
  return m;
}

int32_t Sampler::finish_greedy(Candidate best) {
  cand_[0] = best;
  n_ = 1;
  sorted_ = true;
  weight_[0] = 1.0;
  final_max_ = best.logit;
  final_temp_ = 1.0;
  final_total_ = 1.0;
  has_sample_ = true;
  return best.id;
}

int32_t Sampler::sample(const float* logits) {
  if (logits == nullptr) fail("sampling: logits is null");
  has_sample_ = false;
  dist_ready_ = false;
  // Nothing changes the logits before top-k (the default chain, and plain greedy): the row is
  // read once, straight from the logits, without filling the candidate array. NaN / +inf only
  // set a flag on the way (no call set-up per logit); the row is then checked again to name the
  // bad logit. Same tokens as the general path below (a test compares them).
  const bool plain = bias_.empty() && !penalties_active();
  bool bad = false;
  auto read = [&](size_t i) {
    const float v = logits[i];
    bad |= !(v < kInf);  // NaN or +inf
    return Candidate{int32_t(i), v};
  };
  auto check_row = [&] {
    if (bad)
      for (int32_t i = 0; i < n_vocab_; ++i) check_logit(logits[i], i, "sampling");
  };
  if (plain && !(params_.temperature > 0.0f)) {
    // Greedy: the running maximum in registers (lowest id on ties): 101 instead of 287 us per
    // token for a 151936-token vocabulary.
    Candidate best{-1, -kInf};
    for (size_t i = 0; i < size_t(n_vocab_); ++i) {
      const Candidate c = read(i);
      if (c.logit > best.logit) best = c;
    }
    check_row();
    if (best.id < 0) fail("sampling: every token has logit -inf after logit_bias and penalties");
    return finish_greedy(best);
  }
  // Top-k first: the k best go straight into the bounded heap (310 -> 130 us per token with the
  // default parameters at 151936 tokens); same survivors, in the same order, as apply_top_k.
  const bool top_k_first = plain && params_.top_k > 0 &&
                           size_t(params_.top_k) * kHeapTopKRatio <= size_t(n_vocab_);
  if (top_k_first) {
    const size_t k = size_t(params_.top_k);
    heap_top_k(scratch_.data(), k, size_t(n_vocab_), read);
    check_row();
    std::sort(scratch_.begin(), scratch_.begin() + ptrdiff_t(k), ranks_before);
    std::copy(scratch_.begin(), scratch_.begin() + ptrdiff_t(k), cand_.begin());
    n_ = k;
    sorted_ = true;
  } else {
    for (int32_t i = 0; i < n_vocab_; ++i) {
      check_logit(logits[i], i, "sampling");
      cand_[size_t(i)] = Candidate{i, logits[i]};
    }
    n_ = size_t(n_vocab_);
    sorted_ = false;
  }

  // 1. logit bias, 2. penalties (both index cand_ by id, so they run before any reordering;
  // neither is active when top_k_first ran).
  if (!top_k_first) {
    for (const auto& [token, bias] : bias_) cand_[size_t(token)].logit += bias;
    apply_penalties();
  }

  const float m = max_logit();
  if (m == -kInf) fail("sampling: every token has logit -inf after logit_bias and penalties");
  if (m == kInf) fail("sampling: a logit overflowed to +inf after logit_bias and penalties");

  if (!(params_.temperature > 0.0f)) {
    // Greedy: argmax of the biased/penalized logits, lowest id on ties. The filters below always
    // keep the argmax, so skipping them gives the same token as running them (llama.cpp runs them).
    size_t best = 0;
    for (size_t i = 1; i < n_; ++i) {
      if (cand_[i].logit > cand_[best].logit) best = i;
    }
    return finish_greedy(cand_[best]);
  }

  // 3. top-k: keep the k best in ranks_before order (ties at the cut go to lower ids).
  if (!top_k_first && params_.top_k > 0 && size_t(params_.top_k) < n_) apply_top_k(size_t(params_.top_k));

  // 4. top-p on softmax(logits) at temperature 1: keep the shortest prefix (in ranks_before order)
  // whose probability mass reaches top_p.
  if (params_.top_p < 1.0f) {
    if (sorted_) {
      apply_top_p_sorted(double(params_.top_p));
    } else {
      apply_top_p_unsorted(double(params_.top_p));
    }
  }

  // 5. min-p: keep tokens with p >= min_p * p_max, i.e. logit - max >= log(min_p), at temperature 1.
  if (params_.min_p > 0.0f) {
    const double md = max_logit();
    const double min_delta = std::log(double(params_.min_p));
    if (sorted_) {
      size_t i = 1;
      while (i < n_ && double(cand_[i].logit) - md >= min_delta) ++i;
      n_ = i;
    } else {
      size_t w = 0;  // in-place compaction keeps id order
      for (size_t i = 0; i < n_; ++i) {
        if (double(cand_[i].logit) - md >= min_delta) cand_[w++] = cand_[i];
      }
      n_ = w;
    }
  }

  // 6. temperature and the draw: weights exp((l - max) / T) in double; walk them in the
  // candidates' order (ranks_before when sorted, else id order: both are fixed orders) until the
  // running sum passes u * total. Exactly one RNG draw per non-greedy sample().
  const double md = max_logit();
  const double temp = params_.temperature;
  double total = 0.0;
  for (size_t i = 0; i < n_; ++i) {
    const double w = std::exp((double(cand_[i].logit) - md) / temp);
    weight_[i] = w;
    total += w;
  }
  final_max_ = md;
  final_temp_ = temp;
  final_total_ = total;
  has_sample_ = true;

  const double target = rng_.uniform() * total;
  double cum = 0.0;
  size_t last_positive = 0;
  for (size_t i = 0; i < n_; ++i) {
    if (weight_[i] <= 0.0) continue;  // zero weight (-inf or underflow) is never drawn
    cum += weight_[i];
    last_positive = i;
    if (cum > target) return cand_[i].id;
  }
  // Only reachable when u * total rounds up to total.
  return cand_[last_positive].id;
}

std::span<const std::pair<int32_t, float>> Sampler::last_distribution() const {
  if (!has_sample_) return {};
  if (!dist_ready_) {
    if (!sorted_) {
      std::sort(cand_.begin(), cand_.begin() + ptrdiff_t(n_), ranks_before);
      sorted_ = true;
    }
    dist_.clear();
    // Recomputes the weights with the same operations as sample(), so they are bit-identical.
    for (size_t i = 0; i < n_; ++i) {
      const double w = std::exp((double(cand_[i].logit) - final_max_) / final_temp_);
      if (w > 0.0) dist_.emplace_back(cand_[i].id, float(w / final_total_));
    }
    dist_ready_ = true;
  }
  return {dist_.data(), dist_.size()};
}

std::vector<std::pair<int32_t, float>> top_logprobs(const float* logits, int32_t n_vocab, int32_t k) {
  if (k < 0) fail("top_logprobs: k must be >= 0 (got ", k, ")");
  const double lse = log_sum_exp(logits, n_vocab, "top_logprobs");
  const size_t kk = size_t(std::min(k, n_vocab));
  // Bounded heap of the best kk so far; with "ranks before" as the heap's less-than, its front is
  // the worst kept entry, the one a better newcomer evicts. O(n log k), no n-sized buffer.
  using Entry = std::pair<int32_t, float>;
  const auto better = [](const Entry& a, const Entry& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  std::vector<Entry> heap;
  heap.reserve(kk);
  if (kk > 0) {
    for (int32_t i = 0; i < n_vocab; ++i) {
      const Entry e{i, logits[i]};
      if (heap.size() < kk) {
        heap.push_back(e);
        std::push_heap(heap.begin(), heap.end(), better);
      } else if (better(e, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), better);
        heap.back() = e;
        std::push_heap(heap.begin(), heap.end(), better);
      }
    }
  }
  std::sort_heap(heap.begin(), heap.end(), better);  // best first
  for (Entry& e : heap) e.second = float(double(e.second) - lse);
  return heap;
}

float logprob_of(const float* logits, int32_t n_vocab, int32_t token) {
  const double lse = log_sum_exp(logits, n_vocab, "logprob_of");
  if (token < 0 || token >= n_vocab)
    fail("logprob_of: token ", token, " is out of range [0, ", n_vocab, ")");
  return float(double(logits[token]) - lse);
}

}  // namespace hearth::sampling
