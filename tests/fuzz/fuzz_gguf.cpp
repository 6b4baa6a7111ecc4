// GGUF reader (io/gguf): header, metadata, tensor infos, then every tensor's bytes through the checked views,
// every typed accessor on every value, and a write -> parse round trip of whatever parsed.
#include <cstring>

#include "fuzz_util.h"
#include "io/gguf.h"

using namespace llamba;

namespace {

constexpr const char* kName = "fuzz.gguf";

// Reads every byte of every tensor the way a model does: through GgufFile::tensor's view.
uint64_t touch_tensors(const io::GgufFile& f) {
  uint64_t sum = 0;
  for (const auto& info : f.tensors()) {
    const core::TensorView v = f.tensor(info);
    FUZZ_ASSERT(v.nbytes() == info.nbytes, "tensor {}: view {} bytes, info {}", info.name, v.nbytes(), info.nbytes);
    FUZZ_ASSERT(v.shape == info.shape, "tensor {}: view shape differs", info.name);
    const auto* p = static_cast<const uint8_t*>(v.data);
    for (int64_t k = 0; k < v.nbytes(); ++k) sum += p[k];
    FUZZ_ASSERT(f.tensor(info.name).data == v.data, "tensor {}: lookup by name gives another view", info.name);
  }
  return sum;
}

// Every accessor on every value: each either answers or throws llamba::Error naming the key.
void touch_metadata(const io::GgufFile& f) {
  for (const auto& kv : f.metadata()) {
    const std::string& key = kv.first;  // named, not a structured binding: clang 14 cannot capture those
    const io::GgufValue& v = kv.second;
    (void)v.summary();
    fuzz::expect_clean([&] { (void)v.as_int(key); }, key);
    fuzz::expect_clean([&] { (void)v.as_float(key); }, key);
    fuzz::expect_clean([&] { (void)v.as_bool(key); }, key);
    fuzz::expect_clean([&] { (void)v.as_string(key); }, key);
    fuzz::expect_clean([&] { (void)v.as_strings(key); }, key);
    fuzz::expect_clean([&] { (void)v.as_ints(key); }, key);
    fuzz::expect_clean([&] { (void)v.as_floats(key); }, key);
    fuzz::expect_clean([&] { (void)f.get_int(key, 0); }, key);
    fuzz::expect_clean([&] { (void)f.get_string(key, ""); }, key);
    FUZZ_ASSERT(f.find(key) == &v, "find({}) is not the first value of that key", key);
  }
}

// The reader's result written back with GgufWriter parses again to the same bytes.
void round_trip(const io::GgufFile& f) {
  io::GgufWriter w;
  for (const auto& [key, v] : f.metadata()) w.set(key, v);
  if (f.has("general.alignment")) w.set_alignment((uint32_t)f.alignment());
  for (const auto& info : f.tensors()) w.add_tensor(info.name, f.tensor(info));
  const auto once = w.write_to_memory();
  const io::GgufFile g = io::GgufFile::parse(once, "round-trip.gguf");
  FUZZ_ASSERT(g.metadata().size() == f.metadata().size() && g.tensors().size() == f.tensors().size(),
              "round trip changed the counts");
  io::GgufWriter w2;
  for (const auto& [key, v] : g.metadata()) w2.set(key, v);
  if (g.has("general.alignment")) w2.set_alignment((uint32_t)g.alignment());
  for (const auto& info : g.tensors()) {
    const core::TensorView a = f.tensor(f.tensors()[&info - g.tensors().data()]), b = g.tensor(info);
    FUZZ_ASSERT(a.nbytes() == b.nbytes() && (a.nbytes() == 0 || std::memcmp(a.data, b.data, a.nbytes()) == 0),
                "tensor {}: bytes changed in the round trip", info.name);
    w2.add_tensor(info.name, b);
  }
  const auto twice = w2.write_to_memory();
  FUZZ_ASSERT(once->size() == twice->size() && std::memcmp(once->data(), twice->data(), once->size()) == 0,
              "write(parse(write(parse(x)))) differs from write(parse(x))");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto buf = fuzz::exact_buffer(data, size);
  std::optional<io::GgufFile> f;
  if (!fuzz::expect_clean([&] { f.emplace(io::GgufFile::parse(buf, kName)); }, kName)) return 0;
  volatile uint64_t sink = touch_tensors(*f);
  (void)sink;
  touch_metadata(*f);
  round_trip(*f);
  return 0;
}
