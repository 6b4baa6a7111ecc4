// GgufValue constructors, typed accessors and type names.
#include <fmt/format.h>

#include <cstring>

#include "io/gguf.h"

namespace llamba::io {

namespace {
template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Reads one numeric element of type t from p as int64 (integers) or double (floats).
bool elem_int(GgufType t, const uint8_t* p, int64_t* out) {
  switch (t) {
    case GgufType::kU8: *out = load<uint8_t>(p); return true;
    case GgufType::kI8: *out = load<int8_t>(p); return true;
    case GgufType::kU16: *out = load<uint16_t>(p); return true;
    case GgufType::kI16: *out = load<int16_t>(p); return true;
    case GgufType::kU32: *out = load<uint32_t>(p); return true;
    case GgufType::kI32: *out = load<int32_t>(p); return true;
    case GgufType::kU64: *out = (int64_t)load<uint64_t>(p); return true;
    case GgufType::kI64: *out = load<int64_t>(p); return true;
    case GgufType::kBool: *out = load<uint8_t>(p) != 0; return true;
    default: return false;
  }
}

template <class T>
GgufValue numeric_array(GgufType t, const std::vector<T>& v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.array_type = t;
  g.array_size = v.size();
  g.raw.resize(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(g.raw.data(), v.data(), g.raw.size());
  return g;
}
}  // namespace

size_t gguf_scalar_bytes(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: return 8;
    default: return 0;
  }
}

const char* gguf_type_name(GgufType t) {
  static const char* names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = (uint32_t)t;
  return i < 13 ? names[i] : "unknown";
}

GgufValue GgufValue::u8(uint8_t v) { GgufValue g; g.type = GgufType::kU8; g.u = v; g.i = v; return g; }
GgufValue GgufValue::u32(uint32_t v) { GgufValue g; g.type = GgufType::kU32; g.u = v; g.i = v; return g; }
GgufValue GgufValue::i32(int32_t v) { GgufValue g; g.type = GgufType::kI32; g.i = v; g.u = (uint64_t)v; return g; }
GgufValue GgufValue::u64(uint64_t v) { GgufValue g; g.type = GgufType::kU64; g.u = v; g.i = (int64_t)v; return g; }
GgufValue GgufValue::i64(int64_t v) { GgufValue g; g.type = GgufType::kI64; g.i = v; g.u = (uint64_t)v; return g; }
GgufValue GgufValue::f32(float v) { GgufValue g; g.type = GgufType::kF32; g.f = v; return g; }
GgufValue GgufValue::f64(double v) { GgufValue g; g.type = GgufType::kF64; g.f = v; return g; }
GgufValue GgufValue::boolean(bool v) { GgufValue g; g.type = GgufType::kBool; g.b = v; g.u = v; g.i = v; return g; }
GgufValue GgufValue::string(std::string v) { GgufValue g; g.type = GgufType::kString; g.str = std::move(v); return g; }
GgufValue GgufValue::string_array(std::vector<std::string> v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.array_type = GgufType::kString;
  g.array_size = v.size();
  g.strings = std::move(v);
  return g;
}
GgufValue GgufValue::i32_array(const std::vector<int32_t>& v) { return numeric_array(GgufType::kI32, v); }
GgufValue GgufValue::u64_array(const std::vector<uint64_t>& v) { return numeric_array(GgufType::kU64, v); }
GgufValue GgufValue::f32_array(const std::vector<float>& v) { return numeric_array(GgufType::kF32, v); }

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kU16: case GgufType::kI16:
    case GgufType::kU32: case GgufType::kI32: case GgufType::kU64: case GgufType::kI64: return true;
    default: return false;
  }
}

bool GgufValue::is_number() const {
  return is_integer() || type == GgufType::kF32 || type == GgufType::kF64;
}

int64_t GgufValue::as_int(const std::string& what) const {
  if (is_integer()) return (type == GgufType::kU64) ? (int64_t)u : i;
  if (type == GgufType::kBool) return b;
  LLAMBA_THROW("metadata key {}: expected an integer, found {}", what, gguf_type_name(type));
}

double GgufValue::as_float(const std::string& what) const {
  if (type == GgufType::kF32 || type == GgufType::kF64) return f;
  if (is_integer()) return (double)as_int(what);
  LLAMBA_THROW("metadata key {}: expected a number, found {}", what, gguf_type_name(type));
}

bool GgufValue::as_bool(const std::string& what) const {
  if (type == GgufType::kBool) return b;
  if (is_integer()) return as_int(what) != 0;
  LLAMBA_THROW("metadata key {}: expected a bool, found {}", what, gguf_type_name(type));
}

const std::string& GgufValue::as_string(const std::string& what) const {
  LLAMBA_ENSURE(type == GgufType::kString, "metadata key {}: expected a string, found {}", what,
                gguf_type_name(type));
  return str;
}

const std::vector<std::string>& GgufValue::as_strings(const std::string& what) const {
  LLAMBA_ENSURE(type == GgufType::kArray && array_type == GgufType::kString,
                "metadata key {}: expected an array of strings, found {}", what, gguf_type_name(type));
  return strings;
}

std::vector<int64_t> GgufValue::as_ints(const std::string& what) const {
  LLAMBA_ENSURE(type == GgufType::kArray, "metadata key {}: expected an array, found {}", what,
                gguf_type_name(type));
  const size_t es = gguf_scalar_bytes(array_type);
  std::vector<int64_t> out(array_size);
  for (uint64_t k = 0; k < array_size; ++k) {
    LLAMBA_ENSURE(es > 0 && elem_int(array_type, raw.data() + k * es, &out[k]),
                  "metadata key {}: expected an array of integers, found {}[]", what, gguf_type_name(array_type));
  }
  return out;
}

std::vector<double> GgufValue::as_floats(const std::string& what) const {
  LLAMBA_ENSURE(type == GgufType::kArray, "metadata key {}: expected an array, found {}", what,
                gguf_type_name(type));
  std::vector<double> out(array_size);
  const size_t es = gguf_scalar_bytes(array_type);
  for (uint64_t k = 0; k < array_size; ++k) {
    const uint8_t* p = raw.data() + k * es;
    int64_t iv;
    if (array_type == GgufType::kF32) out[k] = load<float>(p);
    else if (array_type == GgufType::kF64) out[k] = load<double>(p);
    else if (es > 0 && elem_int(array_type, p, &iv)) out[k] = (double)iv;
    else LLAMBA_THROW("metadata key {}: expected an array of numbers, found {}[]", what, gguf_type_name(array_type));
  }
  return out;
}

std::string GgufValue::summary(size_t max_items) const {
  switch (type) {
    case GgufType::kString: return str.size() > 80 ? fmt::format("\"{}...\" ({} bytes)", str.substr(0, 77), str.size())
                                                    : fmt::format("\"{}\"", str);
    case GgufType::kBool: return b ? "true" : "false";
    case GgufType::kF32: case GgufType::kF64: return fmt::format("{}", f);
    case GgufType::kU64: return fmt::format("{}", u);
    case GgufType::kArray: {
      std::string s = fmt::format("{}[{}]", gguf_type_name(array_type), array_size);
      if (array_size > max_items) return s;
      s += " {";
      for (uint64_t k = 0; k < array_size; ++k) {
        if (k) s += ", ";
        if (array_type == GgufType::kString) s += "\"" + strings[k] + "\"";
        else if (array_type == GgufType::kArray) s += items[k].summary(max_items);
        else if (array_type == GgufType::kF32 || array_type == GgufType::kF64) s += fmt::format("{}", as_floats("")[k]);
        else s += fmt::format("{}", as_ints("")[k]);
      }
      return s + "}";
    }
    default: return is_integer() ? fmt::format("{}", i) : "?";
  }
}

}  // namespace llamba::io
