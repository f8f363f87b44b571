// The sampler's portable PRNG: xoshiro256** seeded through splitmix64, and its uniform double.
// Pure integer arithmetic only, so a seed gives the same stream with every compiler, standard
// library and CPU; must not use <random> distributions (their outputs differ across libraries).
#pragma once

#include <cstdint>

namespace hearth::sampling {

// splitmix64 (Steele, Lea, Flood 2014): advances `state` and returns the next output. Used only
// to expand a 64-bit seed into xoshiro's 256-bit state, as the xoshiro authors recommend.
inline uint64_t splitmix64_next(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256** 1.0 (Blackman, Vigna 2018).
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { seed_with(seed); }

  // Fills the state with four consecutive splitmix64 outputs starting from `seed`. splitmix64
  // is a bijection on its counter, so the four words are never all zero (xoshiro's one bad state).
  void seed_with(uint64_t seed) {
    uint64_t sm = seed;
    for (uint64_t& w : s_) w = splitmix64_next(sm);
  }

  // For tests against the published reference vectors; the caller must not pass all zeros.
  static Rng from_state(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3) {
    Rng r;
    r.s_[0] = s0;
    r.s_[1] = s1;
    r.s_[2] = s2;
    r.s_[3] = s3;
    return r;
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits: the top 53 bits of next() scaled by 2^-53. Every step
  // is exact in IEEE double, so the value is identical everywhere.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t s_[4] = {};
};

}  // namespace hearth::sampling
