// quant/: layouts against the FACTS.md formulas, exhaustive scale/half-precision decoders,
// round-trip error bounds (llama.cpp's own quality thresholds and per-format worst cases),
// edge-case rows, and the errors for types Hearth cannot compute with. Needs no oracle.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/quant.h"
#include "quant/quant_test_util.h"
#include "quant/tables.h"

namespace hearth::quant {
namespace {

using testing::block_types;
using testing::random_blocks;
using testing::test_row;

std::vector<float> dequant(DType t, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  dequantize_row(t, q.data(), y.data(), n);
  return y;
}

std::vector<uint8_t> quant(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(t, int64_t(x.size())));
  quantize_row(t, x.data(), q.data(), int64_t(x.size()));
  return q;
}

TEST(QuantBlocks, SizesMatchTheDtypeTable) {
  EXPECT_EQ(sizeof(BlockQ4_0), dtype_info(DType::Q4_0).type_size);
  EXPECT_EQ(sizeof(BlockQ4_1), dtype_info(DType::Q4_1).type_size);
  EXPECT_EQ(sizeof(BlockQ5_0), dtype_info(DType::Q5_0).type_size);
  EXPECT_EQ(sizeof(BlockQ5_1), dtype_info(DType::Q5_1).type_size);
  EXPECT_EQ(sizeof(BlockQ8_0), dtype_info(DType::Q8_0).type_size);
  EXPECT_EQ(sizeof(BlockQ8_1), dtype_info(DType::Q8_1).type_size);
  EXPECT_EQ(sizeof(BlockQ2_K), dtype_info(DType::Q2_K).type_size);
  EXPECT_EQ(sizeof(BlockQ3_K), dtype_info(DType::Q3_K).type_size);
  EXPECT_EQ(sizeof(BlockQ4_K), dtype_info(DType::Q4_K).type_size);
  EXPECT_EQ(sizeof(BlockQ5_K), dtype_info(DType::Q5_K).type_size);
  EXPECT_EQ(sizeof(BlockQ6_K), dtype_info(DType::Q6_K).type_size);
  EXPECT_EQ(sizeof(BlockQ8_K), dtype_info(DType::Q8_K).type_size);
  EXPECT_EQ(sizeof(BlockIq4Nl), dtype_info(DType::IQ4_NL).type_size);
  EXPECT_EQ(sizeof(BlockIq4Xs), dtype_info(DType::IQ4_XS).type_size);
  EXPECT_EQ(sizeof(BlockMxfp4), dtype_info(DType::MXFP4).type_size);
  EXPECT_EQ(sizeof(BlockNvfp4), dtype_info(DType::NVFP4).type_size);
  EXPECT_EQ(dtype_info(DType::NVFP4).block_size, uint32_t(kQKNvfp4));
  EXPECT_EQ(dtype_info(DType::Q4_K).block_size, uint32_t(kQK_K));
}

TEST(QuantErrors, UnsupportedTypesNameThemselves) {
  for (DType t : {DType::IQ2_XXS, DType::IQ2_XS, DType::IQ3_XXS, DType::IQ1_S, DType::IQ3_S,
                  DType::IQ2_S, DType::IQ1_M, DType::TQ1_0, DType::TQ2_0, DType::I8, DType::I32,
                  DType::F64, DType::Q1_0}) {
    const std::string name(dtype_name(t));
    EXPECT_FALSE(can_dequantize(t)) << name;
    EXPECT_FALSE(can_quantize(t)) << name;
    std::vector<uint8_t> buf(4096);
    std::vector<float> f(256);
    try {
      dequantize_row(t, buf.data(), f.data(), 256);
      ADD_FAILURE() << "no error for " << name;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "cannot dequantize type " + name);
    }
    try {
      quantize_row(t, f.data(), buf.data(), 256);
      ADD_FAILURE() << "no error for " << name;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "cannot quantize type " + name);
    }
  }
  for (const auto& tc : block_types()) {
    EXPECT_TRUE(can_dequantize(tc.type));
    EXPECT_TRUE(can_quantize(tc.type));
  }
}

TEST(QuantErrors, RowLengthMustBeWholeBlocks) {
  std::vector<uint8_t> buf(1024);
  std::vector<float> f(300);
  try {
    dequantize_row(DType::Q4_K, buf.data(), f.data(), 288);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q4_K"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("288"), std::string::npos) << e.what();
  }
  EXPECT_THROW(quantize_row(DType::Q8_0, f.data(), buf.data(), 33), Error);
  EXPECT_NO_THROW(quantize_row(DType::F16, f.data(), buf.data(), 33));  // block size 1
}

// ---- exhaustive scalar codecs -------------------------------------------------------------

TEST(QuantScalars, EveryHalfDequantizesAndRoundTrips) {
  std::vector<uint16_t> all(65536);
  for (uint32_t h = 0; h < 65536; ++h) all[h] = uint16_t(h);
  for (DType t : {DType::F16, DType::BF16}) {
    std::vector<float> y(65536);
    dequantize_row(t, all.data(), y.data(), 65536);
    std::vector<uint16_t> back(65536);
    quantize_row(t, y.data(), back.data(), 65536);
    for (uint32_t h = 0; h < 65536; ++h) {
      const float ref = t == DType::F16 ? f16_to_f32(uint16_t(h)) : bf16_to_f32(uint16_t(h));
      if (std::isnan(ref)) {
        // NaN stays NaN; f16 ones come back quieted (ggml's software path and F16C set the
        // quiet bit), bf16 ones keep their bits (ggml only shifts them).
        ASSERT_TRUE(std::isnan(y[h])) << h;
        if (t == DType::F16) {
          ASSERT_TRUE(f32_to_bits(y[h]) & 0x00400000u) << h;
        } else {
          ASSERT_EQ(f32_to_bits(y[h]), uint32_t(h) << 16) << h;
        }
        continue;
      }
      ASSERT_EQ(f32_to_bits(y[h]), f32_to_bits(ref)) << dtype_name(t) << " " << h;
      ASSERT_EQ(back[h], h) << dtype_name(t) << " " << h;
    }
  }
}

TEST(QuantScalars, EveryE8m0Byte) {
  for (int e = 0; e < 256; ++e) {
    // OCP MX: E8M0 value 2^(e-127); MXFP4 blocks use it halved (the FP4 table is doubled).
    EXPECT_EQ(e8m0_to_f32_half(uint8_t(e)), float(std::ldexp(1.0, e - 128))) << e;
    EXPECT_EQ(kE8m0HalfValues[e], e8m0_to_f32_half(uint8_t(e)));
    EXPECT_EQ(e8m0_to_f32(uint8_t(e)), float(std::ldexp(1.0, e - 127))) << e;
  }
}

// UE4M3 as defined in FACTS.md §2.2 (value halved, 0x00 / 0x7F -> 0, bit 7 ignored).
double ue4m3_spec_half(int b) {
  if (b == 0 || b == 0x7F) return 0.0;
  const int e = (b >> 3) & 0xF, m = b & 7;
  const double v = e == 0 ? m * std::ldexp(1.0, -9) : (1.0 + m / 8.0) * std::ldexp(1.0, e - 7);
  return 0.5 * v;
}

TEST(QuantScalars, EveryUe4m3Byte) {
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(double(ue4m3_to_f32_half(uint8_t(b))), ue4m3_spec_half(b)) << b;
    EXPECT_EQ(kUe4m3HalfValues[b], ue4m3_to_f32_half(uint8_t(b)));
  }
  // Encoding: every code below 0x78 (exponent < 15) is recovered from its own value.
  for (int b = 1; b < 0x78; ++b) {
    const float v = float(2.0 * ue4m3_spec_half(b));
    EXPECT_EQ(f32_to_ue4m3(v), b) << b;
    // halfway to the next code rounds up (ggml rounds half up on the dropped bit)
    if (b >= 8 && b + 1 < 0x78) {
      const float mid = float(v + (2.0 * ue4m3_spec_half(b + 1) - v) / 2);
      EXPECT_EQ(f32_to_ue4m3(mid), b + 1) << b;
    }
  }
  EXPECT_EQ(f32_to_ue4m3(0.0f), 0);
  EXPECT_EQ(f32_to_ue4m3(-1.0f), 0);
  EXPECT_EQ(f32_to_ue4m3(NAN), 0);
  EXPECT_EQ(f32_to_ue4m3(1e-5f), 0);        // below half the smallest subnormal (2^-9)
  EXPECT_EQ(f32_to_ue4m3(1e9f), 0x7E);      // clamps to 448
  EXPECT_EQ(f32_to_ue4m3(300.0f), 0x7E);    // ggml quirk: [256, 448] -> 448
  EXPECT_EQ(f32_to_ue4m3(0.0155f), 7);      // ggml quirk: just below 2^-6 caps at code 7
}

TEST(QuantScalars, Fp4AndIq4nlTables) {
  for (int c = 0; c < 16; ++c) {
    // E2M1: bit 3 sign, bits 2..1 exponent (bias 1), bit 0 mantissa; table holds 2x value.
    const int e = (c >> 1) & 3, m = c & 1;
    const double v = e == 0 ? 0.5 * m : (1.0 + 0.5 * m) * std::ldexp(1.0, e - 1);
    EXPECT_EQ(double(kFp4Values[c]), 2.0 * ((c & 8) ? -v : v)) << c;
  }
  for (int c = 1; c < 16; ++c) EXPECT_LT(kIq4nlValues[c - 1], kIq4nlValues[c]);
  EXPECT_EQ(kIq4nlValues[0], -127);
  EXPECT_EQ(kIq4nlValues[15], 113);
}

// ---- layouts: dequantize_row against the element formulas of FACTS.md §2.4 -----------------

float h(uint16_t v) { return f16_to_f32(v); }

TEST(QuantLayout, DequantizeFollowsTheDocumentedFormulas) {
  std::mt19937 rng(3);
  {  // Q4_0
    auto q = random_blocks(DType::Q4_0, 4, rng, true);
    auto y = dequant(DType::Q4_0, q, 128);
    const auto* b = reinterpret_cast<const BlockQ4_0*>(q.data());
    for (int i = 0; i < 128; ++i) {
      const BlockQ4_0& k = b[i / 32];
      const int j = i % 32;
      const int nib = j < 16 ? (k.qs[j] & 0xF) : (k.qs[j - 16] >> 4);
      ASSERT_EQ(y[i], h(k.d) * float(nib - 8)) << i;
    }
  }
  {  // Q5_1: 5th bit j of qh, y = d q + m
    auto q = random_blocks(DType::Q5_1, 4, rng, true);
    auto y = dequant(DType::Q5_1, q, 128);
    const auto* b = reinterpret_cast<const BlockQ5_1*>(q.data());
    for (int i = 0; i < 128; ++i) {
      const BlockQ5_1& k = b[i / 32];
      const int j = i % 32;
      const int nib = j < 16 ? (k.qs[j] & 0xF) : (k.qs[j - 16] >> 4);
      const int hb = (k.qh[j / 8] >> (j % 8)) & 1;
      ASSERT_EQ(y[i], float(nib + 16 * hb) * h(k.d) + h(k.m)) << i;
    }
  }
  {  // Q4_K and Q5_K: scales via get_scale_min_k4, chunks of 64
    for (DType t : {DType::Q4_K, DType::Q5_K}) {
      auto q = random_blocks(t, 2, rng, true);
      auto y = dequant(t, q, 512);
      for (int i = 0; i < 512; ++i) {
        const uint8_t* blk = q.data() + (i / 256) * dtype_info(t).type_size;
        uint16_t d, dmin;
        std::memcpy(&d, blk, 2);
        std::memcpy(&dmin, blk + 2, 2);
        const uint8_t* sc = blk + 4;
        const int e = i % 256, c = e / 64, l = e % 32, sub = e / 32;
        int s, m;
        if (sub < 4) {
          s = sc[sub] & 63;
          m = sc[sub + 4] & 63;
        } else {
          s = (sc[sub + 4] & 0xF) | ((sc[sub - 4] >> 6) << 4);
          m = (sc[sub + 4] >> 4) | ((sc[sub] >> 6) << 4);
        }
        int v;
        if (t == DType::Q4_K) {
          const uint8_t byte = blk[16 + 32 * c + l];
          v = (e % 64 < 32) ? (byte & 0xF) : (byte >> 4);
        } else {
          const uint8_t byte = blk[48 + 32 * c + l];
          const int hb = (blk[16 + l] >> (e % 64 < 32 ? 2 * c : 2 * c + 1)) & 1;
          v = ((e % 64 < 32) ? (byte & 0xF) : (byte >> 4)) + 16 * hb;
        }
        ASSERT_EQ(y[i], h(d) * float(s) * float(v) - h(dmin) * float(m)) << dtype_name(t) << i;
      }
    }
  }
  {  // Q6_K
    auto q = random_blocks(DType::Q6_K, 1, rng, true);
    auto y = dequant(DType::Q6_K, q, 256);
    const auto& k = *reinterpret_cast<const BlockQ6_K*>(q.data());
    for (int e = 0; e < 256; ++e) {
      const int n = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
      const uint8_t lo_byte = k.ql[64 * n + l + (quarter % 2) * 32];
      const int lo = quarter < 2 ? (lo_byte & 0xF) : (lo_byte >> 4);
      const int hi = (k.qh[32 * n + l] >> (2 * quarter)) & 3;
      const int sc = k.scales[8 * n + l / 16 + 2 * quarter];
      ASSERT_EQ(y[e], h(k.d) * float(sc) * float((lo | (hi << 4)) - 32)) << e;
    }
  }
  {  // IQ4_XS
    auto q = random_blocks(DType::IQ4_XS, 1, rng, true);
    auto y = dequant(DType::IQ4_XS, q, 256);
    const auto& k = *reinterpret_cast<const BlockIq4Xs*>(q.data());
    for (int e = 0; e < 256; ++e) {
      const int ib = e / 32, j = e % 32;
      const int ls = ((k.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((k.scales_h >> (2 * ib)) & 3) << 4);
      const uint8_t byte = k.qs[16 * ib + j % 16];
      const int code = j < 16 ? (byte & 0xF) : (byte >> 4);
      ASSERT_EQ(y[e], (h(k.d) * float(ls - 32)) * float(kIq4nlValues[code])) << e;
    }
  }
  {  // MXFP4 and NVFP4: value = E2M1(code) * scale, exact
    auto q = random_blocks(DType::MXFP4, 8, rng, true);
    auto y = dequant(DType::MXFP4, q, 256);
    for (int e = 0; e < 256; ++e) {
      const auto& k = reinterpret_cast<const BlockMxfp4*>(q.data())[e / 32];
      const int j = e % 32;
      const int code = j < 16 ? (k.qs[j] & 0xF) : (k.qs[j - 16] >> 4);
      ASSERT_EQ(double(y[e]), 0.5 * kFp4Values[code] * std::ldexp(1.0, k.e - 127)) << e;
    }
    auto v = random_blocks(DType::NVFP4, 4, rng, true);
    auto z = dequant(DType::NVFP4, v, 256);
    for (int e = 0; e < 256; ++e) {
      const auto& k = reinterpret_cast<const BlockNvfp4*>(v.data())[e / 64];
      const int s = (e % 64) / 16, j = e % 16;
      const uint8_t byte = k.qs[8 * s + j % 8];
      const int code = j < 8 ? (byte & 0xF) : (byte >> 4);
      ASSERT_EQ(double(z[e]), 0.5 * kFp4Values[code] * 2.0 * ue4m3_spec_half(k.d[s])) << e;
    }
  }
}

// ---- round trips -----------------------------------------------------------------------------

// llama.cpp's tests/test-quantize-fns.cpp quality gate, same data (0.1 + 2 cos(i)), same measure
// (sqrt(sum of squared errors) / n over 4096 values), same per-type thresholds.
TEST(QuantRoundTrip, MeetsLlamaCppQualityThresholds) {
  const int64_t n = 4096;
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[i] = 0.1f + 2.0f * std::cos(float(i));
  for (const auto& tc : block_types()) {
    const float limit = tc.type == DType::Q2_K ? 0.0075f
                        : tc.type == DType::Q3_K ? 0.0040f
                        : tc.type == DType::NVFP4 ? 0.0030f
                                                  : 0.002f;
    const auto y = dequant(tc.type, quant(tc.type, x), n);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += double(x[i] - y[i]) * double(x[i] - y[i]);
    EXPECT_LT(std::sqrt(sum) / double(n), limit) << tc.ggml;
  }
}

// Worst-case bounds per element where the format gives one (round to nearest on a uniform
// grid, plus the fp16 rounding of the stored scale, relative 2^-11, times the largest level).
// Holds for every block; checked on Gaussian rows, rows with block scales 2^-20..2^10 and the
// edge-case rows.
TEST(QuantRoundTrip, PerElementErrorWithinTheFormatBound) {
  std::mt19937 rng(11);
  const int64_t n = 2816;
  const double u16 = std::ldexp(1.0, -11), tiny16 = std::ldexp(1.0, -25);  // fp16 half-ulp
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q8_1,
                  DType::Q8_K, DType::MXFP4, DType::F16, DType::BF16}) {
    const int64_t bs = dtype_info(t).block_size == 1 ? 32 : dtype_info(t).block_size;
    for (int kind = 0; kind < 3; ++kind) {
      const auto x = test_row(kind, n, rng, 5e3f);
      const auto y = dequant(t, quant(t, x), n);
      for (int64_t b = 0; b < n / bs; ++b) {
        double amax = 0, mn = 1e300, mx = -1e300;
        for (int64_t i = b * bs; i < (b + 1) * bs; ++i) {
          amax = std::max(amax, std::fabs(double(x[i])));
          mn = std::min(mn, double(x[i]));
          mx = std::max(mx, double(x[i]));
        }
        const auto fp16_err = [&](double v) { return std::max(std::fabs(v) * u16, tiny16); };
        double bound = 0;  // per-element bound for this block
        switch (t) {
          case DType::Q4_0: bound = amax / 8 + 8 * fp16_err(amax / 8); break;   // top level clipped: 1 step
          case DType::Q5_0: bound = amax / 16 + 16 * fp16_err(amax / 16); break;
          case DType::Q4_1: bound = (mx - mn) / 15 * 0.5 + 15 * fp16_err((mx - mn) / 15) + fp16_err(mn); break;
          case DType::Q5_1: bound = (mx - mn) / 31 * 0.5 + 31 * fp16_err((mx - mn) / 31) + fp16_err(mn); break;
          case DType::Q8_0:
          case DType::Q8_1: bound = amax / 127 * 0.5 + 127 * fp16_err(amax / 127); break;
          // f32 scale: half a step plus the f32 rounding of d and of d * q (127 |d| 2^-23 each)
          case DType::Q8_K: bound = amax / 254 + amax * std::ldexp(1.0, -21); break;
          // shared exponent f = floor(log2 amax): levels (doubled) 0..12 in units d = 2^(f-3)
          // and amax / d in [8, 16), so values above 12 d clip: error < 4 d = 2^(f-1)
          // (below 2^-125 ggml's uint8 exponent wraps and the block decodes to zeros: |x|)
          case DType::MXFP4:
            bound = amax >= std::ldexp(1.0, -125) ? std::ldexp(1.0, std::ilogb(amax) - 1) : amax;
            break;
          default: bound = 0; break;                   // F16 / BF16: per element below
        }
        for (int64_t i = b * bs; i < (b + 1) * bs; ++i) {
          double e = bound * (1 + 1e-5);
          if (t == DType::F16) e = std::max(std::fabs(double(x[i])) * u16, tiny16);
          if (t == DType::BF16)
            e = std::max(std::fabs(double(x[i])) * std::ldexp(1.0, -8), std::ldexp(1.0, -134));
          ASSERT_LE(std::fabs(double(x[i]) - double(y[i])), e)
              << dtype_name(t) << " kind " << kind << " element " << i << " x " << x[i];
        }
      }
    }
  }
}

// Every type: zeros give zeros; all outputs are finite for inputs within the fp16 scale range
// (tiny, subnormal, below the 1e-15 cutoff, large, one-sided, ties); blocks of values below
// 1e-15 come back as (nearly) zero; a constant block is reproduced.
TEST(QuantRoundTrip, EdgeCaseRowsStayFinite) {
  std::mt19937 rng(21);
  const int64_t n = 2816;
  for (const auto& tc : block_types()) {
    SCOPED_TRACE(tc.ggml);
    const std::vector<float> zeros(static_cast<size_t>(n), 0.0f);
    for (float v : dequant(tc.type, quant(tc.type, zeros), n)) ASSERT_EQ(v, 0.0f);
    for (int rep = 0; rep < 4; ++rep) {
      const auto x = test_row(2, n, rng, 5e3f);
      const auto y = dequant(tc.type, quant(tc.type, x), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(std::isfinite(y[i])) << i << " x " << x[i];
      for (int64_t b = 0; b < n / 32; ++b) {
        bool all_tiny = true;
        for (int64_t i = 32 * b; i < 32 * b + 32; ++i) all_tiny = all_tiny && std::fabs(x[i]) < 1e-15f;
        if (!all_tiny) continue;
        for (int64_t i = 32 * b; i < 32 * b + 32; ++i) ASSERT_LE(std::fabs(y[i]), 1e-15f) << i;
      }
    }
    const std::vector<float> c(static_cast<size_t>(n), -1.5f);
    for (float v : dequant(tc.type, quant(tc.type, c), n)) ASSERT_NEAR(v, -1.5f, 0.1f);
  }
}

}  // namespace
}  // namespace hearth::quant
