// Builds the kernel tables once and picks one for the process from the CPU's features.
// HEARTH_ISA=scalar|avx2|avx512 caps the choice (tests and benchmarks use it to force a path).
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/cpu_features.h"
#include "core/error.h"
#include "kernels/kernels.h"
#include "kernels/reference/reference.h"
#include "kernels/x86/x86.h"

namespace hearth::kernels {
namespace {

struct Tables {
  KernelTable reference;
  KernelTable avx2;
  KernelTable avx512;
  bool has_avx2 = false;
  bool has_avx512 = false;

  Tables() {
    reference.name = "scalar";
    reference::register_elementwise(reference);
    reference::register_quant(reference);
    const CpuFeatures& f = cpu_features();
    // AVX2 table: Intel Haswell (2013) and later, AMD Zen and later.
    has_avx2 = f.avx2 && f.fma && f.f16c;
    if (has_avx2) {
      avx2 = reference;
      avx2.name = "avx2";
      x86::register_avx2(avx2);
    }
    // AVX-512 table: F + BW + VL + DQ + VNNI (Intel Ice Lake / Cascade Lake, AMD Zen 4 and later).
    has_avx512 = has_avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni;
    if (has_avx512) {
      avx512 = avx2;
      avx512.name = "avx512";
      x86::register_avx512(avx512);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

DType act_type(DType w) {
  switch (w) {
    case DType::F32: return DType::F32;
    case DType::F16: return DType::F16;
    case DType::BF16: return DType::BF16;
    case DType::Q4_0: case DType::Q5_0: case DType::Q8_0: case DType::IQ4_NL:
    case DType::MXFP4: case DType::NVFP4:
      return DType::Q8_0;
    case DType::Q4_1: case DType::Q5_1: return DType::Q8_1;
    case DType::Q2_K: case DType::Q3_K: case DType::Q4_K: case DType::Q5_K: case DType::Q6_K:
    case DType::IQ4_XS:
      return DType::Q8_K;
    default:
      fail("no matrix multiplication for weight type ", dtype_name(w));
  }
}

const KernelTable& reference_table() { return tables().reference; }

std::vector<const KernelTable*> available_tables() {
  std::vector<const KernelTable*> r{&tables().reference};
  if (tables().has_avx2) r.push_back(&tables().avx2);
  if (tables().has_avx512) r.push_back(&tables().avx512);
  return r;
}

const KernelTable& active_table() {
  static const KernelTable* chosen = [] {
    const auto all = available_tables();
    const char* cap = std::getenv("HEARTH_ISA");
    if (!cap || !*cap) return all.back();
    for (const KernelTable* t : all)
      if (std::strcmp(t->name, cap) == 0) return t;
    // Asking for an ISA the CPU lacks: use the best one below it.
    if (std::strcmp(cap, "scalar") == 0) return all.front();
    return all.back();
  }();
  return *chosen;
}

}  // namespace hearth::kernels
