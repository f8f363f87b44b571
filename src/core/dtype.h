// ggml tensor type ids with their block geometry: the one table every module agrees on.
// Numeric behaviour of each type (dequantize, quantize, dot products) lives in quant/ and kernels/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hearth {

// Values are the on-disk ggml_type ids (ggml.h / gguf-py constants.py GGMLQuantizationType).
enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
  NVFP4 = 40,
  Q1_0 = 41,
};

struct DTypeInfo {
  DType type;
  std::string_view name;  // as llama.cpp prints it ("q4_K", "f16", ...)
  uint32_t block_size;    // elements per block
  uint32_t type_size;     // bytes per block
  bool supported;         // Hearth can compute with it (dequantize + dot product)
};

// Geometry of a type id read from a file; nullopt for ids ggml does not define.
std::optional<DTypeInfo> dtype_info(uint32_t id);
// Same for a known enum value (always defined).
const DTypeInfo& dtype_info(DType t);
inline std::string_view dtype_name(DType t) { return dtype_info(t).name; }
// Parse "q4_K", "Q4_K", "f16", "mxfp4", ... (case-insensitive); nullopt if unknown.
std::optional<DType> dtype_from_name(std::string_view name);

// Bytes of a row of n elements; n must be a multiple of the block size.
inline size_t row_bytes(DType t, int64_t n) {
  const DTypeInfo& i = dtype_info(t);
  return size_t(n / i.block_size) * i.type_size;
}

}  // namespace hearth
