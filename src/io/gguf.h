// GGUF v2/v3 reader and writer: llamba's native model and checkpoint container.
//
// Format (little-endian; ggml-org/ggml include/gguf.h):
//   magic "GGUF" (u32 0x46554747), u32 version (2 or 3), u64 tensor_count, u64 kv_count
//   kv_count x { key: u64 len + bytes, u32 value type, value }
//     value types: u8 0, i8 1, u16 2, i16 3, u32 4, i32 5, f32 6, bool 7, string 8 (u64 len + bytes),
//                  array 9 (u32 element type, u64 count, elements), u64 10, i64 11, f64 12
//   tensor_count x { name: string, u32 n_dims (<= 4), u64 ne[n_dims] (ne[0] fastest), u32 ggml type,
//                    u64 offset into the data section (a multiple of the alignment) }
//   zero padding to `general.alignment` (u32, default 32); the data section.
// Shapes are reversed once here: GgufTensorInfo::shape is in PyTorch order (ne[0] is the last dimension).
// Every read is bounds-checked; bad files throw llamba::Error naming the file and the key or tensor.
// Thread safety: a GgufFile is immutable after open and may be read from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/buffer.h"
#include "core/tensor.h"

namespace llamba::io {

enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
const char* gguf_type_name(GgufType t);
// Bytes of one scalar (an array element) of type t; 0 for strings and arrays.
size_t gguf_scalar_bytes(GgufType t);

// GGML tensor type ids as stored in tensor infos.
enum class GgmlType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
  kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kQ8_K = 15,
  kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kBF16 = 30,
};
std::string ggml_type_name(uint32_t t);
// The DType for a GGML type id, or nullopt when llamba cannot read it.
std::optional<core::DType> dtype_from_ggml(uint32_t t);
GgmlType ggml_from_dtype(core::DType t);

// One metadata value. Scalars use `u`/`i`/`f`/`b` by kind; arrays of strings use `strings`, arrays of numbers
// or bools keep their little-endian bytes in `raw`, arrays of arrays use `items`.
struct GgufValue {
  GgufType type = GgufType::kU8;
  GgufType array_type = GgufType::kU8;  // element type when type == kArray
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string str;
  std::vector<std::string> strings;
  std::vector<uint8_t> raw;
  std::vector<GgufValue> items;
  uint64_t array_size = 0;

  static GgufValue u8(uint8_t v);
  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue i64(int64_t v);
  static GgufValue f32(float v);
  static GgufValue f64(double v);
  static GgufValue boolean(bool v);
  static GgufValue string(std::string v);
  static GgufValue string_array(std::vector<std::string> v);
  static GgufValue i32_array(const std::vector<int32_t>& v);
  static GgufValue u64_array(const std::vector<uint64_t>& v);
  static GgufValue f32_array(const std::vector<float>& v);

  bool is_integer() const;
  bool is_number() const;
  // Numeric accessors convert between integer kinds and throw llamba::Error on a kind mismatch; `what`
  // names the key in the message.
  int64_t as_int(const std::string& what) const;
  double as_float(const std::string& what) const;
  bool as_bool(const std::string& what) const;
  const std::string& as_string(const std::string& what) const;
  const std::vector<std::string>& as_strings(const std::string& what) const;
  std::vector<int64_t> as_ints(const std::string& what) const;
  std::vector<double> as_floats(const std::string& what) const;
  std::string summary(size_t max_items = 8) const;  // printable, for `llamba info`
};

struct GgufTensorInfo {
  std::string name;
  uint32_t ggml_type = 0;
  core::DType dtype = core::DType::kF32;
  core::Shape shape;     // PyTorch order
  uint64_t offset = 0;   // relative to the data section
  int64_t nbytes = 0;
};

class GgufFile {
 public:
  // Maps and parses `path`; throws llamba::Error naming the file on any problem.
  static GgufFile open(const std::string& path);
  // Parses a buffer already in memory; `name` is used in messages.
  static GgufFile parse(std::shared_ptr<core::Buffer> buf, const std::string& name);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }
  const GgufValue& require(const std::string& key) const;  // throws "<file>: missing metadata key <key>"
  int64_t get_int(const std::string& key) const { return require(key).as_int(key); }
  int64_t get_int(const std::string& key, int64_t def) const;
  double get_float(const std::string& key) const { return require(key).as_float(key); }
  double get_float(const std::string& key, double def) const;
  bool get_bool(const std::string& key, bool def) const;
  std::string get_string(const std::string& key) const { return require(key).as_string(key); }
  std::string get_string(const std::string& key, const std::string& def) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  // A view of the tensor's data in the mapped file; throws if absent.
  core::TensorView tensor(const std::string& name) const;
  core::TensorView tensor(const GgufTensorInfo& info) const;
  const std::shared_ptr<core::Buffer>& buffer() const { return buf_; }

 private:
  std::string path_;
  std::shared_ptr<core::Buffer> buf_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<GgufTensorInfo> tensors_;
};

// Builds a GGUF file in memory order and writes it atomically (temp file + fsync + rename), so a crash never
// leaves a half-written file at `path`. Tensors are referenced, not copied: keep their data alive until write().
class GgufWriter {
 public:
  void set(const std::string& key, GgufValue v);  // replaces an existing key
  void remove(const std::string& key);
  // `view` must be contiguous; its shape is in PyTorch order.
  void add_tensor(const std::string& name, const core::TensorView& view);
  void add_tensor(const std::string& name, const core::Tensor& t);  // keeps `t` alive
  // A tensor produced at write time: `fill` writes its dtype_bytes(dtype, numel) bytes. Lets converters stream
  // one tensor at a time instead of holding the whole model in memory.
  void add_tensor(const std::string& name, const core::Shape& shape, core::DType dtype,
                  std::function<void(void* dst)> fill);
  void set_alignment(uint32_t a);
  void write(const std::string& path) const;
  // The same bytes in an owned (writable) buffer: GgufFile::parse of it gives views that may be modified in
  // place, which is how training holds its parameters.
  std::shared_ptr<core::Buffer> write_to_memory() const;
  size_t tensor_count() const { return tensors_.size(); }

 private:
  void emit(const std::function<void(const void*, size_t)>& out) const;
  struct Entry {
    std::string name;
    core::TensorView view;              // data == nullptr for produced tensors
    std::function<void(void*)> fill;
  };
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Entry> tensors_;
  std::vector<core::Tensor> keep_alive_;
  uint32_t alignment_ = 32;
};

}  // namespace llamba::io
