// GGUF parsing (bounds-checked cursor over the mapped file) and atomic writing.
#include "io/gguf.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "io/atomic_file.h"

namespace llamba::io {

using core::DType;

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxTensorDims = 4;
constexpr int kMaxArrayDepth = 8;

// Reads little-endian values from [p, end); every read checks the remaining length.
class Cursor {
 public:
  Cursor(const uint8_t* begin, const uint8_t* end, const std::string& file) : p_(begin), begin_(begin), end_(end), file_(file) {}

  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  std::string read_string(const char* what) {
    const uint64_t n = read<uint64_t>(what);
    need(n, what);
    std::string s(reinterpret_cast<const char*>(p_), (size_t)n);
    p_ += n;
    return s;
  }
  void need(uint64_t n, const char* what) const {
    if (n > (uint64_t)(end_ - p_))
      LLAMBA_THROW("{}: truncated or corrupt GGUF file: {} needs {} bytes at offset {}, only {} left", file_, what, n,
                   offset(), (uint64_t)(end_ - p_));
  }
  void skip(uint64_t n, const char* what) {
    need(n, what);
    p_ += n;
  }
  const uint8_t* ptr() const { return p_; }
  uint64_t offset() const { return (uint64_t)(p_ - begin_); }
  uint64_t remaining() const { return (uint64_t)(end_ - p_); }

 private:
  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  const std::string& file_;
};

GgufValue read_value(Cursor& c, GgufType type, const std::string& key, const std::string& file, int depth) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufType::kU8: v.u = c.read<uint8_t>("value"); v.i = (int64_t)v.u; break;
    case GgufType::kI8: v.i = c.read<int8_t>("value"); v.u = (uint64_t)v.i; break;
    case GgufType::kU16: v.u = c.read<uint16_t>("value"); v.i = (int64_t)v.u; break;
    case GgufType::kI16: v.i = c.read<int16_t>("value"); v.u = (uint64_t)v.i; break;
    case GgufType::kU32: v.u = c.read<uint32_t>("value"); v.i = (int64_t)v.u; break;
    case GgufType::kI32: v.i = c.read<int32_t>("value"); v.u = (uint64_t)v.i; break;
    case GgufType::kU64: v.u = c.read<uint64_t>("value"); v.i = (int64_t)v.u; break;
    case GgufType::kI64: v.i = c.read<int64_t>("value"); v.u = (uint64_t)v.i; break;
    case GgufType::kF32: v.f = c.read<float>("value"); break;
    case GgufType::kF64: v.f = c.read<double>("value"); break;
    case GgufType::kBool: {
      const uint8_t b = c.read<uint8_t>("value");
      LLAMBA_ENSURE(b <= 1, "{}: metadata key {}: bool value {} is neither 0 nor 1", file, key, b);
      v.b = b;
      v.u = v.i = b;
      break;
    }
    case GgufType::kString: v.str = c.read_string("string value"); break;
    case GgufType::kArray: {
      LLAMBA_ENSURE(depth < kMaxArrayDepth, "{}: metadata key {}: arrays nested deeper than {}", file, key,
                    kMaxArrayDepth);
      const uint32_t et = c.read<uint32_t>("array type");
      LLAMBA_ENSURE(et <= 12, "{}: metadata key {}: unknown array element type {}", file, key, et);
      v.array_type = (GgufType)et;
      v.array_size = c.read<uint64_t>("array length");
      const size_t es = gguf_scalar_bytes(v.array_type);
      if (es > 0) {
        LLAMBA_ENSURE(v.array_size <= c.remaining() / es,
                      "{}: metadata key {}: array of {} {} runs past the end of the file", file, key, v.array_size,
                      gguf_type_name(v.array_type));
        v.raw.assign(c.ptr(), c.ptr() + v.array_size * es);
        c.skip(v.array_size * es, "array data");
      } else if (v.array_type == GgufType::kString) {
        // Each string needs at least its 8-byte length: reject absurd counts before allocating.
        LLAMBA_ENSURE(v.array_size <= c.remaining() / 8, "{}: metadata key {}: {} strings cannot fit in the file",
                      file, key, v.array_size);
        v.strings.reserve(v.array_size);
        for (uint64_t k = 0; k < v.array_size; ++k) v.strings.push_back(c.read_string("string array element"));
      } else {
        LLAMBA_ENSURE(v.array_size <= c.remaining() / 12, "{}: metadata key {}: {} arrays cannot fit in the file",
                      file, key, v.array_size);
        for (uint64_t k = 0; k < v.array_size; ++k)
          v.items.push_back(read_value(c, v.array_type, key, file, depth + 1));
      }
      break;
    }
    default: LLAMBA_THROW("{}: metadata key {}: unknown value type {}", file, key, (uint32_t)type);
  }
  return v;
}

void write_value(std::string& out, const GgufValue& v);

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

void write_scalar(std::string& out, const GgufValue& v) {
  switch (v.type) {
    case GgufType::kU8: put<uint8_t>(out, (uint8_t)v.u); break;
    case GgufType::kI8: put<int8_t>(out, (int8_t)v.i); break;
    case GgufType::kU16: put<uint16_t>(out, (uint16_t)v.u); break;
    case GgufType::kI16: put<int16_t>(out, (int16_t)v.i); break;
    case GgufType::kU32: put<uint32_t>(out, (uint32_t)v.u); break;
    case GgufType::kI32: put<int32_t>(out, (int32_t)v.i); break;
    case GgufType::kU64: put<uint64_t>(out, v.u); break;
    case GgufType::kI64: put<int64_t>(out, v.i); break;
    case GgufType::kF32: put<float>(out, (float)v.f); break;
    case GgufType::kF64: put<double>(out, v.f); break;
    case GgufType::kBool: put<uint8_t>(out, v.b ? 1 : 0); break;
    case GgufType::kString: put_string(out, v.str); break;
    default: LLAMBA_CHECK(false, "not a scalar");
  }
}

void write_value(std::string& out, const GgufValue& v) {
  if (v.type != GgufType::kArray) return write_scalar(out, v);
  put<uint32_t>(out, (uint32_t)v.array_type);
  put<uint64_t>(out, v.array_size);
  if (v.array_type == GgufType::kString) {
    LLAMBA_CHECK(v.strings.size() == v.array_size);
    for (const auto& s : v.strings) put_string(out, s);
  } else if (v.array_type == GgufType::kArray) {
    LLAMBA_CHECK(v.items.size() == v.array_size);
    for (const auto& it : v.items) write_value(out, it);
  } else {
    LLAMBA_CHECK(v.raw.size() == v.array_size * gguf_scalar_bytes(v.array_type));
    out.append(reinterpret_cast<const char*>(v.raw.data()), v.raw.size());
  }
}

}  // namespace

std::string ggml_type_name(uint32_t t) {
  switch ((GgmlType)t) {
    case GgmlType::kF32: return "F32";
    case GgmlType::kF16: return "F16";
    case GgmlType::kQ4_0: return "Q4_0";
    case GgmlType::kQ4_1: return "Q4_1";
    case GgmlType::kQ5_0: return "Q5_0";
    case GgmlType::kQ5_1: return "Q5_1";
    case GgmlType::kQ8_0: return "Q8_0";
    case GgmlType::kQ8_1: return "Q8_1";
    case GgmlType::kQ2_K: return "Q2_K";
    case GgmlType::kQ3_K: return "Q3_K";
    case GgmlType::kQ4_K: return "Q4_K";
    case GgmlType::kQ5_K: return "Q5_K";
    case GgmlType::kQ6_K: return "Q6_K";
    case GgmlType::kQ8_K: return "Q8_K";
    case GgmlType::kI8: return "I8";
    case GgmlType::kI16: return "I16";
    case GgmlType::kI32: return "I32";
    case GgmlType::kI64: return "I64";
    case GgmlType::kF64: return "F64";
    case GgmlType::kBF16: return "BF16";
  }
  return fmt::format("type {}", t);
}

std::optional<DType> dtype_from_ggml(uint32_t t) {
  switch ((GgmlType)t) {
    case GgmlType::kF32: return DType::kF32;
    case GgmlType::kF16: return DType::kF16;
    case GgmlType::kBF16: return DType::kBF16;
    case GgmlType::kF64: return DType::kF64;
    case GgmlType::kQ4_0: return DType::kQ4_0;
    case GgmlType::kQ4_1: return DType::kQ4_1;
    case GgmlType::kQ5_0: return DType::kQ5_0;
    case GgmlType::kQ5_1: return DType::kQ5_1;
    case GgmlType::kQ8_0: return DType::kQ8_0;
    case GgmlType::kQ2_K: return DType::kQ2_K;
    case GgmlType::kQ3_K: return DType::kQ3_K;
    case GgmlType::kQ4_K: return DType::kQ4_K;
    case GgmlType::kQ5_K: return DType::kQ5_K;
    case GgmlType::kQ6_K: return DType::kQ6_K;
    case GgmlType::kI8: return DType::kI8;
    case GgmlType::kI16: return DType::kI16;
    case GgmlType::kI32: return DType::kI32;
    case GgmlType::kI64: return DType::kI64;
    default: return std::nullopt;
  }
}

GgmlType ggml_from_dtype(DType t) {
  switch (t) {
    case DType::kF32: return GgmlType::kF32;
    case DType::kF16: return GgmlType::kF16;
    case DType::kBF16: return GgmlType::kBF16;
    case DType::kF64: return GgmlType::kF64;
    case DType::kQ4_0: return GgmlType::kQ4_0;
    case DType::kQ4_1: return GgmlType::kQ4_1;
    case DType::kQ5_0: return GgmlType::kQ5_0;
    case DType::kQ5_1: return GgmlType::kQ5_1;
    case DType::kQ8_0: return GgmlType::kQ8_0;
    case DType::kQ2_K: return GgmlType::kQ2_K;
    case DType::kQ3_K: return GgmlType::kQ3_K;
    case DType::kQ4_K: return GgmlType::kQ4_K;
    case DType::kQ5_K: return GgmlType::kQ5_K;
    case DType::kQ6_K: return GgmlType::kQ6_K;
    case DType::kI8: return GgmlType::kI8;
    case DType::kI16: return GgmlType::kI16;
    case DType::kI32: return GgmlType::kI32;
    case DType::kI64: return GgmlType::kI64;
    default: LLAMBA_CHECK(false, "dtype {} has no GGML type", core::dtype_name(t));
  }
  return GgmlType::kF32;
}

GgufFile GgufFile::open(const std::string& path) { return parse(core::Buffer::map_file(path), path); }

GgufFile GgufFile::parse(std::shared_ptr<core::Buffer> buf, const std::string& name) {
  GgufFile f;
  f.path_ = name;
  f.buf_ = std::move(buf);
  const uint8_t* base = f.buf_->data();
  const uint64_t size = f.buf_->size();
  Cursor c(base, base + size, f.path_);

  LLAMBA_ENSURE(size >= 4, "{}: not a GGUF file ({} bytes, too small for the magic)", name, size);
  const uint32_t magic = c.read<uint32_t>("magic");
  LLAMBA_ENSURE(magic == kMagic, "{}: not a GGUF file (magic {:08x}, expected 'GGUF')", name, magic);
  f.version_ = c.read<uint32_t>("version");
  LLAMBA_ENSURE(f.version_ == 2 || f.version_ == 3,
                "{}: GGUF version {} is not supported (2 or 3)\n---> HINT: re-convert the model with `llamba convert`",
                name, f.version_);
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");
  // Each KV pair takes at least 8 (key length) + 4 (type) + 1 bytes, each tensor info at least 8 + 4 + 4 + 8.
  LLAMBA_ENSURE(n_kv <= c.remaining() / 13, "{}: metadata count {} cannot fit in {} bytes", name, n_kv, size);
  LLAMBA_ENSURE(n_tensors <= c.remaining() / 24, "{}: tensor count {} cannot fit in {} bytes", name, n_tensors, size);

  std::unordered_set<std::string> keys;
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = c.read_string("metadata key");
    const uint32_t type = c.read<uint32_t>("metadata value type");
    LLAMBA_ENSURE(type <= 12, "{}: metadata key {}: unknown value type {}", name, key, type);
    GgufValue v = read_value(c, (GgufType)type, key, name, 0);
    LLAMBA_ENSURE(keys.insert(key).second, "{}: duplicate metadata key {}", name, key);
    f.kv_.emplace_back(std::move(key), std::move(v));
  }
  if (const GgufValue* a = f.find("general.alignment")) {
    LLAMBA_ENSURE(a->is_integer(), "{}: general.alignment must be an integer, found {}", name,
                  gguf_type_name(a->type));
    const int64_t al = a->as_int("general.alignment");
    LLAMBA_ENSURE(al > 0 && al <= (1 << 20) && (al & (al - 1)) == 0,
                  "{}: general.alignment {} is not a power of two in [1, 2^20]", name, al);
    f.alignment_ = (uint64_t)al;
  }

  std::unordered_set<std::string> names;
  for (uint64_t t = 0; t < n_tensors; ++t) {
    GgufTensorInfo info;
    info.name = c.read_string("tensor name");
    const uint32_t n_dims = c.read<uint32_t>("tensor dimension count");
    LLAMBA_ENSURE(n_dims >= 1 && n_dims <= (uint32_t)kMaxTensorDims, "{}: tensor {}: {} dimensions (1..{} allowed)",
                  name, info.name, n_dims, kMaxTensorDims);
    int64_t ne[kMaxTensorDims];
    // `bound` is the product of the nonzero dimensions: with it in range, no partial product (strides, element
    // counts in any order) overflows, even when a zero dimension makes the element count 0.
    uint64_t numel = 1, bound = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t n = c.read<uint64_t>("tensor dimension");
      LLAMBA_ENSURE(n <= (uint64_t)INT64_MAX / 2 && (n == 0 || bound <= (uint64_t)(INT64_MAX / 2) / n),
                    "{}: tensor {}: dimension {} = {} is absurd", name, info.name, d, n);
      ne[d] = (int64_t)n;
      numel *= n;
      if (n != 0) bound *= n;
    }
    info.ggml_type = c.read<uint32_t>("tensor type");
    const auto dt = dtype_from_ggml(info.ggml_type);
    LLAMBA_ENSURE(dt.has_value(), "{}: tensor {}: GGML type {} is not supported by llamba", name, info.name,
                  ggml_type_name(info.ggml_type));
    info.dtype = *dt;
    info.offset = c.read<uint64_t>("tensor offset");
    std::vector<int64_t> dims(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) dims[n_dims - 1 - d] = ne[d];
    info.shape = core::Shape::from(dims);
    const auto& di = core::dtype_info(info.dtype);
    LLAMBA_ENSURE(ne[0] % di.block_size == 0, "{}: tensor {}: row length {} is not a multiple of the {} block size {}",
                  name, info.name, ne[0], di.name, di.block_size);
    // Checked before multiplying: a product past 2^64 would wrap to a small size that passes the bounds check.
    const uint64_t blocks = numel / di.block_size;
    LLAMBA_ENSURE(blocks <= size / (uint64_t)di.block_bytes,
                  "{}: tensor {}: {} elements of {} run past the end of the file ({} bytes; truncated download?)",
                  name, info.name, numel, di.name, size);
    info.nbytes = (int64_t)(blocks * (uint64_t)di.block_bytes);
    LLAMBA_ENSURE(names.insert(info.name).second, "{}: duplicate tensor name {}", name, info.name);
    f.tensors_.push_back(std::move(info));
  }
  const uint64_t header_end = c.offset();
  f.data_offset_ = (header_end + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  LLAMBA_ENSURE(n_tensors == 0 || f.data_offset_ <= size, "{}: truncated before the tensor data section", name);
  for (const auto& info : f.tensors_) {
    LLAMBA_ENSURE(info.offset % f.alignment_ == 0, "{}: tensor {}: offset {} is not aligned to {}", name, info.name,
                  info.offset, f.alignment_);
    LLAMBA_ENSURE(info.offset <= size && (uint64_t)info.nbytes <= size - f.data_offset_ &&
                      info.offset <= size - f.data_offset_ - (uint64_t)info.nbytes,
                  "{}: tensor {}: data [{}, {}) lies past the end of the file ({} bytes; truncated download?)", name,
                  info.name, f.data_offset_ + info.offset, f.data_offset_ + info.offset + (uint64_t)info.nbytes, size);
  }
  return f;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  for (const auto& [k, v] : kv_)
    if (k == key) return &v;
  return nullptr;
}

const GgufValue& GgufFile::require(const std::string& key) const {
  const GgufValue* v = find(key);
  LLAMBA_ENSURE(v != nullptr, "{}: missing metadata key {}", path_, key);
  return *v;
}

int64_t GgufFile::get_int(const std::string& key, int64_t def) const {
  const GgufValue* v = find(key);
  return v ? v->as_int(key) : def;
}
double GgufFile::get_float(const std::string& key, double def) const {
  const GgufValue* v = find(key);
  return v ? v->as_float(key) : def;
}
bool GgufFile::get_bool(const std::string& key, bool def) const {
  const GgufValue* v = find(key);
  return v ? v->as_bool(key) : def;
}
std::string GgufFile::get_string(const std::string& key, const std::string& def) const {
  const GgufValue* v = find(key);
  return v ? v->as_string(key) : def;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

core::TensorView GgufFile::tensor(const std::string& name) const {
  const GgufTensorInfo* t = find_tensor(name);
  LLAMBA_ENSURE(t != nullptr, "{}: missing tensor {}", path_, name);
  return tensor(*t);
}

core::TensorView GgufFile::tensor(const GgufTensorInfo& info) const {
  return core::TensorView::contiguous(const_cast<uint8_t*>(buf_->data()) + data_offset_ + info.offset, info.dtype,
                                      info.shape);
}

void GgufWriter::set(const std::string& key, GgufValue v) {
  for (auto& [k, old] : kv_) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  kv_.emplace_back(key, std::move(v));
}

void GgufWriter::remove(const std::string& key) {
  std::erase_if(kv_, [&](const auto& p) { return p.first == key; });
}

void GgufWriter::add_tensor(const std::string& name, const core::TensorView& view) {
  LLAMBA_CHECK(view.is_contiguous(), "tensor {} must be contiguous", name);
  LLAMBA_CHECK(view.rank() >= 1 && view.rank() <= kMaxTensorDims, "tensor {} has rank {}", name, view.rank());
  for (const auto& e : tensors_) LLAMBA_CHECK(e.name != name, "duplicate tensor {}", name);
  tensors_.push_back({name, view, {}});
}

void GgufWriter::add_tensor(const std::string& name, const core::Shape& shape, core::DType dtype,
                            std::function<void(void* dst)> fill) {
  LLAMBA_CHECK(shape.rank() >= 1 && shape.rank() <= kMaxTensorDims, "tensor {} has rank {}", name, shape.rank());
  for (const auto& e : tensors_) LLAMBA_CHECK(e.name != name, "duplicate tensor {}", name);
  core::TensorView v = core::TensorView::contiguous(nullptr, dtype, shape);
  tensors_.push_back({name, v, std::move(fill)});
}

void GgufWriter::add_tensor(const std::string& name, const core::Tensor& t) {
  keep_alive_.push_back(t);
  add_tensor(name, t.view());
}

void GgufWriter::set_alignment(uint32_t a) {
  LLAMBA_CHECK(a > 0 && (a & (a - 1)) == 0);
  alignment_ = a;
  set("general.alignment", GgufValue::u32(a));
}

void GgufWriter::emit(const std::function<void(const void*, size_t)>& out) const {
  std::string head;
  put<uint32_t>(head, kMagic);
  put<uint32_t>(head, 3);
  put<uint64_t>(head, tensors_.size());
  put<uint64_t>(head, kv_.size());
  for (const auto& [k, v] : kv_) {
    put_string(head, k);
    put<uint32_t>(head, (uint32_t)v.type);
    write_value(head, v);
  }
  uint64_t offset = 0;
  for (const auto& [name, view, fill] : tensors_) {
    put_string(head, name);
    put<uint32_t>(head, (uint32_t)view.rank());
    for (int d = view.rank() - 1; d >= 0; --d) put<uint64_t>(head, (uint64_t)view.shape[d]);
    put<uint32_t>(head, (uint32_t)ggml_from_dtype(view.dtype));
    put<uint64_t>(head, offset);
    offset += ((uint64_t)view.nbytes() + alignment_ - 1) / alignment_ * alignment_;
  }
  head.resize((head.size() + alignment_ - 1) / alignment_ * alignment_, '\0');
  out(head.data(), head.size());
  static const char zeros[256] = {};
  for (const auto& [name, view, fill] : tensors_) {
    const uint64_t n = (uint64_t)view.nbytes();
    if (fill) {
      std::vector<uint8_t> tmp(n);
      fill(tmp.data());
      out(tmp.data(), n);
    } else {
      out(view.data, n);
    }
    uint64_t pad = (n + alignment_ - 1) / alignment_ * alignment_ - n;
    while (pad > 0) {
      const uint64_t k = pad < sizeof(zeros) ? pad : sizeof(zeros);
      out(zeros, k);
      pad -= k;
    }
  }
}

void GgufWriter::write(const std::string& path) const {
  AtomicFile out(path);
  emit([&](const void* p, size_t n) { out.write(p, n); });
  out.commit();
}

std::shared_ptr<core::Buffer> GgufWriter::write_to_memory() const {
  std::string bytes;
  emit([&](const void* p, size_t n) { bytes.append(static_cast<const char*>(p), n); });
  auto buf = core::Buffer::allocate(bytes.size());
  std::memcpy(buf->data(), bytes.data(), bytes.size());
  return buf;
}

}  // namespace llamba::io
