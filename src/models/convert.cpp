// Converter dispatch and shared helpers.
#include "models/convert.h"

#include <filesystem>

#include "io/safetensors.h"
#include "tokenizer/tokenizer.h"
#include "models/blocks/weights_util.h"
#include "quant/quant.h"

namespace llamba::models {

void convert_llama_hf(const io::HfCheckpoint& ckpt, const ConvertOptions& opts, io::GgufWriter& w);
void convert_llamba_hf(const io::HfCheckpoint& ckpt, const ConvertOptions& opts, io::GgufWriter& w);
void convert_mamba2_hf(const io::HfCheckpoint& ckpt, const ConvertOptions& opts, io::GgufWriter& w);
void convert_gateloop_hf(const io::HfCheckpoint& ckpt, const ConvertOptions& opts, io::GgufWriter& w);

void convert_hf(const io::HfCheckpoint& ckpt, const ConvertOptions& opts, io::GgufWriter& w) {
  const std::string type = ckpt.config_string("model_type", "");
  ConvertOptions o = opts;
  if (o.name.empty()) o.name = std::filesystem::path(ckpt.dir()).filename().string();
  w.set("general.name", io::GgufValue::string(o.name));
  w.set("x_llamba.format_version", io::GgufValue::u32(1));
  w.set("x_llamba.source", io::GgufValue::string(ckpt.dir()));
  if (type == "llama") return convert_llama_hf(ckpt, o, w);
  if (type == "llamba") return convert_llamba_hf(ckpt, o, w);
  if (type == "mamba2") return convert_mamba2_hf(ckpt, o, w);
  if (type == "gateloop") return convert_gateloop_hf(ckpt, o, w);
  LLAMBA_THROW("{}/config.json: model_type \"{}\" cannot be converted (supported: llama, llamba, mamba2, gateloop)",
               ckpt.dir(), type);
}

void add_tokenizer_if_present(const std::string& dir, io::GgufWriter& w) {
  // tokenizer.json (with its sibling tokenizer_config.json) is preferred: it carries the chat template.
  for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
    const auto path = std::filesystem::path(dir) / name;
    if (!std::filesystem::is_regular_file(path)) continue;
    tokenizer::Tokenizer::load(path.string())->write_gguf_metadata(w);
    return;
  }
}

int64_t convert_hf_file(const std::string& hf_dir, const std::string& out, const ConvertOptions& opts,
                        const std::string& tokenizer_file) {
  const auto ckpt = io::HfCheckpoint::open(hf_dir);
  io::GgufWriter w;
  convert_hf(ckpt, opts, w);
  if (tokenizer_file.empty()) {
    add_tokenizer_if_present(ckpt.dir(), w);
  } else {
    tokenizer::Tokenizer::load(tokenizer_file)->write_gguf_metadata(w);
  }
  w.write(out);
  return (int64_t)w.tensor_count();
}

namespace convert {

void expect_shape(const io::HfCheckpoint& ckpt, const std::string& hf_name, const core::Shape& shape) {
  const core::TensorView v = ckpt.tensor(hf_name);
  LLAMBA_ENSURE(v.shape == shape, "{}: tensor {} has shape {}, config.json implies {}", ckpt.file_of(hf_name), hf_name,
                v.shape.str(), shape.str());
  LLAMBA_ENSURE(core::dtype_info(v.dtype).is_float, "{}: tensor {} has non-float dtype {}", ckpt.file_of(hf_name),
                hf_name, core::dtype_name(v.dtype));
}

int64_t embedding_rows(const io::HfCheckpoint& ckpt, const std::string& hf_name, int64_t d_model) {
  const core::TensorView e = ckpt.tensor(hf_name);
  LLAMBA_ENSURE(e.rank() == 2 && e.size(1) == d_model, "{}: {} has shape {}, expected (V, {})",
                ckpt.file_of(hf_name), hf_name, e.shape.str(), d_model);
  return e.size(0);
}

void LayerTensors::mat(const std::string& hf, const char* gg, const core::Shape& s, const Transform& t) const {
  expect_shape(ckpt_, prefix_ + hf, s);
  add_tensor(w_, ckpt_, prefix_ + hf, blk(l_, gg), s, matrix_type(ckpt_, prefix_ + hf, o_), t);
}

void LayerTensors::f32(const std::string& hf, const char* gg, const core::Shape& s, const core::Shape& out,
                       const Transform& t) const {
  expect_shape(ckpt_, prefix_ + hf, s);
  add_tensor(w_, ckpt_, prefix_ + hf, blk(l_, gg), out, core::DType::kF32, t);
}

core::DType matrix_type(const io::HfCheckpoint& ckpt, const std::string& hf_name, const ConvertOptions& o) {
  if (o.matrix_type != core::DType::kCount) return o.matrix_type;
  const core::DType src = ckpt.tensor(hf_name).dtype;
  return src == core::DType::kF64 ? core::DType::kF32 : src;
}

void add_tensor(io::GgufWriter& w, const io::HfCheckpoint& ckpt, const std::string& hf_name,
                const std::string& gguf_name, const core::Shape& shape, core::DType type, Transform t) {
  const core::TensorView src = ckpt.tensor(hf_name);
  LLAMBA_ENSURE(src.numel() == shape.numel(), "{}: tensor {} has {} elements, expected {} for {}",
                ckpt.file_of(hf_name), hf_name, src.numel(), shape.numel(), gguf_name);
  const int64_t row = shape[-1];
  LLAMBA_ENSURE(row % core::dtype_info(type).block_size == 0,
                "tensor {}: row length {} is not a multiple of the {} block size; choose another --outtype", gguf_name,
                row, core::dtype_name(type));
  w.add_tensor(gguf_name, shape, type, [src, shape, type, t, row](void* dst) {
    std::vector<float> data(src.numel());
    io::convert_to_f32(src.dtype, src.data, data.data(), src.numel());
    if (t) t(data);
    const int64_t rows = shape.numel() / row, rb = core::dtype_bytes(type, row);
    for (int64_t r = 0; r < rows; ++r)
      quant::quantize_row(type, data.data() + r * row, static_cast<uint8_t*>(dst) + r * rb, row);
  });
}

void add_tensor_rows(io::GgufWriter& w, const io::HfCheckpoint& ckpt, const std::string& hf_name,
                     const std::string& gguf_name, const core::Shape& shape, const std::vector<int64_t>& rows,
                     core::DType type) {
  const core::TensorView src = ckpt.tensor(hf_name);
  const int64_t n_rows = (int64_t)rows.size(), row = n_rows > 0 ? shape.numel() / n_rows : 0;
  const int64_t src_rows = src.rank() > 0 ? src.size(0) : 0;
  LLAMBA_ENSURE(n_rows == shape[0] && row > 0 && src_rows * row == src.numel(),
                "{}: tensor {} of shape {} cannot give {} rows of {} for {}", ckpt.file_of(hf_name), hf_name,
                src.shape.str(), n_rows, row, gguf_name);
  for (int64_t r : rows)
    LLAMBA_ENSURE(r >= 0 && r < src_rows, "{}: row {} of {} out of range", ckpt.file_of(hf_name), r, hf_name);
  const int64_t inner = shape[-1];
  LLAMBA_ENSURE(inner % core::dtype_info(type).block_size == 0,
                "tensor {}: row length {} is not a multiple of the {} block size; choose another --outtype", gguf_name,
                inner, core::dtype_name(type));
  w.add_tensor(gguf_name, shape, type, [src, shape, type, rows, row, inner](void* dst) {
    std::vector<float> all(src.numel()), data;
    io::convert_to_f32(src.dtype, src.data, all.data(), src.numel());
    data.reserve(shape.numel());
    for (int64_t r : rows) data.insert(data.end(), all.begin() + r * row, all.begin() + (r + 1) * row);
    const int64_t n = shape.numel() / inner, rb = core::dtype_bytes(type, inner);
    for (int64_t r = 0; r < n; ++r)
      quant::quantize_row(type, data.data() + r * inner, static_cast<uint8_t*>(dst) + r * rb, inner);
  });
}

}  // namespace convert
}  // namespace llamba::models
