// Test data shared by the quant, kernel and ggml-oracle tests: the list of types, random blocks
// with well-formed or arbitrary scale fields, and float rows with the awkward cases
// (zeros, ties, tiny, huge, one-sided). Test-only; no expected values live here.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "quant/blocks.h"

namespace hearth::quant::testing {

// Every type quant::dequantize_row handles, with its ggml symbol suffix.
struct TypeCase {
  DType type;
  const char* ggml;  // "q4_0", "q4_K", ... as in dequantize_row_<ggml>
};

inline const std::vector<TypeCase>& block_types() {  // the block-quantized ones
  static const std::vector<TypeCase> k = {
      {DType::Q4_0, "q4_0"},   {DType::Q4_1, "q4_1"},     {DType::Q5_0, "q5_0"},
      {DType::Q5_1, "q5_1"},   {DType::Q8_0, "q8_0"},     {DType::Q8_1, "q8_1"},
      {DType::Q2_K, "q2_K"},   {DType::Q3_K, "q3_K"},     {DType::Q4_K, "q4_K"},
      {DType::Q5_K, "q5_K"},   {DType::Q6_K, "q6_K"},     {DType::Q8_K, "q8_K"},
      {DType::IQ4_NL, "iq4_nl"}, {DType::IQ4_XS, "iq4_xs"}, {DType::MXFP4, "mxfp4"},
      {DType::NVFP4, "nvfp4"},
  };
  return k;
}

// Weight types with a dot product (everything but the activation-only Q8_1 / Q8_K).
inline const std::vector<DType>& weight_types() {
  static const std::vector<DType> k = {
      DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,   DType::Q4_1,   DType::Q5_0,
      DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,   DType::Q4_K,   DType::Q5_K,
      DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS, DType::MXFP4, DType::NVFP4,
  };
  return k;
}

// Byte offsets of the fp16 fields of one block (scales, mins); -1 terminated.
inline std::vector<size_t> fp16_fields(DType t) {
  switch (t) {
    case DType::Q4_0: return {offsetof(BlockQ4_0, d)};
    case DType::Q4_1: return {offsetof(BlockQ4_1, d), offsetof(BlockQ4_1, m)};
    case DType::Q5_0: return {offsetof(BlockQ5_0, d)};
    case DType::Q5_1: return {offsetof(BlockQ5_1, d), offsetof(BlockQ5_1, m)};
    case DType::Q8_0: return {offsetof(BlockQ8_0, d)};
    case DType::Q8_1: return {offsetof(BlockQ8_1, d), offsetof(BlockQ8_1, s)};
    case DType::Q2_K: return {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
    case DType::Q3_K: return {offsetof(BlockQ3_K, d)};
    case DType::Q4_K: return {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)};
    case DType::Q5_K: return {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)};
    case DType::Q6_K: return {offsetof(BlockQ6_K, d)};
    case DType::IQ4_NL: return {offsetof(BlockIq4Nl, d)};
    case DType::IQ4_XS: return {offsetof(BlockIq4Xs, d)};
    default: return {};
  }
}

// Random bytes for n_blocks blocks of t. With `finite`, fp16 scale fields are forced finite
// (exponent 31 -> 15), Q8_K's f32 d is a finite value in +-[2^-20, 2^4], and the MXFP4 exponent
// stays <= 200 so products cannot overflow; otherwise every bit pattern may appear.
inline std::vector<uint8_t> random_blocks(DType t, int64_t n_blocks, std::mt19937& rng,
                                          bool finite) {
  const DTypeInfo& info = dtype_info(t);
  std::vector<uint8_t> b(size_t(n_blocks) * info.type_size);
  for (auto& v : b) v = uint8_t(rng());
  if (!finite) return b;
  for (int64_t i = 0; i < n_blocks; ++i) {
    uint8_t* blk = b.data() + size_t(i) * info.type_size;
    for (size_t off : fp16_fields(t)) {
      uint16_t h;
      std::memcpy(&h, blk + off, 2);
      if (((h >> 10) & 0x1F) == 31) h = uint16_t(h & ~0x4000);
      std::memcpy(blk + off, &h, 2);
    }
    if (t == DType::Q8_K) {
      std::uniform_real_distribution<float> e(-20.0f, 4.0f);
      float d = std::exp2(e(rng)) * ((rng() & 1) ? 1.0f : -1.0f);
      std::memcpy(blk, &d, 4);
    }
    if (t == DType::MXFP4 && blk[0] > 200) blk[0] = uint8_t(blk[0] - 100);
  }
  return b;
}

// Float rows of n elements (n a multiple of 256) for quantizer tests. Row kinds:
//  0: N(0, 1)
//  1: N(0, 1) scaled per 32-block by 2^u, u uniform in [-20, 10] (stays within fp16 range)
//  2: edge blocks cycling per 32 elements: all zero; one nonzero; constant +c; constant -c;
//     exact halves for amax = 127 (0.5, 1.5, ... ties for Q8 rounding); all positive;
//     all negative; tiny (1e-30 .. subnormal); values below the 1e-15 "zero group" cutoff
//     mixed with a few normal ones; huge (`huge`, default 1e20: beyond fp16, so a Q8_0 / Q8_1
//     scale overflows; pass e.g. 1e3 where the row feeds a dot product); a single spike;
//     all subnormal (|x| < 2^-126, where 127 / amax overflows to inf).
inline std::vector<float> test_row(int kind, int64_t n, std::mt19937& rng, float huge = 1e20f) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<float> u01(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  if (kind == 0) {
    for (auto& v : x) v = g(rng);
  } else if (kind == 1) {
    for (int64_t b = 0; b < n / 32; ++b) {
      const float s = std::exp2(-20.0f + 30.0f * u01(rng));
      for (int j = 0; j < 32; ++j) x[size_t(32 * b + j)] = s * g(rng);
    }
  } else {
    for (int64_t b = 0; b < n / 32; ++b) {
      float* p = x.data() + 32 * b;
      const float c = 0.25f + 3.0f * u01(rng);
      switch (b % 12) {
        case 0: for (int j = 0; j < 32; ++j) p[j] = 0.0f; break;
        case 1: for (int j = 0; j < 32; ++j) p[j] = 0.0f; p[int(rng() % 32)] = g(rng); break;
        case 2: for (int j = 0; j < 32; ++j) p[j] = c; break;
        case 3: for (int j = 0; j < 32; ++j) p[j] = -c; break;
        case 4:
          for (int j = 0; j < 32; ++j) p[j] = float(int(rng() % 254) - 127) + 0.5f;
          p[int(rng() % 32)] = (rng() & 1) ? 127.0f : -127.0f;
          break;
        case 5: for (int j = 0; j < 32; ++j) p[j] = std::fabs(g(rng)) + 0.01f; break;
        case 6: for (int j = 0; j < 32; ++j) p[j] = -std::fabs(g(rng)) - 0.01f; break;
        case 7: for (int j = 0; j < 32; ++j) p[j] = g(rng) * ((j % 2) ? 1e-30f : 1e-40f); break;
        case 8:
          for (int j = 0; j < 32; ++j) p[j] = g(rng) * 1e-17f;
          if (rng() & 1) p[int(rng() % 32)] = g(rng);
          break;
        case 9: for (int j = 0; j < 32; ++j) p[j] = g(rng) * huge; break;
        case 10:
          for (int j = 0; j < 32; ++j) p[j] = g(rng) * 1e-3f;
          p[int(rng() % 32)] = 50.0f * g(rng);
          break;
        default: for (int j = 0; j < 32; ++j) p[j] = g(rng) * 1e-39f; break;
      }
    }
  }
  return x;
}

}  // namespace hearth::quant::testing
