// Entry points of the x86 kernel tables. Each overrides the entries it implements in a copy
// of the next weaker table, so a missing fast path falls back instead of failing.
#pragma once

#include "kernels/kernels.h"

namespace hearth::kernels::x86 {

void register_avx2(KernelTable& t);  // Haswell and later, Zen 1 and later (calls the two below)
// avx2/quant_q8_0_family.cpp: weights whose activations are Q8_0/Q8_1 (Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0, IQ4_NL, MXFP4, NVFP4) and those activation quantizers.
void register_avx2_q8_0_family(KernelTable& t);
// avx2/quant_q8_k_family.cpp: K-quants and IQ4_XS (Q8_K activations), F32/F16/BF16 weights,
// and the Q8_K/F16/BF16 activation quantizers.
void register_avx2_q8_k_family(KernelTable& t);

// AVX-512 table (F, BW, VL, DQ and VNNI: Ice Lake, Zen 4 and later), a copy of the AVX2 table
// with these overrides. avx512/avx512.cpp calls the three below; BF16 entries are registered only
// where cpu_features().avx512bf16 says the CPU has them.
void register_avx512(KernelTable& t);
// avx512/quant_q8_0_*.cpp: the Q8_0 / Q8_1-activation weight types (see the AVX2 list).
void register_avx512_q8_0_family(KernelTable& t);
// avx512/quant_q8_k_*.cpp: K-quants and IQ4_XS (Q8_K activations).
void register_avx512_q8_k_family(KernelTable& t);
// avx512/float_*.cpp and elementwise_avx512.cpp: F32 / F16 / BF16 weights, elementwise entries,
// attention blocks.
void register_avx512_float(KernelTable& t);
// avx512/softmax_avx512.cpp: the attention softmax row.
void register_avx512_softmax(KernelTable& t);

}  // namespace hearth::kernels::x86
