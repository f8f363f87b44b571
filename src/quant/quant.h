// Reference (scalar) conversion between f32 and every supported ggml type, bit-exact with
// ggml's dequantize_row_* and quantize_row_*_ref. The definition other code is tested against;
// speed lives in kernels/.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace hearth::quant {

// y[0..n) = dequantize(x); n must be a multiple of the type's block size.
// Throws hearth::Error naming the type if it cannot be dequantized.
void dequantize_row(DType t, const void* x, float* y, int64_t n);

// Quantize n floats (multiple of the block size) with ggml's reference quantizer.
// Throws hearth::Error naming the type if there is no quantizer.
void quantize_row(DType t, const float* x, void* y, int64_t n);

bool can_dequantize(DType t);
bool can_quantize(DType t);

}  // namespace hearth::quant
