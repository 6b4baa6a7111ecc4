// quantize_model: plan (type_policy.cpp), then stream every tensor through dequantize → quantize into a GGUF
// writer. Metadata keys keep their order; the two keys llama-quantize sets move to the end, as its writer does.
#include "quantize/quantize_model.h"

#include <chrono>
#include <filesystem>
#include <vector>

#include "core/check.h"
#include "core/progress.h"
#include "io/gguf.h"
#include "quant/quant.h"

namespace llamba::quantize {

namespace {

constexpr uint32_t kQuantizationVersion = 2;  // ggml's GGML_QNT_VERSION

// Converts `rows` rows of `ncols` elements from `src` (type `from`) to `dst` (type `to`), rows across threads.
void convert_rows(core::ThreadPool& pool, core::DType from, const uint8_t* src, core::DType to, uint8_t* dst,
                  int64_t rows, int64_t ncols) {
  const int64_t in_row = core::dtype_bytes(from, ncols), out_row = core::dtype_bytes(to, ncols);
  pool.parallel_for(rows, [&](int64_t r0, int64_t r1) {
    std::vector<float> row((size_t)ncols);
    for (int64_t r = r0; r < r1; ++r) {
      quant::dequantize_row(from, src + r * in_row, row.data(), ncols);
      quant::quantize_row(to, row.data(), dst + r * out_row, ncols);
    }
  });
}

}  // namespace

QuantizeReport quantize_model(core::ThreadPool& pool, const std::string& in_path, const std::string& out_path,
                              const QuantizeOptions& opts, bool progress) {
  const auto t0 = std::chrono::steady_clock::now();
  LLAMBA_ENSURE(std::filesystem::weakly_canonical(in_path) != std::filesystem::weakly_canonical(out_path),
                "the output {} is the input: write to another file", out_path);
  const io::GgufFile in = io::GgufFile::open(in_path);
  QuantizeReport rep;
  rep.plan = plan_quantization(in, opts);
  io::GgufWriter w;
  for (const auto& [key, value] : in.metadata()) w.set(key, value);
  if (in.has("general.alignment")) w.set_alignment((uint32_t)in.get_int("general.alignment"));
  for (const auto& [key, value] : {std::pair{"general.quantization_version", kQuantizationVersion},
                                   std::pair{"general.file_type", file_type_info(opts.type).llama_ftype}}) {
    w.remove(key);
    w.set(key, io::GgufValue::u32(value));
  }
  int64_t total_bytes = 0;  // of the tensors that change type (the others are copied)
  for (const TensorPlan& p : rep.plan) total_bytes += p.to != p.from ? in.find_tensor(p.name)->nbytes : 0;
  auto bar = std::make_shared<core::ProgressBar>("quantize", total_bytes >> 20, "MiB", progress);
  auto done = std::make_shared<int64_t>(0);
  for (const TensorPlan& p : rep.plan) {
    const io::GgufTensorInfo& info = *in.find_tensor(p.name);
    const core::TensorView src = in.tensor(info);
    rep.n_elements += info.shape.numel();
    rep.bytes_in += info.nbytes;
    rep.bytes_out += core::dtype_bytes(p.to, info.shape.numel());
    rep.n_fallback += !p.note.empty() && p.note != "kept (--keep)";
    const int64_t nbytes = info.nbytes;
    if (p.to == p.from) {
      w.add_tensor(p.name, src);
      continue;
    }
    const int64_t ncols = info.shape[-1], rows = info.shape.numel() / ncols;
    w.add_tensor(p.name, info.shape, p.to, [&pool, src, p, rows, ncols, nbytes, bar, done](void* dst) {
      convert_rows(pool, p.from, static_cast<const uint8_t*>(src.data), p.to, static_cast<uint8_t*>(dst), rows,
                   ncols);
      *done += nbytes;
      bar->update(*done >> 20, p.name);
    });
  }
  w.write(out_path);
  bar->finish(fmt::format("{} tensors", rep.plan.size()));
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace llamba::quantize
