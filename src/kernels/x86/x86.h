// Entry points of the x86 kernel tables. Each overrides the entries it implements in a copy
// of the next weaker table, so a missing fast path falls back instead of failing.
#pragma once

#include "kernels/kernels.h"

namespace hearth::kernels::x86 {

void register_avx2(KernelTable& t);  // Haswell and later, Zen 1 and later

}  // namespace hearth::kernels::x86
