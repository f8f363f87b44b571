// Reference (scalar) conversion between f32 and every supported ggml type, bit-exact with
// ggml's dequantize_row_* and quantize_row_*_ref. The definition other code is tested against;
// speed lives in kernels/. Block layouts: quant/blocks.h; shared tables: quant/tables.h.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace hearth::quant {

// y[0..n) = dequantize(x); n must be a multiple of the type's block size.
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q6_K, Q8_K, IQ4_NL,
// IQ4_XS, MXFP4, NVFP4 (without its per-tensor second-level scale, which model code applies).
// Throws hearth::Error naming the type if it cannot be dequantized ("cannot dequantize type
// iq2_xxs") or if n is not a multiple of the block size.
void dequantize_row(DType t, const void* x, float* y, int64_t n);

// Quantize n floats (multiple of the block size) with ggml's reference quantizer
// (quantize_row_*_ref; IQ4_NL / IQ4_XS without an importance matrix). Inputs must be finite.
// Note Q8_0 / Q8_1 here are the *reference* quantizers used for model files; the activation
// quantizers llama.cpp's x86 CPU backend runs (ties-to-even rounding) are the kernel table's
// quantize_act entries. Throws hearth::Error naming the type if there is no quantizer.
void quantize_row(DType t, const float* x, void* y, int64_t n);

bool can_dequantize(DType t);
bool can_quantize(DType t);

}  // namespace hearth::quant
