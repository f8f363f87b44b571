// Sampler chain: each stage on hand-made logits, the temperature law checked empirically, seeding,
// penalties by formula, parameter validation, and the whole chain against a plain reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "sampling/rng.h"
#include "sampling/sampler.h"

namespace hearth::sampling {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// No filters, temperature 1: the distribution is exactly softmax(processed logits).
Params plain() {
  Params p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

std::vector<double> softmax(const std::vector<double>& l, double temp = 1.0) {
  double m = -INFINITY;
  for (double x : l) m = std::max(m, x);
  std::vector<double> p(l.size());
  double s = 0.0;
  for (size_t i = 0; i < l.size(); ++i) s += p[i] = std::exp((l[i] - m) / temp);
  for (double& x : p) x /= s;
  return p;
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

std::map<int32_t, float> dist_map(const Sampler& s) {
  std::map<int32_t, float> m;
  for (const auto& [id, p] : s.last_distribution()) m[id] = p;
  return m;
}

std::set<int32_t> kept(const Sampler& s) {
  std::set<int32_t> ids;
  for (const auto& [id, p] : s.last_distribution()) ids.insert(id);
  return ids;
}

// The last distribution equals softmax(expected) restricted to ids (all tokens when ids is empty).
void expect_distribution(const Sampler& s, const std::vector<double>& expected_logits,
                         std::set<int32_t> ids = {}, double temp = 1.0) {
  if (ids.empty())
    for (int32_t i = 0; i < int32_t(expected_logits.size()); ++i) ids.insert(i);
  std::vector<double> sub;
  for (int32_t id : ids) sub.push_back(expected_logits[size_t(id)]);
  const std::vector<double> p = softmax(sub, temp);
  const auto got = dist_map(s);
  ASSERT_EQ(got.size(), ids.size());
  size_t j = 0;
  for (int32_t id : ids) {
    ASSERT_TRUE(got.count(id)) << "token " << id << " missing";
    EXPECT_NEAR(got.at(id), p[j], 1e-6) << "token " << id;
    ++j;
  }
}

std::vector<float> random_logits(int32_t n, uint64_t seed, float lo, float hi) {
  Rng r(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = lo + float(r.uniform()) * (hi - lo);
  return v;
}

std::vector<float> log_probs(const std::vector<double>& p) {
  std::vector<float> l;
  for (double x : p) l.push_back(float(std::log(x)));
  return l;
}

// ---------------------------------------------------------------- greedy

TEST(SamplingGreedy, PicksArgmaxLowestIdOnTies) {
  const std::vector<float> l = random_logits(5000, 11, -5.0f, 5.0f);
  const int32_t argmax = int32_t(std::max_element(l.begin(), l.end()) - l.begin());
  for (float t : {0.0f, -1.0f}) {
    Params p;
    p.temperature = t;
    Sampler s(p, 5000);
    EXPECT_EQ(s.sample(l.data()), argmax);
    const auto d = s.last_distribution();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].first, argmax);
    EXPECT_EQ(d[0].second, 1.0f);
  }
  Params p;
  p.temperature = 0.0f;
  Sampler s(p, 5);
  const std::vector<float> ties = {1.0f, 3.0f, 2.0f, 3.0f, 3.0f};
  EXPECT_EQ(s.sample(ties.data()), 1);
}

TEST(SamplingGreedy, SeesBiasAndPenalties) {
  const std::vector<float> l = {1.0f, 3.0f, 2.5f, 0.0f};
  Params p;
  p.temperature = 0.0f;
  p.logit_bias = {{1, kNegInf}};
  Sampler banned(p, 4);
  EXPECT_EQ(banned.sample(l.data()), 2);

  p.logit_bias = {{0, 2.5f}};
  Sampler boosted(p, 4);
  EXPECT_EQ(boosted.sample(l.data()), 0);

  p.logit_bias.clear();
  p.repeat_penalty = 1.5f;  // 3 / 1.5 = 2 < 2.5
  Sampler penalized(p, 4);
  EXPECT_EQ(penalized.sample(l.data()), 1);
  penalized.accept(1);
  EXPECT_EQ(penalized.sample(l.data()), 2);
}

// ---------------------------------------------------------------- top-k

TEST(SamplingTopK, KeepsExactlyTheKHighest) {
  const std::vector<float> l = random_logits(1000, 21, -4.0f, 4.0f);
  Params p = plain();
  p.top_k = 7;
  Sampler s(p, 1000);
  s.sample(l.data());
  std::vector<int32_t> ids(1000);
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return l[size_t(a)] > l[size_t(b)]; });
  const std::set<int32_t> want(ids.begin(), ids.begin() + 7);
  EXPECT_EQ(kept(s), want);
  expect_distribution(s, to_double(l), want);
}

TEST(SamplingTopK, TiesAtTheCutGoToLowerIds) {
  const std::vector<float> l = {1.0f, 4.0f, 4.0f, 5.0f, 4.0f};
  Params p = plain();
  p.top_k = 3;
  Sampler s(p, 5);
  s.sample(l.data());
  EXPECT_EQ(kept(s), (std::set<int32_t>{1, 2, 3}));
}

TEST(SamplingTopK, NonPositiveOrHugeKKeepsEverything) {
  const std::vector<float> l = {0.1f, 0.2f, 0.3f};
  for (int32_t k : {0, -5, 3, 1000}) {
    Params p = plain();
    p.top_k = k;
    Sampler s(p, 3);
    s.sample(l.data());
    expect_distribution(s, to_double(l));
  }
}

// ---------------------------------------------------------------- top-p

TEST(SamplingTopP, KeepsSmallestPrefixReachingP) {
  // Token 3: 0.5, token 0: 0.3, token 2: 0.15, token 1: 0.05.
  const std::vector<float> l = log_probs({0.3, 0.05, 0.15, 0.5});
  const std::vector<std::pair<float, std::set<int32_t>>> cases = {
      {0.0f, {3}}, {0.4f, {3}}, {0.75f, {0, 3}}, {0.85f, {0, 2, 3}}, {0.99f, {0, 1, 2, 3}}};
  for (const auto& [top_p, want] : cases) {
    Params p = plain();
    p.top_p = top_p;
    Sampler s(p, 4);
    s.sample(l.data());
    EXPECT_EQ(kept(s), want) << "top_p=" << top_p;
    expect_distribution(s, to_double(l), want);
  }
}

TEST(SamplingTopP, AfterTopKUsesTheTopKMass) {
  // After top-k = 2 the survivors are renormalized: 0.5/0.8 = 0.625 and 0.375, so top_p = 0.6
  // keeps only token 3, while on the full vocabulary 0.6 would need two tokens.
  const std::vector<float> l = log_probs({0.3, 0.05, 0.15, 0.5});
  Params p = plain();
  p.top_k = 2;
  p.top_p = 0.6f;
  Sampler s(p, 4);
  s.sample(l.data());
  EXPECT_EQ(kept(s), (std::set<int32_t>{3}));
}

// Reference top-p set: full sort, sequential double sum.
std::set<int32_t> reference_top_p(const std::vector<float>& l, double top_p) {
  std::vector<int32_t> ids(l.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return l[size_t(a)] > l[size_t(b)] || (l[size_t(a)] == l[size_t(b)] && a < b);
  });
  const std::vector<double> probs = softmax(to_double(l));
  std::set<int32_t> want;
  double cum = 0.0;
  for (int32_t id : ids) {
    want.insert(id);
    cum += probs[size_t(id)];
    if (cum >= top_p) break;
  }
  return want;
}

// Without top-k the vocabulary is cut through a histogram, sorting only the bucket holding the
// cut. A flat row puts thousands of tokens in that bucket.
TEST(SamplingTopP, LargeNucleusMatchesFullSortReference) {
  const int32_t n = 6000;
  const std::vector<float> l = random_logits(n, 31, 0.0f, 0.5f);
  for (float top_p : {0.3f, 0.9f, 0.999f}) {
    Params p = plain();
    p.top_p = top_p;
    Sampler s(p, n);
    s.sample(l.data());
    const std::set<int32_t> want = reference_top_p(l, top_p);
    EXPECT_GT(want.size(), 1000u);
    EXPECT_EQ(kept(s), want) << "top_p=" << top_p;
    expect_distribution(s, to_double(l), want);
  }
}

// Logits spread over many histogram buckets, with ties, tokens beyond the last bucket and masked
// tokens.
TEST(SamplingTopP, WideRangeRowMatchesFullSortReference) {
  const int32_t n = 20000;
  std::vector<float> l = random_logits(n, 41, 0.0f, 1.0f);
  for (size_t i = 0; i < l.size(); ++i) {
    l[i] = -40.0f * l[i] * l[i];
    if (i % 97 == 0) l[i] = -100.0f;
    if (i % 101 == 0) l[i] = kNegInf;
    if (i % 89 == 0) l[i] = l[i / 2];  // ties
  }
  for (float top_p : {0.0f, 0.5f, 0.9f, 0.99f, 0.9999f}) {
    Params p = plain();
    p.top_p = top_p;
    Sampler s(p, n);
    s.sample(l.data());
    EXPECT_EQ(kept(s), reference_top_p(l, top_p)) << "top_p=" << top_p;
  }
}

// ---------------------------------------------------------------- min-p

TEST(SamplingMinP, KeepsTokensWithinRatioOfTheMax) {
  // logit - max: 0, -1, -2, -3, -0.5; min_p = e^-1.2 keeps deltas >= -1.2.
  const std::vector<float> l = {0.0f, -1.0f, -2.0f, -3.0f, -0.5f};
  const std::set<int32_t> want = {0, 1, 4};
  for (int32_t top_k : {0, 4}) {  // unsorted compaction and sorted-prefix paths
    Params p = plain();
    p.top_k = top_k;
    p.min_p = float(std::exp(-1.2));
    Sampler s(p, 5);
    s.sample(l.data());
    EXPECT_EQ(kept(s), want) << "top_k=" << top_k;
    expect_distribution(s, to_double(l), want);
  }
  Params p = plain();
  p.min_p = 1.0f;
  Sampler s(p, 5);
  s.sample(l.data());
  EXPECT_EQ(kept(s), (std::set<int32_t>{0}));
}

// llama.cpp's order applies temperature last: the filters see temperature-1 probabilities.
TEST(SamplingChainOrder, FiltersRunBeforeTemperature) {
  const std::vector<float> l = {0.0f, -1.0f, -2.0f, -3.0f, -0.5f};
  Params p = plain();
  p.min_p = float(std::exp(-1.2));
  p.temperature = 0.5f;  // at T = 0.5 token 1 would be e^-2 of the max, below min_p
  Sampler s(p, 5);
  s.sample(l.data());
  EXPECT_EQ(kept(s), (std::set<int32_t>{0, 1, 4}));
  expect_distribution(s, to_double(l), {0, 1, 4}, 0.5);

  // top-p likewise: at T = 1 the top two carry 0.8 >= 0.75; at T = 3 they would not.
  const std::vector<float> l2 = log_probs({0.3, 0.05, 0.15, 0.5});
  Params q = plain();
  q.top_p = 0.75f;
  q.temperature = 3.0f;
  Sampler s2(q, 4);
  s2.sample(l2.data());
  EXPECT_EQ(kept(s2), (std::set<int32_t>{0, 3}));
  expect_distribution(s2, to_double(l2), {0, 3}, 3.0);
}

// ---------------------------------------------------------------- temperature, empirically

double chi_square(const std::vector<int>& counts, const std::vector<double>& p, int n) {
  double chi2 = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double e = p[i] * n;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
  }
  return chi2;
}

void check_temperature_law(Params p) {
  const std::vector<float> l = {1.0f, 0.5f, 0.0f, -0.5f, -1.0f, 2.0f, 0.2f, -0.3f};
  const double temp = 0.7;
  p.temperature = float(temp);
  p.seed = 2024;
  Sampler s(p, 8);
  const int n = 40000;
  std::vector<int> counts(8, 0);
  for (int i = 0; i < n; ++i) ++counts[size_t(s.sample(l.data()))];
  const std::vector<double> right = softmax(to_double(l), temp);
  expect_distribution(s, to_double(l), {}, temp);
  // 7 degrees of freedom: P(chi2 > 40) ~ 1e-6, so a correct sampler passes; the seed is fixed, so
  // the outcome is deterministic either way.
  EXPECT_LT(chi_square(counts, right, n), 40.0);
  // The same draws must be far from the distributions a wrong formula would give.
  std::vector<double> scaled_wrong;
  for (float x : l) scaled_wrong.push_back(x * temp);
  EXPECT_GT(chi_square(counts, softmax(scaled_wrong), n), 400.0);
  EXPECT_GT(chi_square(counts, softmax(to_double(l)), n), 400.0);
}

TEST(SamplingTemperature, DrawsFollowSoftmaxOfLogitsOverT) {
  check_temperature_law(plain());  // unsorted (id-order) walk
  Params sorted = plain();
  sorted.top_p = 0.999999f;  // keeps all 8 tokens but walks them in rank order
  check_temperature_law(sorted);
}

// ---------------------------------------------------------------- seeding

std::vector<int32_t> generate(Sampler& s, int steps) {
  std::vector<int32_t> out;
  for (int i = 0; i < steps; ++i) {
    // A different logits row each step, derived from the step only.
    const std::vector<float> l = random_logits(1000, uint64_t(1000 + i), -3.0f, 3.0f);
    const int32_t t = s.sample(l.data());
    s.accept(t);
    out.push_back(t);
  }
  return out;
}

TEST(SamplingSeed, SameSeedSameSequenceDifferentSeedDifferent) {
  Params p;  // defaults: the full chain
  p.repeat_penalty = 1.1f;
  p.seed = 1234;
  Sampler a(p, 1000), b(p, 1000);
  const auto seq_a = generate(a, 200);
  EXPECT_EQ(seq_a, generate(b, 200));
  p.seed = 1235;
  Sampler c(p, 1000);
  EXPECT_NE(seq_a, generate(c, 200));
  a.reset();  // forgets history and re-seeds
  EXPECT_EQ(seq_a, generate(a, 200));
  EXPECT_TRUE(a.last_distribution().size() > 0);
  a.reset();
  EXPECT_TRUE(a.last_distribution().empty());
}

TEST(SamplingSeed, CopyContinuesTheSameStream) {
  Params p = plain();
  p.seed = 9;
  Sampler a(p, 1000);
  generate(a, 10);
  Sampler b = a;
  EXPECT_EQ(generate(a, 50), generate(b, 50));
}

// ---------------------------------------------------------------- penalties

TEST(SamplingPenalties, RepeatPenaltyDividesPositiveMultipliesNegative) {
  const std::vector<float> l = {2.0f, -1.0f, 0.5f, 0.0f, 1.0f};
  Params p = plain();
  p.repeat_penalty = 1.5f;
  Sampler s(p, 5);
  for (int32_t t : {0, 1, 3, 0}) s.accept(t);
  s.sample(l.data());
  expect_distribution(s, {2.0 / 1.5, -1.0 * 1.5, 0.5, 0.0, 1.0});
}

TEST(SamplingPenalties, PresenceAndFrequencyFollowOpenAI) {
  const std::vector<float> l = {2.0f, -1.0f, 0.5f, 0.0f, 1.0f};
  Params p = plain();
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  Sampler s(p, 5);
  for (int32_t t : {0, 0, 0, 1, 2}) s.accept(t);
  s.sample(l.data());
  expect_distribution(s, {2.0 - 0.5 - 3 * 0.25, -1.0 - 0.5 - 0.25, 0.5 - 0.5 - 0.25, 0.0, 1.0});
}

TEST(SamplingPenalties, RepeatThenSubtractAsLlamaCpp) {
  const std::vector<float> l = {2.0f, -1.0f, 0.5f};
  Params p = plain();
  p.repeat_penalty = 2.0f;
  p.presence_penalty = 0.25f;
  p.frequency_penalty = 0.5f;
  Sampler s(p, 3);
  for (int32_t t : {0, 1, 1}) s.accept(t);
  s.sample(l.data());
  expect_distribution(s, {2.0 / 2 - 0.25 - 0.5, -1.0 * 2 - 0.25 - 2 * 0.5, 0.5});
}

TEST(SamplingPenalties, OnlyTheLastNTokensCount) {
  const std::vector<float> l = {1.0f, 1.0f, 1.0f, 1.0f};
  Params p = plain();
  p.penalty_last_n = 3;
  p.frequency_penalty = 1.0f;
  Sampler s(p, 4);
  // Window after these: {1, 0, 2}; the first 0 and the 3 have slid out.
  for (int32_t t : {3, 0, 1, 0, 2}) s.accept(t);
  s.sample(l.data());
  expect_distribution(s, {0.0, 0.0, 0.0, 1.0});

  p.penalty_last_n = 0;  // disabled
  Sampler off(p, 4);
  for (int32_t t : {0, 0, 1}) off.accept(t);
  off.sample(l.data());
  expect_distribution(off, to_double(l));
}

TEST(SamplingPenalties, ResetForgetsHistory) {
  const std::vector<float> l = {1.0f, 0.0f};
  Params p = plain();
  p.presence_penalty = 2.0f;
  Sampler s(p, 2);
  s.accept(0);
  s.sample(l.data());
  expect_distribution(s, {-1.0, 0.0});
  s.reset();
  s.sample(l.data());
  expect_distribution(s, {1.0, 0.0});
}

// ---------------------------------------------------------------- logit bias

TEST(SamplingLogitBias, AddsSumsDuplicatesAndBans) {
  const std::vector<float> l = {0.0f, 1.0f, 2.0f, 3.0f};
  Params p = plain();
  p.logit_bias = {{0, 1.5f}, {2, -1.0f}, {0, 0.25f}, {3, kNegInf}};
  p.seed = 5;
  Sampler s(p, 4);
  for (int i = 0; i < 2000; ++i) ASSERT_NE(s.sample(l.data()), 3);
  expect_distribution(s, {1.75, 1.0, 1.0, -1e300}, {0, 1, 2});
  EXPECT_EQ(kept(s).count(3), 0u);
}

// ---------------------------------------------------------------- validation and bad input

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(SamplingParams, InvalidValuesNameTheField) {
  struct Case {
    std::function<void(Params&)> mutate;
    const char* field;
  };
  const std::vector<Case> cases = {
      {[](Params& p) { p.temperature = kNaN; }, "temperature"},
      {[](Params& p) { p.temperature = INFINITY; }, "temperature"},
      {[](Params& p) { p.top_p = -0.1f; }, "top_p"},
      {[](Params& p) { p.top_p = 1.5f; }, "top_p"},
      {[](Params& p) { p.top_p = kNaN; }, "top_p"},
      {[](Params& p) { p.min_p = -0.01f; }, "min_p"},
      {[](Params& p) { p.min_p = kNaN; }, "min_p"},
      {[](Params& p) { p.repeat_penalty = 0.0f; }, "repeat_penalty"},
      {[](Params& p) { p.repeat_penalty = kNaN; }, "repeat_penalty"},
      {[](Params& p) { p.penalty_last_n = -1; }, "penalty_last_n"},
      {[](Params& p) { p.presence_penalty = kNaN; }, "presence_penalty"},
      {[](Params& p) { p.frequency_penalty = -INFINITY; }, "frequency_penalty"},
      {[](Params& p) { p.logit_bias = {{10, 1.0f}}; }, "logit_bias"},
      {[](Params& p) { p.logit_bias = {{-1, 1.0f}}; }, "logit_bias"},
      {[](Params& p) { p.logit_bias = {{1, kNaN}}; }, "logit_bias"},
      {[](Params& p) { p.logit_bias = {{1, INFINITY}}; }, "logit_bias"},
  };
  for (const Case& c : cases) {
    Params p;
    c.mutate(p);
    const std::string msg = error_of([&] { Sampler s(p, 10); });
    EXPECT_NE(msg.find(c.field), std::string::npos) << "field " << c.field << ": " << msg;
  }
  EXPECT_NE(error_of([] { Sampler s(Params{}, 0); }).find("n_vocab"), std::string::npos);
  // Boundary values are valid.
  Params edge;
  edge.top_p = 0.0f;
  edge.min_p = 1.0f;
  edge.temperature = -2.0f;
  edge.penalty_last_n = 0;
  edge.logit_bias = {{9, kNegInf}};
  EXPECT_NO_THROW(Sampler(edge, 10));
}

// With nothing changing the logits before top-k (no bias, no penalties), the sampler selects
// the top k straight from the logits; forcing the general path with a zero bias must give the
// same distributions and tokens, ties included.
TEST(SamplingTopK, DirectSelectionMatchesTheGeneralPath) {
  std::vector<float> l = random_logits(3000, 5, -4.0f, 4.0f);
  for (int i = 0; i < 3000; i += 7) l[size_t(i)] = 3.9f;  // the top-40 cut falls inside these ties
  l[100] = kNegInf;
  // top_p = 1 and min_p = 0 keep all k, so the ids kept at a tied cut are compared too.
  for (auto [k, top_p, min_p] : {std::tuple{1, 0.95f, 0.05f}, std::tuple{40, 0.95f, 0.05f},
                                 std::tuple{40, 1.0f, 0.0f}, std::tuple{150, 1.0f, 0.0f}}) {
    Params direct;
    direct.top_k = k;
    direct.top_p = top_p;
    direct.min_p = min_p;
    direct.seed = 9;
    Params general = direct;
    general.logit_bias = {{0, 0.0f}};
    Sampler a(direct, 3000), b(general, 3000);
    for (int step = 0; step < 20; ++step) {
      const int32_t ta = a.sample(l.data()), tb = b.sample(l.data());
      EXPECT_EQ(ta, tb) << "k " << k << " step " << step;
      const auto da = a.last_distribution(), db = b.last_distribution();
      ASSERT_EQ(da.size(), db.size());
      for (size_t i = 0; i < da.size(); ++i) {
        EXPECT_EQ(da[i].first, db[i].first);
        EXPECT_EQ(da[i].second, db[i].second);
      }
      a.accept(ta);
      b.accept(tb);
    }
  }
  // Bad rows are still rejected, naming the logit.
  Sampler s(Params{}, 3000);
  std::vector<float> bad = l;
  bad[2500] = kNaN;
  EXPECT_NE(error_of([&] { s.sample(bad.data()); }).find("logits[2500]"), std::string::npos);
  bad[2500] = INFINITY;
  EXPECT_THROW(s.sample(bad.data()), Error);
  const std::vector<float> masked(3000, kNegInf);
  EXPECT_THROW(s.sample(masked.data()), Error);
}

TEST(SamplingBadInput, ThrowsOnNanLogitsAllMaskedAndBadTokens) {
  Sampler s(Params{}, 4);
  const std::vector<float> nan_row = {0.0f, 1.0f, kNaN, 0.0f};
  EXPECT_NE(error_of([&] { s.sample(nan_row.data()); }).find("logits[2]"), std::string::npos);
  const std::vector<float> inf_row = {0.0f, INFINITY, 0.0f, 0.0f};
  EXPECT_THROW(s.sample(inf_row.data()), Error);
  const std::vector<float> masked(4, kNegInf);
  EXPECT_THROW(s.sample(masked.data()), Error);
  EXPECT_THROW(s.accept(4), Error);
  EXPECT_THROW(s.accept(-1), Error);

  // The same through greedy sampling's one-pass path (no bias, no penalties).
  Params greedy;
  greedy.temperature = 0.0f;
  Sampler g(greedy, 4);
  EXPECT_NE(error_of([&] { g.sample(nan_row.data()); }).find("logits[2]"), std::string::npos);
  EXPECT_THROW(g.sample(inf_row.data()), Error);
  EXPECT_THROW(g.sample(masked.data()), Error);

  Params p;
  p.logit_bias = {{0, kNegInf}, {1, kNegInf}};
  Sampler all_banned(p, 2);
  const std::vector<float> two = {1.0f, 2.0f};
  EXPECT_THROW(all_banned.sample(two.data()), Error);
}

// ---------------------------------------------------------------- whole chain vs reference

// Reference chain written from docs/SAMPLING.md: full sort, double precision.
std::map<int32_t, double> reference_chain(std::vector<float> l, const Params& p,
                                          const std::vector<int32_t>& history) {
  const int32_t n = int32_t(l.size());
  for (const auto& [id, b] : p.logit_bias) l[size_t(id)] += b;
  std::map<int32_t, int> count;
  const size_t start = history.size() > size_t(p.penalty_last_n) ? history.size() - size_t(p.penalty_last_n) : 0;
  for (size_t i = start; i < history.size(); ++i) ++count[history[i]];
  for (const auto& [id, c] : count) {
    float& x = l[size_t(id)];
    x = x <= 0 ? x * p.repeat_penalty : x / p.repeat_penalty;
    x -= float(c) * p.frequency_penalty + p.presence_penalty;
  }
  std::vector<int32_t> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return l[size_t(a)] > l[size_t(b)] || (l[size_t(a)] == l[size_t(b)] && a < b);
  });
  if (p.top_k > 0 && p.top_k < n) ids.resize(size_t(p.top_k));
  const auto probs_of = [&](double temp) {
    std::vector<double> sub;
    for (int32_t id : ids) sub.push_back(l[size_t(id)]);
    return softmax(sub, temp);
  };
  if (p.top_p < 1.0f) {
    const std::vector<double> pr = probs_of(1.0);
    double cum = 0.0;
    size_t keep = ids.size();
    for (size_t i = 0; i < ids.size(); ++i) {
      cum += pr[i];
      if (cum >= p.top_p) {
        keep = i + 1;
        break;
      }
    }
    ids.resize(keep);
  }
  if (p.min_p > 0.0f) {
    const std::vector<double> pr = probs_of(1.0);
    size_t keep = 0;
    while (keep < ids.size() && pr[keep] >= p.min_p * pr[0]) ++keep;
    ids.resize(keep);
  }
  const std::vector<double> pr = probs_of(p.temperature);
  std::map<int32_t, double> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (pr[i] > 0.0) out[ids[i]] = pr[i];  // banned (-inf) tokens have no probability
  }
  return out;
}

TEST(SamplingChain, MatchesReferenceOnRandomRowsAndParams) {
  Rng r(77);
  for (int trial = 0; trial < 40; ++trial) {
    const int32_t n = 500 + int32_t(r.next() % 3000);
    const std::vector<float> l = random_logits(n, r.next(), -6.0f, 6.0f);
    Params p;
    p.temperature = 0.3f + float(r.uniform()) * 1.5f;
    p.top_k = trial % 4 == 0 ? 0 : int32_t(r.next() % 200);
    p.top_p = trial % 3 == 0 ? 1.0f : 0.5f + 0.5f * float(r.uniform());
    p.min_p = trial % 5 == 0 ? 0.0f : 0.2f * float(r.uniform());
    p.repeat_penalty = 1.0f + 0.5f * float(r.uniform());
    p.penalty_last_n = int32_t(r.next() % 64);
    p.presence_penalty = float(r.uniform()) - 0.2f;
    p.frequency_penalty = float(r.uniform()) - 0.2f;
    p.logit_bias = {{int32_t(r.next() % uint64_t(n)), 3.0f}, {int32_t(r.next() % uint64_t(n)), kNegInf}};
    p.seed = r.next();
    Sampler s(p, n);
    std::vector<int32_t> history;
    for (int i = 0; i < 100; ++i) {
      // A skewed history so some tokens repeat inside the window.
      const int32_t t = int32_t(r.next() % 40) * int32_t(1 + r.next() % 3);
      history.push_back(t);
      s.accept(t);
    }
    const int32_t token = s.sample(l.data());
    const auto want = reference_chain(l, p, history);
    const auto got = s.last_distribution();
    ASSERT_EQ(got.size(), want.size()) << "trial " << trial;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(want.count(got[i].first)) << "trial " << trial << " token " << got[i].first;
      EXPECT_NEAR(got[i].second, want.at(got[i].first), 1e-6) << "trial " << trial;
      if (i > 0) {
        EXPECT_GE(got[i - 1].second, got[i].second);  // sorted by probability
      }
    }
    EXPECT_TRUE(want.count(token)) << "drawn token outside the final set";
  }
}

TEST(SamplingChain, FullVocabularyDefaultsStayInTopK) {
  const int32_t n = 262144;
  const std::vector<float> l = random_logits(n, 99, -10.0f, 10.0f);
  Sampler s(Params{}, n);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  std::partial_sort(ids.begin(), ids.begin() + 40, ids.end(),
                    [&](int32_t a, int32_t b) { return l[size_t(a)] > l[size_t(b)]; });
  const std::set<int32_t> top40(ids.begin(), ids.begin() + 40);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(top40.count(s.sample(l.data())));
  double total = 0.0;
  for (const auto& [id, pr] : s.last_distribution()) total += pr;
  EXPECT_NEAR(total, 1.0, 1e-5);
}

}  // namespace
}  // namespace hearth::sampling
