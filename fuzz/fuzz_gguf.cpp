// libFuzzer target for the GGUF parser: any input must parse or throw hearth::Error, and every
// tensor it accepts must lie inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "gguf/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = hearth::gguf::File::parse(data, size, "fuzz.gguf");
    for (const auto& t : f->tensors())
      if (t.data < data || t.data + t.nbytes > data + size) std::abort();
    for (const auto& [k, v] : f->metadata()) (void)k, (void)v.count;
  } catch (const hearth::Error&) {
  }
  return 0;
}
