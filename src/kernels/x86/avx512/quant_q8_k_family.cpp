// AVX-512 kernels for the K-quant / IQ4_XS (Q8_K activation) family: each file overrides the
// AVX2 entries it beats (a missing entry keeps the AVX2 kernel).
#include "kernels/x86/avx512/quant_q8_k_avx512.h"
#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {

void register_avx512_q8_k_family(KernelTable& t) {
  register_avx512_q8_k_gemm(t);
}

}  // namespace hearth::kernels::x86
