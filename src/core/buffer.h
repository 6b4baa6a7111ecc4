// Byte buffers: owned (64-byte aligned heap memory) or mapped (a read-only file mapping).
// A Buffer is immutable in size; share it with std::shared_ptr. Not thread-safe to mutate concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/device.h"

namespace llamba::core {

class Buffer {
 public:
  enum class Kind { kOwned, kMapped };

  // Zero-filled owned memory. Blocks of 1 MiB and more are recycled from freed buffers of the same size.
  static std::shared_ptr<Buffer> allocate(size_t bytes);
  // Maps `path` read-only; throws llamba::Error naming the file on failure. An empty file maps to size 0.
  static std::shared_ptr<Buffer> map_file(const std::string& path);

  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  Kind kind() const { return kind_; }
  Device device() const { return Device::kCpu; }  // owned and mapped buffers are host memory
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
};

}  // namespace llamba::core
