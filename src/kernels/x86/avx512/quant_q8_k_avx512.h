// Entry points shared by the AVX-512 Q8_K-family files (declarations only).
#pragma once

#include "kernels/kernels.h"

namespace hearth::kernels::x86 {

// quant_q8_k_gemm.cpp: VNNI blocked GEMM over the repacked Q4_K / Q5_K / Q6_K layouts.
void register_avx512_q8_k_gemm(KernelTable& t);

}  // namespace hearth::kernels::x86
