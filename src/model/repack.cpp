// Load-time repacking of matmul weights into the kernel table's layouts.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/mmap_file.h"
#include "gguf/gguf.h"
#include "kernels/kernels.h"
#include "model/model.h"

namespace hearth::model {
namespace {
constexpr size_t kChunkBytes = size_t(8) << 20;  // repack granularity (~8 MiB of source)
}  // namespace

uint64_t Model::repack_weights(const kernels::KernelTable& table) {
  std::vector<Weight*> all;
  matmul_weights(all);
  // The weights that get a repacked copy, and where each goes in one arena.
  std::vector<Weight*> ws;
  std::vector<size_t> offs;
  size_t total = 0;
  for (Weight* w : all) {
    const int t = int(w->type);
    if (w->repacked || !table.repack[t] || !table.gemm_repacked[t]) continue;
    const int64_t group = table.repack_rows[t];
    // Rows of one matrix (one expert for 3-D tensors) must be whole groups.
    if (group <= 0 || w->ne[1] % group != 0) continue;
    ws.push_back(w);
    offs.push_back(total);
    total += (size_t(w->ne[1] * w->ne[2]) * w->row_bytes + 63) / 64 * 64;
  }
  if (ws.empty()) return 0;
  // One arena in 2 MiB pages (core/huge_pages.h: decode streams every repacked byte once per
  // token). One arena rather than one allocation per tensor: rounding each up to 2 MiB would
  // waste ~1 MiB per tensor.
  owned_.emplace_back(total, "the repacked weights");
  uint8_t* arena = owned_.back().data();
  const MappedFile* mf = file_->mapping();
  for (size_t i = 0; i < ws.size(); ++i) {
    Weight* w = ws[i];
    const int t = int(w->type);
    const int64_t group = table.repack_rows[t];
    const int64_t rows = w->ne[1] * w->ne[2];
    const size_t bytes = size_t(rows) * w->row_bytes;
    uint8_t* dst = arena + offs[i];
    // Repack in chunks of whole row groups (group g sits at g * group * row_bytes in both
    // layouts) and drop each chunk's source pages as soon as it is done: they are file-backed
    // and unmodified, so the kernel can discard them, and peak RSS grows by one chunk rather
    // than by the tensor (a tied output head touches all of token_embd, ~165 MB for Qwen3).
    const int64_t chunk_rows = std::max<int64_t>(group, int64_t(kChunkBytes / w->row_bytes) / group * group);
    for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
      const int64_t nr = std::min(chunk_rows, rows - r0);
      const size_t off = size_t(r0) * w->row_bytes;
      table.repack[t](w->data + off, dst + off, nr, w->ne[0]);
      if (mf) mf->advise_dontneed(size_t(w->data - mf->data()) + off, size_t(nr) * w->row_bytes);
    }
    // Chunk edges share pages that the per-chunk calls (whole pages only) left mapped.
    if (mf) mf->advise_dontneed(size_t(w->data - mf->data()), bytes);
    w->data = dst;
    w->repacked = true;
  }
  return total;
}

}  // namespace hearth::model
