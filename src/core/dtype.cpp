// The table of element types.
#include "core/dtype.h"

#include "core/check.h"

namespace llamba::core {

namespace {
constexpr DTypeInfo kInfo[] = {
    {"f32", 1, 4, true, false},   {"f16", 1, 2, true, false},   {"bf16", 1, 2, true, false},
    {"f64", 1, 8, true, false},   {"i8", 1, 1, false, false},   {"i16", 1, 2, false, false},
    {"i32", 1, 4, false, false},  {"i64", 1, 8, false, false},  {"u8", 1, 1, false, false},
    {"q4_0", 32, 18, false, true}, {"q4_1", 32, 20, false, true}, {"q5_0", 32, 22, false, true},
    {"q5_1", 32, 24, false, true}, {"q8_0", 32, 34, false, true},
    {"q2_k", 256, 84, false, true}, {"q3_k", 256, 110, false, true}, {"q4_k", 256, 144, false, true},
    {"q5_k", 256, 176, false, true}, {"q6_k", 256, 210, false, true},
};
static_assert(sizeof(kInfo) / sizeof(kInfo[0]) == (size_t)DType::kCount, "one DTypeInfo per DType");
}  // namespace

const DTypeInfo& dtype_info(DType t) {
  LLAMBA_CHECK((size_t)t < (size_t)DType::kCount);
  return kInfo[(size_t)t];
}

int64_t dtype_bytes(DType t, int64_t n) {
  const DTypeInfo& i = dtype_info(t);
  LLAMBA_CHECK(n % i.block_size == 0, "{} elements is not a multiple of the {} block size {}", n, i.name,
               i.block_size);
  return n / i.block_size * i.block_bytes;
}

bool dtype_from_name(std::string_view name, DType* out) {
  for (size_t i = 0; i < (size_t)DType::kCount; ++i) {
    if (kInfo[i].name == name) {
      *out = (DType)i;
      return true;
    }
  }
  return false;
}

}  // namespace llamba::core
