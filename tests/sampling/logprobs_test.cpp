// top_logprobs / logprob_of against a straightforward long-double log-softmax with a full sort.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "sampling/rng.h"
#include "sampling/sampler.h"

namespace hearth::sampling {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::vector<float> random_logits(int32_t n, uint64_t seed, float lo, float hi) {
  Rng r(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = lo + float(r.uniform()) * (hi - lo);
  return v;
}

// Reference: full log-softmax in long double, ids sorted by (logit desc, id asc).
std::vector<std::pair<int32_t, double>> reference_top(const std::vector<float>& l, size_t k) {
  long double m = -INFINITY;
  for (float x : l) m = std::max<long double>(m, x);
  long double s = 0;
  for (float x : l) s += std::exp((long double)x - m);
  const long double lse = m + std::log(s);
  std::vector<int32_t> ids(l.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return l[size_t(a)] > l[size_t(b)] || (l[size_t(a)] == l[size_t(b)] && a < b);
  });
  std::vector<std::pair<int32_t, double>> out;
  for (size_t i = 0; i < std::min(k, ids.size()); ++i)
    out.emplace_back(ids[i], double((long double)l[size_t(ids[i])] - lse));
  return out;
}

void expect_matches_reference(const std::vector<float>& l, int32_t k, double tol) {
  const auto got = top_logprobs(l.data(), int32_t(l.size()), k);
  const auto want = reference_top(l, size_t(k));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first) << "rank " << i;
    EXPECT_NEAR(got[i].second, want[i].second, tol) << "rank " << i;
  }
}

TEST(SamplingLogprobs, TopLogprobsMatchReference) {
  expect_matches_reference(random_logits(5000, 1, -10.0f, 10.0f), 20, 1e-6);
  expect_matches_reference(random_logits(151936, 2, -20.0f, 25.0f), 10, 1e-6);
  expect_matches_reference(random_logits(300, 3, -3.0f, 3.0f), 300, 1e-6);
}

TEST(SamplingLogprobs, LargeOffsetsAreStable) {
  // exp(1000) overflows in double: only a max-shifted sum survives.
  std::vector<float> l = random_logits(4000, 4, 1000.0f, 1010.0f);
  expect_matches_reference(l, 5, 1e-6);
  for (float& x : l) x -= 3000.0f;
  expect_matches_reference(l, 5, 1e-6);
}

TEST(SamplingLogprobs, TiesGoToLowerIdAndKIsClamped) {
  const std::vector<float> l = {1.0f, 2.0f, 2.0f, 0.0f, 2.0f};
  const auto top = top_logprobs(l.data(), 5, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].first, 1);
  EXPECT_EQ(top[1].first, 2);
  EXPECT_EQ(top[0].second, top[1].second);
  EXPECT_EQ(top_logprobs(l.data(), 5, 99).size(), 5u);
  EXPECT_TRUE(top_logprobs(l.data(), 5, 0).empty());
}

TEST(SamplingLogprobs, LogprobOfAgreesAndNormalizes) {
  const std::vector<float> l = random_logits(1000, 5, -5.0f, 5.0f);
  const auto want = reference_top(l, l.size());
  double total = 0.0;
  for (const auto& [id, lp] : want) {
    const float got = logprob_of(l.data(), 1000, id);
    EXPECT_NEAR(got, lp, 1e-6) << "token " << id;
    total += std::exp(double(got));
  }
  EXPECT_NEAR(total, 1.0, 1e-5);
}

TEST(SamplingLogprobs, MaskedTokensGetMinusInfinity) {
  const std::vector<float> l = {0.0f, kNegInf, 1.0f};
  EXPECT_EQ(logprob_of(l.data(), 3, 1), kNegInf);
  const auto top = top_logprobs(l.data(), 3, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[2].first, 1);
  EXPECT_EQ(top[2].second, kNegInf);
  EXPECT_NEAR(top[0].second, -std::log1p(std::exp(-1.0)), 1e-7);
}

TEST(SamplingLogprobs, BadInputThrows) {
  const std::vector<float> l = {0.0f, 1.0f};
  EXPECT_THROW(top_logprobs(l.data(), 2, -1), Error);
  EXPECT_THROW(top_logprobs(l.data(), 0, 1), Error);
  EXPECT_THROW(logprob_of(l.data(), 2, 2), Error);
  EXPECT_THROW(logprob_of(l.data(), 2, -1), Error);
  const std::vector<float> nan_row = {0.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(top_logprobs(nan_row.data(), 2, 1), Error);
  const std::vector<float> masked = {kNegInf, kNegInf};
  EXPECT_THROW(logprob_of(masked.data(), 2, 0), Error);
}

}  // namespace
}  // namespace hearth::sampling
