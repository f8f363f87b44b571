// AVX-512 kernels: placeholder registration (filled in by the kernel work).
#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {

void register_avx512_float(KernelTable& t) { (void)t; }

}  // namespace hearth::kernels::x86
