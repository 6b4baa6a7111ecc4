// Owned and memory-mapped buffers.
#include "core/buffer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <utility>

#include "core/check.h"
#include "core/mapped_files.h"

namespace llamba::core {

namespace {

// Large blocks freed by owned buffers, kept for the next allocation of the same size: training and prefill
// allocate the same activation shapes every step, and fresh pages from the kernel cost a fault and a clear each
// (measured: 12 % of a distillation step). Bounded; the oldest block goes first when full. Thread-safe.
class BlockCache {
 public:
#if defined(__SANITIZE_ADDRESS__)
  static constexpr size_t kMaxCachedBytes = 0;  // reused blocks would hide use-after-free from AddressSanitizer
#else
  static constexpr size_t kMaxCachedBytes = size_t(2) << 30;
#endif
  static constexpr size_t kMinBytes = size_t(1) << 20;

  uint8_t* take(size_t bytes) {
    if (bytes < kMinBytes) return nullptr;
    std::lock_guard<std::mutex> lk(mu_);
    for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it)
      if (it->first == bytes) {
        uint8_t* p = it->second;
        blocks_.erase(std::next(it).base());
        cached_ -= bytes;
        return p;
      }
    return nullptr;
  }
  void give(uint8_t* p, size_t bytes) {
    if (bytes < kMinBytes || bytes > kMaxCachedBytes) {
      std::free(p);
      return;
    }
    std::lock_guard<std::mutex> lk(mu_);
    blocks_.emplace_back(bytes, p);
    cached_ += bytes;
    while (cached_ > kMaxCachedBytes) {
      std::free(blocks_.front().second);
      cached_ -= blocks_.front().first;
      blocks_.pop_front();
    }
  }
  ~BlockCache() {
    for (auto& [n, p] : blocks_) std::free(p);
  }

 private:
  std::mutex mu_;
  std::deque<std::pair<size_t, uint8_t*>> blocks_;
  size_t cached_ = 0;
};

BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: buffers may outlive static destruction
  return *cache;
}

size_t rounded_size(size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

std::shared_ptr<Buffer> Buffer::allocate(size_t bytes) {
  std::shared_ptr<Buffer> b(new Buffer());
  b->kind_ = Kind::kOwned;
  b->size_ = bytes;
  const size_t rounded = rounded_size(bytes);
  if (rounded > 0) {
    b->data_ = block_cache().take(rounded);
    if (!b->data_) b->data_ = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
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
    register_mapping(b->data_, b->size_, path);  // a truncation by another process then names the file
  }
  ::close(fd);
  return b;
}

std::shared_ptr<Buffer> Buffer::adopt(uint8_t* data, size_t bytes, Device device,
                                      std::function<void(uint8_t*)> release) {
  std::shared_ptr<Buffer> b(new Buffer());
  b->kind_ = Kind::kExternal;
  b->data_ = data;
  b->size_ = bytes;
  b->device_ = device;
  b->release_ = std::move(release);
  return b;
}

Buffer::~Buffer() {
  if (kind_ == Kind::kExternal) {
    if (data_ && release_) release_(data_);
  } else if (kind_ == Kind::kOwned) {
    if (data_) block_cache().give(data_, rounded_size(size_));
  } else if (data_ && size_ > 0) {
    unregister_mapping(data_);
    ::munmap(data_, size_);
  }
}

}  // namespace llamba::core
