// Repacked (8-row interleaved) weight layouts of the AVX2 Q8_K-family kernels and the entry
// points shared by quant_q8_k_repack.cpp and quant_q8_k_gemm.cpp: layout structs, declarations
// and static helpers (anonymous namespace: each includer, AVX2- or AVX-512-flagged, compiles its
// own copy, so no inline symbol is shared between ISA objects).
//
// A group of 8 consecutive weight rows is stored super-block by super-block; each group block
// has exactly the byte size of the 8 original blocks, so a repacked tensor has the GGUF size and
// group g starts at g * 8 * row_bytes. "Rows interleaved by 4 bytes": one 32-byte vector holds
// the same 4 bytes of all 8 rows, so a kernel broadcasts 4 activation bytes to all rows at once.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/x86/avx2/transpose.h"

namespace hearth::kernels::x86 {


// Q4_K x 8 rows (8 * 144 = 1152 bytes per super-block).
struct BlockQ4_Kx8 {
  uint16_t d[8];        // fp16 d of rows 0..7
  uint16_t dmin[8];     // fp16 dmin of rows 0..7
  uint8_t scales[96];   // three 32-byte vectors: bytes 0-3, 4-7, 8-11 of each row's scales[12],
                        // as [part][row][4]
  uint8_t qs[1024];     // [chunk c][l4][row][4] = row's qs[32c + 4*l4 .. 32c + 4*l4 + 3]
};
static_assert(sizeof(BlockQ4_Kx8) == 8 * 144, "Q4_K x8 size");

// Q5_K x 8 rows (8 * 176 = 1408 bytes per super-block): Q4_K x8 plus the 5th bits, stored
// before the quants so a chunk-major kernel reads the block front to back (qh is reused by all
// four chunks from L1).
struct BlockQ5_Kx8 {
  uint16_t d[8];
  uint16_t dmin[8];
  uint8_t scales[96];   // as BlockQ4_Kx8
  uint8_t qh[256];      // [l4][row][4] = row's qh[4*l4 .. 4*l4 + 3]
  uint8_t qs[1024];     // as BlockQ4_Kx8
};
static_assert(sizeof(BlockQ5_Kx8) == 8 * 176, "Q5_K x8 size");

// Q6_K x 8 rows (8 * 210 = 1680 bytes per super-block). The low and high bits a step needs
// are adjacent, so kernels read a group block strictly front to back (with ql and qh in
// separate regions the hardware prefetcher fell behind: ~45% lower GEMV bandwidth).
struct BlockQ6_Kx8 {
  uint16_t d[8];        // fp16 d of rows 0..7
  int8_t scales[128];   // [16-element sub-block j][row]
  uint8_t q[16][96];    // [half n][l4]: { ql part 0, ql part 1, qh } each [row][4]:
                        //   ql part p = row's ql[64n + 32p + 4*l4 .. +3], qh = row's qh[32n + 4*l4 .. +3]
};
static_assert(sizeof(BlockQ6_Kx8) == 8 * 210, "Q6_K x8 size");

namespace {
// Q6_K x8: int16 [row][2] = (sc[2p][row], sc[2p+1][row]).
static inline __m256i q6k_scale_pair(const int8_t* scales, int p) {
  const __m128i v0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales + 16 * p));
  const __m128i v1 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales + 16 * p + 8));
  return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(v0, v1));
}

// Q6_K x8 offset term of the GEMVs: lane r = sum_j sc[j][r] * bsums[j] (16 sub-blocks), pairs
// of sub-blocks (2p, 2p+1) per madd.
static inline __m256i q6k_scaled_bsums(const BlockQ6_Kx8& x, const int16_t* bsums) {
  __m256i s = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int p = 0; p < 8; ++p) {
    int32_t bs;
    std::memcpy(&bs, bsums + 2 * p, 4);
    s = _mm256_add_epi32(s, _mm256_madd_epi16(q6k_scale_pair(x.scales, p), _mm256_set1_epi32(bs)));
  }
  return s;
}
}  // namespace

// The blocked GEMM's unpacked form of one super-block of an 8-row panel (quant_q8_k_gemm.cpp
// explains the scheme): levels u (IQ4_XS: signed values) 4 elements x 8 rows per step, int16
// scales per 16-element sub-block duplicated per row, bsums multipliers, f32 scales.
struct alignas(32) PanelBlock {
  uint8_t q[64][32];   // [step][row][4]
  int16_t sc[16][16];  // [16-element sub-block][row][2]
  int16_t mn[8][16];   // [pair of sub-blocks p][row][sub-block 2p, 2p+1]
  float d[8];
  float dm[8];
};
static_assert(sizeof(PanelBlock) == 2880, "PanelBlock layout");

// quant_q8_k_repack.cpp: unpack super-blocks [kb0, kb0 + kc) of the repacked 8-row group at
// `group` (type t: Q4_K, Q5_K or Q6_K) into panel[0 .. kc).
void avx2_q8_k_unpack_repacked(DType t, const void* group, int64_t nb, int64_t kb0, int64_t kc,
                               PanelBlock* panel);
// quant_q8_k_gemm.cpp: blocked GEMM over repacked groups (r0, r1 multiples of 8).
void avx2_q8_k_panel_gemm_repacked(DType t, int64_t n, const void* w, size_t w_stride, int64_t r0,
                                   int64_t r1, const void* a, size_t a_stride, int64_t m_rows,
                                   float* y, int64_t ldy);
// quant_q8_k_repack.cpp: GEMV / few-row kernels over repacked groups.
GemmFn avx2_q8_k_repacked_rows_gemm(DType t);
// quant_q8_k_repack.cpp: repack, repack_rows and gemm_repacked table entries.
void register_avx2_q8_k_repack(KernelTable& t);

}  // namespace hearth::kernels::x86
