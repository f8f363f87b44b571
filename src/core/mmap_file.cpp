// POSIX mmap of a read-only file.
#include "core/mmap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace hearth {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    fail(path, ": cannot stat: ", std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, ": not a regular file");
  }
  size_ = size_t(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      fail(path, ": cannot map: ", std::strerror(e));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

namespace {
// WILLNEED covers every page touching the range; DONTNEED only pages entirely inside it, so
// a neighbouring tensor sharing a boundary page keeps its data resident.
void advise(const uint8_t* base, size_t size, size_t offset, size_t len, int how) {
  if (!base || offset >= size) return;
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  const size_t end_raw = std::min(size, offset + len);
  size_t start = offset / page * page, end = end_raw;
  if (how == MADV_DONTNEED) {
    start = (offset + page - 1) / page * page;
    end = end_raw / page * page;
  }
  if (end > start) ::madvise(const_cast<uint8_t*>(base) + start, end - start, how);
}
}  // namespace

void MappedFile::advise_willneed(size_t offset, size_t len) const {
  advise(data_, size_, offset, len, MADV_WILLNEED);
}
void MappedFile::advise_dontneed(size_t offset, size_t len) const {
  advise(data_, size_, offset, len, MADV_DONTNEED);
}

}  // namespace hearth
