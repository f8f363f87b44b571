// Memory that is streamed end to end (repacked weights, the KV cache, the bandwidth probe):
// anonymous mappings aligned to 2 MiB and marked MADV_HUGEPAGE, zero-filled by the kernel.
//
// Why: decode reads every repacked weight byte and the whole KV cache of a sequence once per
// token. In 4 KiB pages a 600 MB model is ~150k TLB entries, and each page walk (two-dimensional
// in a virtual machine) stalls the stream; with transparent huge pages (where the system leaves
// THP to madvise, as Debian does) the same bytes need ~300 entries. Without THP this is an
// ordinary zeroed mapping.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hearth {

class HugeBuffer {
 public:
  static constexpr size_t kHugePage = size_t(2) << 20;

  HugeBuffer() = default;
  // bytes rounded up to whole 2 MiB pages; fails (hearth::Error naming `what`) when the
  // mapping fails.
  explicit HugeBuffer(size_t bytes, const char* what = "a buffer");
  ~HugeBuffer();
  HugeBuffer(HugeBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr; o.bytes_ = 0; }
  HugeBuffer& operator=(HugeBuffer&& o) noexcept;
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;

  uint8_t* data() const { return p_; }
  size_t size() const { return bytes_; }

 private:
  void release();
  uint8_t* p_ = nullptr;
  size_t bytes_ = 0;  // mapped bytes (a multiple of kHugePage)
};

}  // namespace hearth
