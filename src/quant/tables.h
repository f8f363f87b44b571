// Lookup tables and small scalar codecs shared by the quant reference and the SIMD kernels:
// the IQ4_NL non-linear levels, the FP4 (E2M1) levels, E8M0 and UE4M3 scale decoders.
// Defined once in tables.cpp (no inline code here: ISA kernel files include this header).
#pragma once

#include <cstdint>

namespace hearth::quant {

// IQ4_NL / IQ4_XS levels (ggml kvalues_iq4nl), indexed by the 4-bit code.
extern const int8_t kIq4nlValues[16];

// FP4 E2M1 levels *doubled* (ggml kvalues_mxfp4): code bit 3 = sign, bits 2..1 exponent,
// bit 0 mantissa. The halving is folded into the scale decoders below.
extern const int8_t kFp4Values[16];

// E8M0 byte e -> 2^(e-128): the MXFP4 block scale already halved to pair with kFp4Values
// (ggml's GGML_E8M0_TO_FP32_HALF; e = 0 and 1 give the f32 subnormals 2^-128, 2^-127).
extern const float kE8m0HalfValues[256];
// UE4M3 byte -> 0.5 * its value (ggml_ue4m3_to_fp32): exponent bits (x >> 3) & 0xF, bias 7,
// mantissa x & 7, subnormal m * 2^-9; bytes 0x00 and 0x7F decode to 0. Bit 7 is ignored,
// except that only 0x7F (not 0xFF, which decodes as 480 * 0.5) is special-cased.
extern const float kUe4m3HalfValues[256];

float e8m0_to_f32_half(uint8_t e);   // kE8m0HalfValues[e]
float e8m0_to_f32(uint8_t e);        // 2^(e-127), e = 0 -> 2^-127 (ggml_e8m0_to_fp32)
float ue4m3_to_f32_half(uint8_t x);  // kUe4m3HalfValues[x]

// f32 -> UE4M3 as ggml_fp32_to_ue4m3 encodes NVFP4 sub-scales: non-positive / NaN -> 0,
// clamps at 448, rounds half up on the 4th mantissa bit, saturates to 0x7E. Quirks kept on
// purpose (bit-exact): subnormal codes cap at 7 below 2^-6, and values in [256, 448) map to 0x7E.
uint8_t f32_to_ue4m3(float x);

}  // namespace hearth::quant
