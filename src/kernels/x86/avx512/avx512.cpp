// The AVX-512 table's registration: each family overrides the AVX2 entries it implements.
// Compiled with the AVX-512 flags (CMakeLists.txt); no inline or template symbols here.
#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {

void register_avx512(KernelTable& t) {
  register_avx512_q8_0_family(t);
  register_avx512_q8_k_family(t);
  register_avx512_float(t);
  register_avx512_softmax(t);
}

}  // namespace hearth::kernels::x86
