// Sampler chain: turns one row of next-token logits into a token, seeded and reproducible, plus
// log-softmax helpers for logprobs. Depends only on core/; knows nothing of models or tokenizers.
// Chain, formulas and differences from llama.cpp: docs/SAMPLING.md.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "sampling/rng.h"

namespace hearth::sampling {

// Defaults are llama.cpp's common_params_sampling defaults.
struct Params {
  float temperature = 0.8f;   // <= 0: greedy (argmax, lowest id on ties); must not be NaN/inf
  int32_t top_k = 40;         // <= 0 or >= n_vocab: disabled
  float top_p = 0.95f;        // [0, 1]; 1: disabled
  float min_p = 0.05f;        // [0, 1]; 0: disabled
  float repeat_penalty = 1.0f;       // > 0; 1: disabled
  int32_t penalty_last_n = 64;       // window of accepted tokens the penalties look at; 0: disabled
  float presence_penalty = 0.0f;     // OpenAI: logit -= presence * (count > 0)
  float frequency_penalty = 0.0f;    // OpenAI: logit -= frequency * count
  uint64_t seed = 0;                 // always deterministic; callers wanting "random" pick a seed
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token, added to its logit); -inf bans
};

// Throws hearth::Error naming the first invalid field. Sampler's constructor calls it.
void validate(const Params& params, int32_t n_vocab);

// One per sequence; not thread-safe (last_distribution() sorts lazily into mutable buffers).
// Copyable: a copy continues the same RNG stream and penalty history (useful to fork a sequence).
class Sampler {
 public:
  // Top-p without top-k buckets the vocabulary by (max - logit) in steps of 1/16 nat up to 64 nats
  // (one more bucket holds the rest), so only the bucket holding the cut needs sorting.
  static constexpr int kTopPBucketsPerNat = 16;
  static constexpr int kTopPBuckets = 64 * kTopPBucketsPerNat;

  Sampler(const Params& params, int32_t n_vocab);

  // logits: [n_vocab] f32, read only. Runs bias -> penalties -> top-k -> top-p -> min-p ->
  // temperature -> draw and returns the token. Does NOT record it (call accept()). No heap
  // allocation. Throws hearth::Error on a NaN/+inf logit or when every token ends at -inf.
  int32_t sample(const float* logits);

  // Records a token (prompt or generated) in the penalty window. Throws on an id out of range.
  void accept(int32_t token);

  // Forgets the penalty history and the last distribution, and re-seeds the RNG with params.seed.
  void reset();

  // The distribution the last sample() drew from (after every filter and the temperature), as
  // (token, prob) sorted by prob desc, ties by lower id; zero-probability tokens are left out.
  // Greedy gives {(argmax, 1)}. Empty before the first sample() or after reset(). The span stays
  // valid until the next sample()/reset().
  std::span<const std::pair<int32_t, float>> last_distribution() const;

  const Params& params() const { return params_; }
  int32_t n_vocab() const { return n_vocab_; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
  };
  // The total order every selection uses: higher logit first, then lower id. Being total, it makes
  // nth_element/sort results independent of the standard library's algorithms.
  static bool ranks_before(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }

  // A penalty is configured and has accepted tokens to apply to.
  bool penalties_active() const;
  void apply_penalties();
  // The k best of n candidates get(i) into h[0, k) as a bounded heap (sampler.cpp).
  template <typename Get>
  static void heap_top_k(Candidate* h, size_t k, size_t n, Get&& get);
  // Records the greedy choice as the one-candidate distribution; returns its id.
  int32_t finish_greedy(Candidate best);
  void apply_top_k(size_t k);
  void apply_top_p_sorted(double top_p);
  void apply_top_p_unsorted(double top_p);
  float max_logit() const;  // over cand_[0, n_)

  Params params_;
  int32_t n_vocab_;
  std::vector<std::pair<int32_t, float>> bias_;  // deduplicated (summed) logit_bias, by token id
  Rng rng_;

  // Penalty window: ring of the last penalty_last_n accepted tokens and their counts.
  std::vector<int32_t> ring_;    // [penalty_last_n] token ids
  size_t ring_pos_ = 0;          // next write slot (= oldest entry when full)
  size_t ring_size_ = 0;
  std::vector<int32_t> counts_;  // [n_vocab] occurrences in the window (empty when disabled)

  // Working set of the last sample(); mutable because last_distribution() sorts it lazily.
  mutable std::vector<Candidate> cand_;  // [n_vocab]; the first n_ are the surviving candidates
  std::vector<Candidate> scratch_;       // [n_vocab] top-k heap / top-p boundary bucket
  std::vector<double> bucket_mass_;      // [kTopPBuckets + 1] top-p histogram of weights
  std::vector<uint32_t> bucket_count_;   // [kTopPBuckets + 1]
  std::vector<double> weight_;           // [n_vocab] exp((logit - max) / T) for the final draw
  size_t n_ = 0;
  mutable bool sorted_ = false;          // cand_[0, n_) is in ranks_before order
  bool has_sample_ = false;
  double final_max_ = 0.0;               // max logit of the final set
  double final_temp_ = 1.0;              // temperature the final weights used
  double final_total_ = 1.0;             // sum of the final weights
  mutable std::vector<std::pair<int32_t, float>> dist_;  // [n_vocab] capacity
  mutable bool dist_ready_ = false;
};

// log-softmax helpers, computed with a double-precision sum (accurate to ~1e-7 relative).
// The k highest (token, logprob) of a logits row, logprob descending, ties by lower id.
// k is clamped to n_vocab. Throws on k < 0, n_vocab <= 0, a NaN/+inf logit or an all -inf row.
std::vector<std::pair<int32_t, float>> top_logprobs(const float* logits, int32_t n_vocab, int32_t k);
// log p(token) under softmax(logits). Throws on a token out of range and as above.
float logprob_of(const float* logits, int32_t n_vocab, int32_t token);

}  // namespace hearth::sampling
