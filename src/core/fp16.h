// Scalar IEEE binary16 and bfloat16 conversions, bit-exact with ggml's reference paths.
// Hot loops use the per-ISA kernels; these are the portable definitions they must match.
#pragma once

#include <cstdint>
#include <cstring>

namespace hearth {

inline float bits_to_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t f32_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// binary16 -> f32, exact for every input (normals, subnormals, inf, NaN).
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t man = h & 0x3FF;
  if (exp == 0) {
    if (man == 0) return bits_to_f32(sign);
    // subnormal: man * 2^-24
    float v = float(man) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  // inf, or NaN made quiet (bit 22) as F16C and ggml's software path do
  if (exp == 31) return bits_to_f32(sign | 0x7F800000u | (man << 13) | (man ? 0x400000u : 0u));
  return bits_to_f32(sign | ((exp + 112) << 23) | (man << 13));
}

// f32 -> binary16 with round-to-nearest-even (what F16C's _cvtss_sh(x, 0) does, and what
// ggml's software fallback does). NaN stays NaN (quiet), overflow goes to inf.
inline uint16_t f32_to_f16(float f) {
  const uint32_t x = f32_to_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t abs = x & 0x7FFFFFFF;
  if (abs > 0x7F800000) return uint16_t(sign | 0x7E00);  // NaN
  if (abs >= 0x477FF000) return uint16_t(sign | 0x7C00); // rounds to >= 65520: inf
  if (abs < 0x38800000) {
    // result is subnormal or zero: value / 2^-24, rounded to nearest even
    if (abs < 0x33000000) return uint16_t(sign);  // < 2^-25: rounds to zero
    const uint32_t e = abs >> 23;                 // biased exponent, 102..112
    const uint32_t m = (abs & 0x7FFFFF) | 0x800000;
    const uint32_t shift = 126 - e;               // 14..24
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) r++;
    return uint16_t(sign | r);
  }
  // normal: rebias exponent 127 -> 15, round 13 dropped mantissa bits to nearest even
  uint32_t r = abs - 0x38000000;  // exponent - 112
  const uint32_t lsb = (r >> 13) & 1;
  r += 0xFFF + lsb;
  return uint16_t(sign | (r >> 13));
}

inline float bf16_to_f32(uint16_t h) { return bits_to_f32(uint32_t(h) << 16); }

// f32 -> bf16 with round-to-nearest-even; NaN becomes a quiet NaN (ggml_compute_fp32_to_bf16).
inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_to_bits(f);
  if ((u & 0x7FFFFFFF) > 0x7F800000) return uint16_t((u >> 16) | 64);
  return uint16_t((u + (0x7FFF + ((u >> 16) & 1))) >> 16);
}

}  // namespace hearth
