// AVX-512 registration of the float family: elementwise entries and attention blocks
// (elementwise_avx512.cpp), F32 / F16 / BF16 weights (float_weights.cpp).
#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {

void register_avx512_elementwise(KernelTable& t);     // elementwise_avx512.cpp
void register_avx512_float_weights(KernelTable& t);   // float_weights.cpp

void register_avx512_float(KernelTable& t) {
  register_avx512_elementwise(t);
  register_avx512_float_weights(t);
}

}  // namespace hearth::kernels::x86
