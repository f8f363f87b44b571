// Entry points that fill the scalar reference table (kernels/reference/*.cpp).
#pragma once

#include "kernels/kernels.h"

namespace hearth::kernels::reference {

void register_elementwise(KernelTable& t);  // elementwise.cpp: norms, activations, f16 rows
void register_quant(KernelTable& t);        // quant_dot.cpp: activation quantizers, vec_dot, gemm

}  // namespace hearth::kernels::reference
