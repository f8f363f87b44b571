// AVX2 blocked GEMM for K-quant / IQ4_XS weights x Q8_K activations (prefill). Placeholder
// while the blocked kernel is written: every m uses the row kernels of quant_q8_k_dot.cpp.
#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {
void register_avx2_q8_k_gemm(KernelTable&) {}
}  // namespace hearth::kernels::x86
