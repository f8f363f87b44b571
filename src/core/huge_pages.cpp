#include "core/huge_pages.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace hearth {

HugeBuffer::HugeBuffer(size_t bytes, const char* what) {
  if (bytes == 0) return;
  const size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  // Over-map by one huge page and trim both ends, so the kept range is 2 MiB aligned.
  const size_t span = size + kHugePage;
  void* m = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) fail("cannot allocate ", what, " (", bytes, " bytes): ", std::strerror(errno));
  const auto base = reinterpret_cast<uintptr_t>(m);
  const uintptr_t aligned = (base + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
  if (aligned > base) ::munmap(m, aligned - base);
  const uintptr_t end = base + span, kept_end = aligned + size;
  if (end > kept_end) ::munmap(reinterpret_cast<void*>(kept_end), end - kept_end);
  p_ = reinterpret_cast<uint8_t*>(aligned);
  bytes_ = size;
  ::madvise(p_, bytes_, MADV_HUGEPAGE);  // advisory: no THP support is not an error
}

HugeBuffer::~HugeBuffer() { release(); }

HugeBuffer& HugeBuffer::operator=(HugeBuffer&& o) noexcept {
  if (this != &o) {
    release();
    p_ = o.p_;
    bytes_ = o.bytes_;
    o.p_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

void HugeBuffer::release() {
  if (p_) ::munmap(p_, bytes_);
  p_ = nullptr;
  bytes_ = 0;
}

}  // namespace hearth
