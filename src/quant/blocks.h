// Packed block layouts of every quantized ggml type Hearth computes with, byte-for-byte as in
// ggml-common.h (FACTS.md §2.4). Layout only: no arithmetic here (quant.cpp, kernels/ own that).
// All fp16 fields hold IEEE binary16 bits; decode with hearth::f16_to_f32.
#pragma once

#include <cstdint>

namespace hearth::quant {

constexpr int kQK = 32;        // elements per block of the "legacy" types and IQ4_NL / MXFP4
constexpr int kQK_K = 256;     // elements per K-quant super-block (and IQ4_XS, Q8_K)
constexpr int kQKNvfp4 = 64;   // elements per NVFP4 block
constexpr int kQKNvfp4Sub = 16;  // elements sharing one UE4M3 sub-scale in NVFP4

// Q4_0: y[j] = d * ((qs[j] & 0xF) - 8), y[j+16] = d * ((qs[j] >> 4) - 8)
struct BlockQ4_0 {
  uint16_t d;           // fp16 scale
  uint8_t qs[kQK / 2];  // element j in the low nibble of qs[j], element j+16 in the high nibble
};

// Q4_1: y = d * nibble + m (nibble layout as Q4_0)
struct BlockQ4_1 {
  uint16_t d;           // fp16 scale
  uint16_t m;           // fp16 minimum (added)
  uint8_t qs[kQK / 2];
};

// Q5_0: 5-bit q = nibble | (bit j of qh) << 4, y = d * (q - 16)
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];        // little-endian u32: bit j is the 5th bit of element j (j = 0..31)
  uint8_t qs[kQK / 2];
};

// Q5_1: y = d * q + m with q as Q5_0 (unsigned)
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// Q8_0: y = d * qs[j]
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};

// Q8_1 (activation side of Q4_1 / Q5_1): Q8_0 plus s = fp16(d * sum(qs)), which carries the
// weight minimum's contribution through the dot product.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK];
};

// Q2_K: 16 sub-blocks of 16. scales[j] = 4-bit scale (low) | 4-bit min (high);
// y = d * (scales[j] & 0xF) * q - dmin * (scales[j] >> 4), q 2 bits.
// qs: for half h (128 elements) and shift s = 0,2,4,6: element 128h + 32(s/2) + l is
// bits s..s+1 of qs[32h + l], l = 0..31.
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;     // fp16 super-scale of the scales
  uint16_t dmin;  // fp16 super-scale of the mins
};

// Q3_K: 16 sub-blocks of 16 with signed 6-bit scales packed in scales[12]
// (low 4 bits: scales[j] / scales[j-8] >> 4; high 2 bits: scales[8 + j%4] >> 2(j/4)), value
// y = d * (scale - 32) * (q - (hmask bit set ? 0 : 4)), q = 2 low bits in qs as Q2_K;
// hmask: element 32k + l has its high bit in bit k of hmask[l], k = 0..7.
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};

// Q4_K: 8 sub-blocks of 32 with 6-bit scale and min packed in scales[12] (get_scale_min_k4);
// y = d * sc * nibble - dmin * m. Chunk c (64 elements): low nibbles of qs[32c..32c+31] are
// elements 64c..64c+31, high nibbles 64c+32..64c+63.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};

// Q5_K: Q4_K plus a 5th bit: element 64c + l has it in bit 2c of qh[l], 64c + 32 + l in bit 2c+1.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// Q6_K: 16 sub-blocks of 16, int8 scales, y = d * scales[j] * (q - 32), q = 4 bits from ql and
// 2 bits from qh (layout in FACTS.md §2.4). Note d comes last.
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

// Q8_K (activation side of the K-quants and IQ4_XS): f32 scale, bsums[k] = sum of qs[16k..16k+15].
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

// IQ4_NL: y[j] = d * kIq4nlValues[qs[j] & 0xF], y[j+16] = d * kIq4nlValues[qs[j] >> 4]
struct BlockIq4Nl {
  uint16_t d;
  uint8_t qs[kQK / 2];
};

// IQ4_XS: 8 sub-blocks of 32 with 6-bit scales ls (low 4 bits in scales_l[ib/2] >> 4(ib%2),
// high 2 bits in scales_h >> 2ib); y = d * (ls - 32) * kIq4nlValues[nibble].
struct BlockIq4Xs {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
};

// MXFP4: E8M0 shared exponent e, y = kFp4Values[nibble] * 2^(e-128) (table values are doubled).
struct BlockMxfp4 {
  uint8_t e;
  uint8_t qs[kQK / 2];
};

// NVFP4: four UE4M3 sub-scales, one per 16 elements; within sub-block s, element j (j < 8) is
// the low nibble of qs[8s + j] and element j + 8 the high nibble.
// y = kFp4Values[nibble] * ue4m3_to_f32_half(d[s]). The per-tensor second-level scale is a
// separate tensor applied by the model code, not part of the block.
struct BlockNvfp4 {
  uint8_t d[kQKNvfp4 / kQKNvfp4Sub];
  uint8_t qs[kQKNvfp4 / 2];
};

// Sizes must equal dtype_info(t).type_size (also checked at run time in tests/quant).
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIq4Nl) == 18);
static_assert(sizeof(BlockIq4Xs) == 136);
static_assert(sizeof(BlockMxfp4) == 17);
static_assert(sizeof(BlockNvfp4) == 36);

}  // namespace hearth::quant
