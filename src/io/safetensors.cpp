// safetensors parsing with nlohmann-json and full range checks; atomic writing.
#include "io/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "io/atomic_file.h"
#include "io/json_depth.h"

namespace llamba::io {

using core::DType;
using json = nlohmann::json;

namespace {
constexpr uint64_t kMaxHeader = 100u << 20;  // 100 MB: the safetensors spec's own limit

bool parse_dtype(const std::string& s, DType* out) {
  static const std::pair<const char*, DType> table[] = {
      {"F32", DType::kF32}, {"F16", DType::kF16}, {"BF16", DType::kBF16}, {"F64", DType::kF64},
      {"I64", DType::kI64}, {"I32", DType::kI32}, {"I16", DType::kI16},   {"I8", DType::kI8},
      {"U8", DType::kU8},   {"BOOL", DType::kU8},
  };
  for (const auto& [n, d] : table)
    if (s == n) {
      *out = d;
      return true;
    }
  return false;
}

const char* dtype_str(DType d) {
  switch (d) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF64: return "F64";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kI16: return "I16";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    default: LLAMBA_CHECK(false, "dtype {} cannot be stored in safetensors", core::dtype_name(d));
  }
  return "";
}

template <class Out>
void convert(DType dt, const void* src, Out* dst, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(src);
  auto ld = [&](auto tag, int64_t i) {
    decltype(tag) v;
    std::memcpy(&v, p + i * sizeof(v), sizeof(v));
    return v;
  };
  for (int64_t i = 0; i < n; ++i) {
    switch (dt) {
      case DType::kF32: dst[i] = (Out)ld(float{}, i); break;
      case DType::kF64: dst[i] = (Out)ld(double{}, i); break;
      case DType::kF16: dst[i] = (Out)core::fp16_to_f32(ld(uint16_t{}, i)); break;
      case DType::kBF16: dst[i] = (Out)core::bf16_to_f32(ld(uint16_t{}, i)); break;
      case DType::kI64: dst[i] = (Out)ld(int64_t{}, i); break;
      case DType::kI32: dst[i] = (Out)ld(int32_t{}, i); break;
      case DType::kI16: dst[i] = (Out)ld(int16_t{}, i); break;
      case DType::kI8: dst[i] = (Out)ld(int8_t{}, i); break;
      case DType::kU8: dst[i] = (Out)ld(uint8_t{}, i); break;
      default: LLAMBA_THROW("cannot convert {} to a number", core::dtype_name(dt));
    }
  }
}
}  // namespace

void convert_to_f32(DType dt, const void* src, float* dst, int64_t n) { convert(dt, src, dst, n); }
void convert_to_f64(DType dt, const void* src, double* dst, int64_t n) { convert(dt, src, dst, n); }

SafetensorsFile SafetensorsFile::open(const std::string& path) { return parse(core::Buffer::map_file(path), path); }

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<core::Buffer> buf, const std::string& name) {
  SafetensorsFile f;
  f.path_ = name;
  f.buf_ = std::move(buf);
  const uint64_t size = f.buf_->size();
  LLAMBA_ENSURE(size >= 8, "{}: not a safetensors file ({} bytes)", name, size);
  uint64_t n;
  std::memcpy(&n, f.buf_->data(), 8);
  LLAMBA_ENSURE(n >= 2 && n <= kMaxHeader && n <= size - 8,
                "{}: safetensors header length {} is invalid for a {}-byte file (truncated or not safetensors)", name,
                n, size);
  json header;
  try {
    header = json::parse(f.buf_->data() + 8, f.buf_->data() + 8 + n);
  } catch (const json::exception& e) {
    LLAMBA_THROW("{}: safetensors header is not valid JSON: {}", name, e.what());
  }
  LLAMBA_ENSURE(header.is_object(), "{}: safetensors header is not a JSON object", name);
  LLAMBA_ENSURE(json_depth(header) <= kMaxJsonDepth, "{}: safetensors header nested deeper than {} levels", name,
                kMaxJsonDepth);
  f.data_start_ = 8 + n;
  const uint64_t data_size = size - f.data_start_;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "__metadata__") {
      LLAMBA_ENSURE(v.is_object(), "{}: __metadata__ is not an object", name);
      for (auto m = v.begin(); m != v.end(); ++m) {
        LLAMBA_ENSURE(m.value().is_string(), "{}: __metadata__.{} is not a string", name, m.key());
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    SafetensorsEntry e;
    e.name = key;
    LLAMBA_ENSURE(v.is_object() && v.contains("dtype") && v.contains("shape") && v.contains("data_offsets"),
                  "{}: tensor {}: entry needs dtype, shape and data_offsets", name, key);
    LLAMBA_ENSURE(v["dtype"].is_string() && parse_dtype(v["dtype"].get<std::string>(), &e.dtype),
                  "{}: tensor {}: unsupported dtype {}", name, key, v["dtype"].dump());
    const json& shape = v["shape"];
    LLAMBA_ENSURE(shape.is_array() && shape.size() <= (size_t)core::kMaxDims, "{}: tensor {}: bad shape {}", name,
                  key, shape.dump());
    std::vector<int64_t> dims;
    uint64_t numel = 1, bound = 1;  // bound: the product of the nonzero dimensions (a 0 must not hide the others)
    for (const auto& d : shape) {
      LLAMBA_ENSURE(d.is_number_unsigned() && d.get<uint64_t>() <= (1ull << 40), "{}: tensor {}: bad dimension {}",
                    name, key, d.dump());
      const uint64_t n = d.get<uint64_t>();
      // Checked before multiplying, so no product (element count, strides) can wrap around.
      LLAMBA_ENSURE(n == 0 || bound <= (1ull << 40) / n, "{}: tensor {}: shape {} is absurdly large", name, key,
                    shape.dump());
      dims.push_back((int64_t)n);
      numel *= n;
      if (n != 0) bound *= n;
    }
    e.shape = core::Shape::from(dims);
    const json& off = v["data_offsets"];
    LLAMBA_ENSURE(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() && off[1].is_number_unsigned(),
                  "{}: tensor {}: bad data_offsets {}", name, key, off.dump());
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    LLAMBA_ENSURE(e.begin <= e.end && e.end <= data_size,
                  "{}: tensor {}: data_offsets [{}, {}) lie outside the {}-byte data buffer (truncated file?)", name,
                  key, e.begin, e.end, data_size);
    const uint64_t want = numel * (uint64_t)core::dtype_info(e.dtype).block_bytes;
    LLAMBA_ENSURE(e.end - e.begin == want, "{}: tensor {}: shape {} of {} needs {} bytes, data_offsets give {}", name,
                  key, e.shape.str(), v["dtype"].get<std::string>(), want, e.end - e.begin);
    f.entries_.push_back(std::move(e));
  }
  return f;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

core::TensorView SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry* e = find(name);
  LLAMBA_ENSURE(e != nullptr, "{}: missing tensor {}", path_, name);
  return core::TensorView::contiguous(const_cast<uint8_t*>(buf_->data()) + data_start_ + e->begin, e->dtype,
                                      e->shape);
}

core::Tensor SafetensorsFile::to_f32(const std::string& name) const {
  const core::TensorView v = tensor(name);
  core::Tensor t = core::Tensor::zeros(DType::kF32, v.shape);
  convert_to_f32(v.dtype, v.data, t.f32(), v.numel());
  return t;
}

core::Tensor SafetensorsFile::to_f64(const std::string& name) const {
  const core::TensorView v = tensor(name);
  core::Tensor t = core::Tensor::zeros(DType::kF64, v.shape);
  convert_to_f64(v.dtype, v.data, t.f64(), v.numel());
  return t;
}

std::vector<int64_t> SafetensorsFile::to_i64(const std::string& name) const {
  const core::TensorView v = tensor(name);
  std::vector<int64_t> out(v.numel());
  const uint8_t* p = static_cast<const uint8_t*>(v.data);
  // Integers are widened directly (a detour through double would corrupt values above 2^53).
  switch (v.dtype) {
    case DType::kI64: std::memcpy(out.data(), p, out.size() * 8); break;
    case DType::kI32: for (size_t i = 0; i < out.size(); ++i) { int32_t x; std::memcpy(&x, p + 4 * i, 4); out[i] = x; } break;
    case DType::kI16: for (size_t i = 0; i < out.size(); ++i) { int16_t x; std::memcpy(&x, p + 2 * i, 2); out[i] = x; } break;
    case DType::kI8: for (size_t i = 0; i < out.size(); ++i) out[i] = (int8_t)p[i]; break;
    case DType::kU8: for (size_t i = 0; i < out.size(); ++i) out[i] = p[i]; break;
    default: LLAMBA_THROW("{}: tensor {} is {}, not an integer tensor", path_, name, core::dtype_name(v.dtype));
  }
  return out;
}

void SafetensorsWriter::add(const std::string& name, const core::TensorView& view) {
  LLAMBA_CHECK(view.is_contiguous(), "tensor {} must be contiguous", name);
  tensors_.emplace_back(name, view);
}

void SafetensorsWriter::add(const std::string& name, const core::Tensor& t) {
  keep_alive_.push_back(t);
  add(name, t.view());
}

bool SafetensorsWriter::has(const std::string& name) const {
  for (const auto& [n, v] : tensors_)
    if (n == name) return true;
  return false;
}

void SafetensorsWriter::write(const std::string& path) const {
  json header = json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t off = 0;
  for (const auto& [name, v] : tensors_) {
    const uint64_t n = (uint64_t)v.nbytes();
    header[name] = {{"dtype", dtype_str(v.dtype)}, {"shape", v.shape.vec()}, {"data_offsets", {off, off + n}}};
    off += n;
  }
  std::string h = header.dump();
  h.resize((h.size() + 7) / 8 * 8, ' ');  // keep the data buffer 8-byte aligned
  const uint64_t hn = h.size();
  AtomicFile out(path);
  out.write(&hn, 8);
  out.write(h.data(), h.size());
  for (const auto& [name, v] : tensors_) out.write(v.data, (size_t)v.nbytes());
  out.commit();
}

}  // namespace llamba::io
