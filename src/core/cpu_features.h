// What the CPU (and the OS) let us run: AVX2/FMA/F16C, AVX-512 subsets, AMX tiles.
// Detection only; kernels/ decides which table to use. HEARTH_ISA=scalar|avx2|avx512|amx caps it.
#pragma once

#include <string>

namespace hearth {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false, avx512fp16 = false;
  bool avx_vnni = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;  // includes OS permission
  std::string brand;
};

// Detected once; AMX is reported only after the Linux ARCH_REQ_XCOMP_PERM request succeeds.
const CpuFeatures& cpu_features();

}  // namespace hearth
