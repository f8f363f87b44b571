// Load-time repacking of matmul weights into the kernel table's layouts.
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/mmap_file.h"
#include "gguf/gguf.h"
#include "kernels/kernels.h"
#include "model/model.h"

namespace hearth::model {
namespace {
void free_aligned(uint8_t* p) { std::free(p); }
}  // namespace

uint64_t Model::repack_weights(const kernels::KernelTable& table) {
  std::vector<Weight*> ws;
  matmul_weights(ws);
  uint64_t total = 0;
  for (Weight* w : ws) {
    const int t = int(w->type);
    if (w->repacked || !table.repack[t] || !table.gemm_repacked[t]) continue;
    const int64_t group = table.repack_rows[t];
    // Rows of one matrix (one expert for 3-D tensors) must be whole groups.
    if (group <= 0 || w->ne[1] % group != 0) continue;
    const int64_t rows = w->ne[1] * w->ne[2];
    const size_t bytes = size_t(rows) * w->row_bytes;
    auto* dst = static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
    if (!dst) fail("cannot allocate ", bytes, " bytes to repack ", w->info ? w->info->name : "a weight");
    table.repack[t](w->data, dst, rows, w->ne[0]);
    // The original pages are file-backed and unmodified: dropping them frees the memory now
    // and the kernel never needs to read them again.
    if (const MappedFile* mf = file_->mapping())
      mf->advise_dontneed(size_t(w->data - mf->data()), bytes);
    owned_.emplace_back(dst, free_aligned);
    w->data = dst;
    w->repacked = true;
    total += bytes;
  }
  return total;
}

}  // namespace hearth::model
