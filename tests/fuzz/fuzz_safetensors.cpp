// safetensors reader (io/safetensors): the u64 length, the JSON header (entries and __metadata__), then every
// tensor's bytes through its view and every conversion the importers use (to_f32, to_f64, to_i64).
#include <cstring>
#include <optional>

#include "fuzz_util.h"
#include "io/safetensors.h"

using namespace llamba;

namespace {
constexpr const char* kName = "fuzz.safetensors";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto buf = fuzz::exact_buffer(data, size);
  std::optional<io::SafetensorsFile> f;
  if (!fuzz::expect_clean([&] { f.emplace(io::SafetensorsFile::parse(buf, kName)); }, kName)) return 0;
  uint64_t sum = 0;
  for (const auto& e : f->entries()) {
    const core::TensorView v = f->tensor(e.name);
    FUZZ_ASSERT((uint64_t)v.nbytes() == e.end - e.begin, "tensor {}: view {} bytes, range {}", e.name, v.nbytes(),
                e.end - e.begin);
    FUZZ_ASSERT(f->find(e.name) == &e && f->has(e.name), "tensor {}: lookup finds another entry", e.name);
    const auto* p = static_cast<const uint8_t*>(v.data);
    for (int64_t k = 0; k < v.nbytes(); ++k) sum += p[k];
    const core::Tensor a = f->to_f32(e.name), b = f->to_f64(e.name);
    FUZZ_ASSERT(a.numel() == v.numel() && b.numel() == v.numel(), "tensor {}: conversion changed the size", e.name);
    std::vector<int64_t> ints;
    if (fuzz::expect_clean([&] { ints = f->to_i64(e.name); }, kName))
      FUZZ_ASSERT((int64_t)ints.size() == v.numel(), "tensor {}: to_i64 gave {} values", e.name, ints.size());
  }
  fuzz::expect_clean([&] { (void)f->tensor("no such tensor"); }, kName);
  volatile uint64_t sink = sum;
  (void)sink;
  return 0;
}
