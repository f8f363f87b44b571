// AVX2 quantized matrix kernels (placeholder: the reference entries stay in place).
#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {
void register_avx2_q8_0_family(KernelTable&) {}
}  // namespace hearth::kernels::x86
