// safetensors reader (HF checkpoints, test fixtures) and writer (small files from C++ tools and tests).
//
// Format: u64 little-endian header length N, then N bytes of JSON
//   {"__metadata__": {str: str, ...}?, "<name>": {"dtype": "F32"|"F16"|"BF16"|"F64"|"I64"|"I32"|"I16"|"I8"|"U8"|"BOOL",
//                                                "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
// then the data buffer; offsets are relative to its start. Shapes are in PyTorch order. Every entry is checked
// (dtype known, shape product times element size equals the byte range, range inside the file).
// Thread safety: a SafetensorsFile is immutable after open.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/tensor.h"

namespace llamba::io {

struct SafetensorsEntry {
  std::string name;
  core::DType dtype = core::DType::kF32;
  core::Shape shape;
  uint64_t begin = 0, end = 0;  // byte range in the data buffer
};

class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::string& path);
  static SafetensorsFile parse(std::shared_ptr<core::Buffer> buf, const std::string& name);

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  const SafetensorsEntry* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  // A view of the tensor data in the mapped file; throws llamba::Error naming the file and tensor if absent.
  core::TensorView tensor(const std::string& name) const;
  // Converts to an owned f32 (or f64) tensor; accepts any float or integer dtype.
  core::Tensor to_f32(const std::string& name) const;
  core::Tensor to_f64(const std::string& name) const;
  std::vector<int64_t> to_i64(const std::string& name) const;

 private:
  std::string path_;
  std::shared_ptr<core::Buffer> buf_;
  uint64_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorsEntry> entries_;
};

// Writes a safetensors file atomically. Views are referenced until write().
class SafetensorsWriter {
 public:
  void add(const std::string& name, const core::TensorView& view);
  void add(const std::string& name, const core::Tensor& t);
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  bool has(const std::string& name) const;
  void write(const std::string& path) const;

 private:
  std::vector<std::pair<std::string, core::TensorView>> tensors_;
  std::vector<core::Tensor> keep_alive_;
  std::map<std::string, std::string> metadata_;
};

// Converts `n` elements of any dense dtype at `src` to float/double.
void convert_to_f32(core::DType dt, const void* src, float* dst, int64_t n);
void convert_to_f64(core::DType dt, const void* src, double* dst, int64_t n);

}  // namespace llamba::io
