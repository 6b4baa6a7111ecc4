// Byte buffers: owned (64-byte aligned heap memory), mapped (a read-only file mapping) or external (memory that
// another layer allocated, e.g. GPU memory from ops/cuda, released by the function it handed over).
// A Buffer is immutable in size; share it with std::shared_ptr. Not thread-safe to mutate concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/device.h"

namespace llamba::core {

class Buffer {
 public:
  enum class Kind { kOwned, kMapped, kExternal };

  // Zero-filled owned memory. Blocks of 1 MiB and more are recycled from freed buffers of the same size.
  static std::shared_ptr<Buffer> allocate(size_t bytes);
  // Maps `path` read-only; throws llamba::Error naming the file on failure. An empty file maps to size 0. If
  // another process truncates the file while it is mapped, reading a lost page ends the process with a message
  // naming the file (core/mapped_files.h) instead of a bare SIGBUS.
  static std::shared_ptr<Buffer> map_file(const std::string& path);
  // Takes `bytes` at `data` on `device`, allocated elsewhere; `release(data)` runs when the buffer dies. Core
  // never touches such memory itself: ops/cuda allocates, copies and frees GPU buffers through this.
  static std::shared_ptr<Buffer> adopt(uint8_t* data, size_t bytes, Device device,
                                       std::function<void(uint8_t*)> release);

  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  Kind kind() const { return kind_; }
  Device device() const { return device_; }  // owned and mapped buffers are host memory
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }  // empty for owned buffers

 private:
  Buffer() = default;
  Kind kind_ = Kind::kOwned;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  Device device_ = Device::kCpu;
  std::function<void(uint8_t*)> release_;  // kExternal only
};

}  // namespace llamba::core
