// Teacher loading (dequantized once) and the tokenizer check.
#include "distill/teacher.h"

#include "quant/quant.h"
#include "tokenizer/tokenizer.h"

namespace llamba::distill {

train::WritableModelFile dequantized_copy(const io::GgufFile& f) {
  io::GgufWriter w;
  for (const auto& [k, v] : f.metadata())
    if (k != "general.alignment" && k != "general.file_type" && k != "general.quantization_version") w.set(k, v);
  w.set("general.file_type", io::GgufValue::u32(0));  // all f32
  for (const auto& info : f.tensors()) {
    const core::TensorView src = f.tensor(info);
    if (src.dtype == core::DType::kF32) {
      w.add_tensor(info.name, src);
      continue;
    }
    const int64_t cols = src.shape.rank() ? src.shape[src.shape.rank() - 1] : 1, rows = src.numel() / cols;
    core::Tensor t = core::Tensor::zeros(core::DType::kF32, src.shape);
    const size_t row_bytes = (size_t)core::dtype_bytes(src.dtype, cols);
    for (int64_t r = 0; r < rows; ++r)
      quant::dequantize_row(src.dtype, static_cast<const uint8_t*>(src.data) + r * row_bytes, t.f32() + r * cols, cols);
    w.add_tensor(info.name, t);
  }
  return train::from_writer(w, f.path() + " (f32)");
}

Teacher load_teacher(const std::string& path) {
  const io::GgufFile file = io::GgufFile::open(path);
  const std::string arch = file.get_string("general.architecture", "");
  LLAMBA_ENSURE(arch == "llama", "{}: the teacher must be a Llama-architecture model, got general.architecture \"{}\"",
                path, arch);
  Teacher t;
  t.path = path;
  t.image = dequantized_copy(file);
  t.model = models::load_model(*t.image.file);
  t.config = models::llama::Config::from_gguf(*t.image.file);
  return t;
}

void check_tokenizer_matches(const Teacher& t, const train::ShardSet& data, const std::string& data_dir) {
  if (!t.image.file->has("tokenizer.ggml.model")) {  // a bare model file: only the ids' range can be checked
    LLAMBA_ENSURE(data.vocab_size <= t.config.n_vocab,
                  "{}: the shards' vocabulary ({}) is larger than the teacher's ({}: {}, no tokenizer embedded)",
                  data_dir, data.vocab_size, t.path, t.config.n_vocab);
    return;
  }
  const auto tok = tokenizer::Tokenizer::from_gguf(*t.image.file);
  if (!data.tokenizer_fingerprint.empty()) {
    LLAMBA_ENSURE(data.tokenizer_fingerprint == tok->fingerprint(),
                  "{}: the shards were tokenized by another tokenizer (meta.json tokenizer_fingerprint {}) than the "
                  "teacher's ({}: {})",
                  data_dir, data.tokenizer_fingerprint, t.path, tok->fingerprint());
    return;
  }
  LLAMBA_ENSURE(data.vocab_size == tok->vocab_size() && data.eos_id == tok->eos_id(),
                "{}: the shards' vocabulary (size {}, EOS {}) is not the teacher's ({}: size {}, EOS {})", data_dir,
                data.vocab_size, data.eos_id, t.path, tok->vocab_size(), tok->eos_id());
}

}  // namespace llamba::distill
