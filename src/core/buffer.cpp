// Owned and memory-mapped buffers.
#include "core/buffer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/check.h"

namespace llamba::core {

std::shared_ptr<Buffer> Buffer::allocate(size_t bytes) {
  std::shared_ptr<Buffer> b(new Buffer());
  b->kind_ = Kind::kOwned;
  b->size_ = bytes;
  const size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded > 0) {
    b->data_ = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
    if (!b->data_) LLAMBA_THROW("out of memory allocating {} bytes", bytes);
    std::memset(b->data_, 0, rounded);
  }
  return b;
}

std::shared_ptr<Buffer> Buffer::map_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) LLAMBA_THROW("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    LLAMBA_THROW("{}: cannot stat: {}", path, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    LLAMBA_THROW("{}: not a regular file", path);
  }
  std::shared_ptr<Buffer> b(new Buffer());
  b->kind_ = Kind::kMapped;
  b->size_ = (size_t)st.st_size;
  b->path_ = path;
  if (b->size_ > 0) {
    void* p = ::mmap(nullptr, b->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      b->size_ = 0;
      LLAMBA_THROW("{}: cannot mmap {} bytes: {}", path, (size_t)st.st_size, std::strerror(err));
    }
    b->data_ = static_cast<uint8_t*>(p);
  }
  ::close(fd);
  return b;
}

Buffer::~Buffer() {
  if (kind_ == Kind::kOwned) {
    std::free(data_);
  } else if (data_ && size_ > 0) {
    ::munmap(data_, size_);
  }
}

}  // namespace llamba::core
