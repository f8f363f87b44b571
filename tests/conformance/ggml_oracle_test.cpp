// Bit-exactness of quant/ and the reference quant kernels against llama.cpp's own libraries
// (the prebuilt CPU build node-llama-cpp ships in .oracle/), loaded with dlopen. Skips, saying
// why, when the oracle is not installed or the CPU cannot run its AVX2 (haswell) library.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/fp16.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/quant.h"
#include "quant/quant_test_util.h"

namespace hearth {
namespace {

using quant::testing::block_types;
using quant::testing::random_blocks;
using quant::testing::test_row;
using quant::testing::weight_types;

// ggml's C interface, declared here from ggml.h / ggml-cpu.h (we do not include llama.cpp).
using DequantFn = void (*)(const void* x, float* y, int64_t k);
using QuantFn = void (*)(const float* x, void* y, int64_t k);
using GgmlVecDotFn = void (*)(int n, float* s, size_t bs, const void* x, size_t bx,
                              const void* y, size_t by, int nrc);
struct GgmlTypeTraitsCpu {  // struct ggml_type_traits_cpu
  QuantFn from_float;
  GgmlVecDotFn vec_dot;
  int vec_dot_type;  // enum ggml_type
  int64_t nrows;
};
using GetTraitsFn = const GgmlTypeTraitsCpu* (*)(int type);

constexpr const char* kLibDir = HEARTH_ORACLE_DIR "/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/";

struct Oracle {
  void* base = nullptr;
  void* cpu = nullptr;
  std::string why_not;  // empty when loaded
  GetTraitsFn traits = nullptr;

  Oracle() {
    const std::string base_path = std::string(kLibDir) + "libggml-base.so";
    base = dlopen(base_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!base) {
      why_not = "oracle not installed: run scripts/setup (" + std::string(dlerror()) + ")";
      return;
    }
    const CpuFeatures& f = cpu_features();
    if (!(f.avx2 && f.fma && f.f16c)) {
      why_not = "CPU lacks AVX2/FMA/F16C, cannot load libggml-cpu-haswell.so";
      return;
    }
    const std::string cpu_path = std::string(kLibDir) + "libggml-cpu-haswell.so";
    cpu = dlopen(cpu_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!cpu) {
      why_not = "oracle not installed: run scripts/setup (" + std::string(dlerror()) + ")";
      return;
    }
    if (auto init = reinterpret_cast<void (*)()>(dlsym(cpu, "ggml_cpu_init"))) init();
    traits = reinterpret_cast<GetTraitsFn>(dlsym(cpu, "ggml_get_type_traits_cpu"));
    if (!traits) why_not = "libggml-cpu-haswell.so has no ggml_get_type_traits_cpu";
  }

  template <typename F>
  F base_sym(const std::string& name) const {
    return reinterpret_cast<F>(dlsym(base, name.c_str()));
  }
  template <typename F>
  F cpu_sym(const std::string& name) const {
    return reinterpret_cast<F>(dlsym(cpu, name.c_str()));
  }
};

const Oracle& oracle() {
  static const Oracle o;
  return o;
}

#define REQUIRE_ORACLE()                                      \
  do {                                                        \
    if (!oracle().why_not.empty()) GTEST_SKIP() << oracle().why_not; \
  } while (0)

std::string hex_diff(const uint8_t* a, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i])
      return cat("first differing byte ", i, ": hearth 0x", std::hex, int(a[i]), " ggml 0x",
                 int(b[i]));
  return "equal";
}

// Every block-quantized type: our dequantize_row == ggml's dequantize_row_*, bit for bit, on
// random blocks with arbitrary bits (NaN / inf scales included), well-formed random blocks,
// and all-zero / all-one bytes.
TEST(GgmlOracle, DequantizeIsBitExact) {
  REQUIRE_ORACLE();
  std::mt19937 rng(1234);
  for (const auto& tc : block_types()) {
    if (tc.type == DType::Q8_1) continue;  // ggml has no Q8_1 dequantizer (activation-only)
    SCOPED_TRACE(tc.ggml);
    auto fn = oracle().base_sym<DequantFn>(std::string("dequantize_row_") + tc.ggml);
    ASSERT_NE(fn, nullptr) << "missing dequantize_row_" << tc.ggml;
    const DTypeInfo& info = dtype_info(tc.type);
    const int64_t nb = 64;
    const int64_t n = nb * info.block_size;
    for (int variant = 0; variant < 4; ++variant) {
      std::vector<uint8_t> blocks;
      if (variant < 2) blocks = random_blocks(tc.type, nb, rng, variant == 1);
      else blocks.assign(size_t(nb) * info.type_size, variant == 2 ? 0x00 : 0xFF);
      std::vector<float> ours(static_cast<size_t>(n)), theirs(static_cast<size_t>(n));
      quant::dequantize_row(tc.type, blocks.data(), ours.data(), n);
      fn(blocks.data(), theirs.data(), n);
      EXPECT_EQ(std::memcmp(ours.data(), theirs.data(), size_t(n) * 4), 0)
          << "variant " << variant << ": "
          << hex_diff(reinterpret_cast<uint8_t*>(ours.data()),
                      reinterpret_cast<uint8_t*>(theirs.data()), size_t(n) * 4);
    }
  }
}

// Exhaustive over the 8-bit scale encodings: every E8M0 byte (MXFP4) and every UE4M3 byte
// (NVFP4 sub-scale), each paired with every 4-bit code, dequantized by ggml and by us.
TEST(GgmlOracle, EveryScaleByteDecodesLikeGgml) {
  REQUIRE_ORACLE();
  auto mx = oracle().base_sym<DequantFn>("dequantize_row_mxfp4");
  auto nv = oracle().base_sym<DequantFn>("dequantize_row_nvfp4");
  ASSERT_TRUE(mx && nv);
  std::vector<quant::BlockMxfp4> m(256);
  std::vector<quant::BlockNvfp4> v(64);
  for (int e = 0; e < 256; ++e) {
    m[e].e = uint8_t(e);
    for (int j = 0; j < 16; ++j) m[e].qs[j] = uint8_t(j | ((15 - j) << 4));
  }
  for (int b = 0; b < 64; ++b) {
    for (int s = 0; s < 4; ++s) v[b].d[s] = uint8_t(4 * b + s);
    for (int j = 0; j < 32; ++j) v[b].qs[j] = uint8_t((j % 16) | ((15 - j % 16) << 4));
  }
  std::vector<float> a(256 * 32), b(256 * 32);
  quant::dequantize_row(DType::MXFP4, m.data(), a.data(), 256 * 32);
  mx(m.data(), b.data(), 256 * 32);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
  quant::dequantize_row(DType::NVFP4, v.data(), a.data(), 64 * 64);
  nv(v.data(), b.data(), 64 * 64);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), 64 * 64 * 4), 0);
}

// For IQ4_NL, ggml's reference quantizer leaves the codes of an all-(near-)zero block
// unwritten (stale stack memory); d is 0 so every code means 0. Such blocks are compared
// by d and by value (+0 == -0) instead of by bytes.
bool iq4_nl_zero_block_equal(const uint8_t* ours, const uint8_t* theirs, const float* x) {
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) >= 1e-15f) return false;
  if (std::memcmp(ours, theirs, 2) != 0) return false;
  float a[32], b[32];
  quant::dequantize_row(DType::IQ4_NL, ours, a, 32);
  quant::dequantize_row(DType::IQ4_NL, theirs, b, 32);
  for (int j = 0; j < 32; ++j)
    if (a[j] != b[j]) return false;
  return true;
}

// Our quantize_row == ggml's quantize_row_*_ref byte for byte, on Gaussian rows, rows with
// block scales from 2^-20 to 2^14, and the edge-case rows of test_row().
TEST(GgmlOracle, ReferenceQuantizeIsBitExact) {
  REQUIRE_ORACLE();
  std::mt19937 rng(99);
  const int64_t n = 3072;  // 12 super-blocks; each edge-case kind at several 32-offsets
  for (const auto& tc : block_types()) {
    SCOPED_TRACE(tc.ggml);
    auto fn = oracle().base_sym<QuantFn>(std::string("quantize_row_") + tc.ggml + "_ref");
    ASSERT_NE(fn, nullptr);
    const DTypeInfo& info = dtype_info(tc.type);
    const size_t bytes = row_bytes(tc.type, n);
    for (int kind = 0; kind < 3; ++kind) {
      for (int rep = 0; rep < 3; ++rep) {
        const std::vector<float> x = test_row(kind, n, rng);
        std::vector<uint8_t> ours(bytes, 0xA5), theirs(bytes, 0x00);
        quant::quantize_row(tc.type, x.data(), ours.data(), n);
        fn(x.data(), theirs.data(), n);
        for (int64_t b = 0; b < n / info.block_size; ++b) {
          const uint8_t* o = ours.data() + b * info.type_size;
          const uint8_t* t = theirs.data() + b * info.type_size;
          if (std::memcmp(o, t, info.type_size) == 0) continue;
          if (tc.type == DType::IQ4_NL && iq4_nl_zero_block_equal(o, t, x.data() + b * 32)) continue;
          ADD_FAILURE() << "kind " << kind << " block " << b << ": "
                        << hex_diff(o, t, info.type_size);
          break;
        }
      }
    }
  }
}

// F16 / BF16 rows: ggml's f32 -> f16 (software, round to nearest even) and f32 -> bf16 row
// converters against ours, on random bit patterns (NaNs excluded: ggml keeps no payload rule
// we rely on) and every f16 / bf16 value plus and minus half an ulp.
TEST(GgmlOracle, HalfPrecisionRowsAreBitExact) {
  REQUIRE_ORACLE();
  auto to_f16 = oracle().base_sym<QuantFn>("ggml_fp32_to_fp16_row");
  auto to_bf16 = oracle().base_sym<QuantFn>("ggml_fp32_to_bf16_row_ref");
  auto from_f16 = oracle().base_sym<DequantFn>("ggml_fp16_to_fp32_row");
  auto from_bf16 = oracle().base_sym<DequantFn>("ggml_bf16_to_fp32_row");
  ASSERT_TRUE(to_f16 && to_bf16 && from_f16 && from_bf16);
  std::mt19937 rng(7);
  std::vector<float> x;
  for (int i = 0; i < 200000; ++i) {
    const float f = bits_to_f32(uint32_t(rng()));
    if (!std::isnan(f)) x.push_back(f);
  }
  for (uint32_t h = 0; h < 65536; ++h) {
    for (float f : {f16_to_f32(uint16_t(h)), bf16_to_f32(uint16_t(h))}) {
      if (std::isnan(f)) continue;
      const uint32_t u = f32_to_bits(f);
      x.push_back(f);
      x.push_back(bits_to_f32(u + 0x1000));  // f16 half-ulp ties for normal f16 values
      x.push_back(bits_to_f32(u + 0x8000));  // bf16 half-ulp ties
    }
  }
  x.resize(x.size() / 2 * 2);
  const int64_t n = int64_t(x.size());
  for (DType t : {DType::F16, DType::BF16}) {
    SCOPED_TRACE(dtype_name(t));
    std::vector<uint16_t> ours(x.size()), theirs(x.size());
    quant::quantize_row(t, x.data(), ours.data(), n);
    (t == DType::F16 ? to_f16 : to_bf16)(x.data(), theirs.data(), n);
    EXPECT_EQ(std::memcmp(ours.data(), theirs.data(), x.size() * 2), 0);
    std::vector<uint16_t> all(65536);
    for (uint32_t h = 0; h < 65536; ++h) all[h] = uint16_t(h);
    std::vector<float> a(65536), b(65536);
    quant::dequantize_row(t, all.data(), a.data(), 65536);
    (t == DType::F16 ? from_f16 : from_bf16)(all.data(), b.data(), 65536);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
  }
}

// The CPU backend's type traits: every weight type's vec_dot_type is our act_type, and the
// from_float it runs for each activation type (AVX2 quantize_row_q8_0 / q8_1 with
// ties-to-even, reference q8_K, F16C f16, bf16, f32 copy) equals our quantize_act bit for bit.
TEST(GgmlOracle, ActivationQuantizersMatchTheCpuBackend) {
  REQUIRE_ORACLE();
  for (DType w : weight_types()) {
    const GgmlTypeTraitsCpu* tr = oracle().traits(int(w));
    ASSERT_NE(tr, nullptr);
    EXPECT_EQ(tr->vec_dot_type, int(kernels::act_type(w))) << dtype_name(w);
  }
  const kernels::KernelTable& ref = kernels::reference_table();
  std::mt19937 rng(5);
  const int64_t n = 2816;
  for (DType a : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
    SCOPED_TRACE(dtype_name(a));
    ASSERT_NE(ref.quantize_act[int(a)], nullptr);
    const GgmlTypeTraitsCpu* tr = oracle().traits(int(a));
    ASSERT_TRUE(tr && tr->from_float);
    const DTypeInfo& info = dtype_info(a);
    const size_t bytes = row_bytes(a, n);
    for (int kind = 0; kind < 3; ++kind) {
      for (int rep = 0; rep < 3; ++rep) {
        const std::vector<float> x = test_row(kind, n, rng);
        std::vector<uint8_t> ours(bytes, 0xA5), theirs(bytes, 0x00);
        ref.quantize_act[int(a)](x.data(), ours.data(), n);
        tr->from_float(x.data(), theirs.data(), n);
        for (size_t b = 0; b < bytes / info.type_size; ++b) {
          const uint8_t* o = ours.data() + b * info.type_size;
          const uint8_t* t = theirs.data() + b * info.type_size;
          if (std::memcmp(o, t, info.type_size) != 0) {
            ADD_FAILURE() << "kind " << kind << " block " << b << ": " << hex_diff(o, t, info.type_size);
            break;
          }
        }
      }
    }
  }
  // The x86 Q8_0 activation quantizer really differs from the reference one on ties:
  // 0.5 * (127 / 127) rounds to 0 (even), not 1 as roundf would.
  std::vector<float> x(32, 0.5f);
  x[0] = 127.0f;
  quant::BlockQ8_0 act{}, refq{};
  ref.quantize_act[int(DType::Q8_0)](x.data(), &act, 32);
  quant::quantize_row(DType::Q8_0, x.data(), &refq, 32);
  EXPECT_EQ(act.qs[1], 0);
  EXPECT_EQ(refq.qs[1], 1);
}

// Upper bound on |value at level 0| for a weight block: the subtracted minimum (Q4_1 / Q5_1: m;
// Q2_K: 15 * dmin; Q4_K / Q5_K: 63 * dmin). 0 for symmetric types.
double block_offset(DType t, const uint8_t* blk) {
  auto h = [&](size_t off) {
    uint16_t v;
    std::memcpy(&v, blk + off, 2);
    return std::fabs(double(f16_to_f32(v)));
  };
  switch (t) {
    case DType::Q4_1: return h(offsetof(quant::BlockQ4_1, m));
    case DType::Q5_1: return h(offsetof(quant::BlockQ5_1, m));
    case DType::Q2_K: return 15 * h(offsetof(quant::BlockQ2_K, dmin));
    case DType::Q4_K: return 63 * h(offsetof(quant::BlockQ4_K, dmin));
    case DType::Q5_K: return 63 * h(offsetof(quant::BlockQ5_K, dmin));
    default: return 0.0;
  }
}

// vec_dot against ggml_vec_dot_<w>_<a>_generic (F32/F16/BF16: the CPU backend's vec_dot).
//
// Bound. Our code performs the same float operations in the same order as the generic C, but
// the haswell library is compiled with -mfma and the compiler contracted some a * b + c into
// FMAs (vfmadd in its disassembly). Each contraction drops one rounding, <= 2^-24 |a b|, where
// |a b| <= M_b = sum over the block of (|w_i| + 2 off_b) |a_i| (w, a dequantized; off_b the
// block minimum bound above: |d sc q| <= |w| + off). A difference in a partial sum also changes
// each later rounding of the running sum by <= 2^-24 |partial| <= 2^-24 M. With nb blocks and
// 8 final lane additions: |ours - ggml| <= (2 nb + 16) 2^-24 M = (nb + 8) 2^-23 M.
// F32/F16/BF16 vs the SIMD vec_dot: any summation order of n float products errs by at most
// n 2^-24 sum|w_i a_i| (our reference sums exact products in double), so tol = (n + 1) 2^-24 M.
TEST(GgmlOracle, VecDotMatchesGgmlGeneric) {
  REQUIRE_ORACLE();
  const kernels::KernelTable& ref = kernels::reference_table();
  std::mt19937 rng(42);
  const int64_t n = 2816;
  for (DType w : weight_types()) {
    SCOPED_TRACE(dtype_name(w));
    const DType a = kernels::act_type(w);
    GgmlVecDotFn theirs_fn = nullptr;
    const bool is_float = w == DType::F32 || w == DType::F16 || w == DType::BF16;
    if (is_float) {
      theirs_fn = oracle().traits(int(w))->vec_dot;
    } else {
      const auto name = cat("ggml_vec_dot_", dtype_name(w), "_", dtype_name(a), "_generic");
      theirs_fn = oracle().cpu_sym<GgmlVecDotFn>(name);
      ASSERT_NE(theirs_fn, nullptr) << name;
    }
    const DTypeInfo& wi = dtype_info(w);
    const int64_t nb = n / wi.block_size;
    double worst_ratio = 0.0;
    int64_t max_ulps = 0;  // reported, not asserted: how far apart the floats actually are
    for (int trial = 0; trial < 24; ++trial) {
      // Weights: random well-formed blocks, or the reference quantization of a test row.
      std::vector<uint8_t> wrow;
      if (trial % 2 == 0 && !is_float) {
        wrow = random_blocks(w, nb, rng, true);
      } else {
        const auto xw = test_row(trial % 3 == 2 ? 1 : 0, n, rng);
        wrow.resize(row_bytes(w, n));
        quant::quantize_row(w, xw.data(), wrow.data(), n);
      }
      // Activations: F16/BF16 ones must stay in the half-precision range (test_row's 1e20
      // and 2^14-scaled blocks overflow f16), so float types get N(0,1) times 2^[-8, 8].
      auto x = test_row(is_float ? 0 : trial % 3, n, rng, 1e3f);
      if (is_float) {
        const float s = std::ldexp(1.0f, int(rng() % 17) - 8);
        for (float& v : x) v *= s;
      }
      std::vector<uint8_t> arow(row_bytes(a, n));
      ref.quantize_act[int(a)](x.data(), arow.data(), n);

      const float ours = ref.vec_dot[int(w)](n, wrow.data(), arow.data());
      float theirs = 0.0f;
      theirs_fn(int(n), &theirs, 0, wrow.data(), 0, arow.data(), 0, 1);

      std::vector<float> wd(static_cast<size_t>(n)), ad(static_cast<size_t>(n));
      quant::dequantize_row(w, wrow.data(), wd.data(), n);
      quant::dequantize_row(a, arow.data(), ad.data(), n);
      double m = 0.0;
      for (int64_t b = 0; b < nb; ++b) {
        const double off = block_offset(w, wrow.data() + b * wi.type_size);
        for (int64_t i = b * wi.block_size; i < (b + 1) * wi.block_size; ++i)
          m += (std::fabs(double(wd[i])) + 2 * off) * std::fabs(double(ad[i]));
      }
      const double tol = is_float ? double(n + 1) * std::ldexp(1.0, -24) * m
                                  : double(nb + 8) * std::ldexp(1.0, -23) * m;
      const double diff = std::fabs(double(ours) - double(theirs));
      ASSERT_TRUE(std::isfinite(ours) && std::isfinite(theirs)) << "trial " << trial;
      EXPECT_LE(diff, tol) << "trial " << trial << ": hearth " << ours << " ggml " << theirs;
      if (tol > 0) worst_ratio = std::max(worst_ratio, diff / tol);
      if ((ours < 0) == (theirs < 0))
        max_ulps = std::max(max_ulps, std::abs(int64_t(f32_to_bits(ours)) - int64_t(f32_to_bits(theirs))));
    }
    RecordProperty(cat("worst_diff_over_tol_", dtype_name(w)), std::to_string(worst_ratio));
    RecordProperty(cat("max_ulps_", dtype_name(w)), std::to_string(max_ulps));
  }
}

}  // namespace
}  // namespace hearth
