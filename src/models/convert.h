// Hugging Face checkpoint -> llamba GGUF. Dispatches on config.json's `model_type` to the model folder's
// converter (models/<arch>/hf_names.cpp), which maps names, checks shapes and folds constant transforms.
// Tensors are streamed: one is held in memory at a time.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "io/gguf.h"
#include "io/hf_checkpoint.h"

namespace llamba::models {

struct ConvertOptions {
  // Type for 2-D projection and embedding matrices: f32, f16, bf16 or a block type. kCount = keep the source
  // float type. Norms, biases, conv weights and decay/skip parameters always stay f32.
  core::DType matrix_type = core::DType::kCount;
  std::string name;  // general.name; default: the folder name
  // Write the parametrization training updates instead of the inference fold: mamba2 keeps A_log as
  // `blk.N.ssm_a_log` rather than folding it into `ssm_a` = −exp(A_log) (models/mamba2/mamba2.h). Other
  // architectures ignore it.
  bool training = false;
};

// Fills `w` with the converted model (metadata + tensors); the caller adds the tokenizer and writes the file.
// Throws llamba::Error naming the file, tensor or config field on bad input.
void convert_hf(const io::HfCheckpoint& ckpt, const ConvertOptions& opts, io::GgufWriter& w);

// `llamba convert`: the checkpoint folder `hf_dir` to the GGUF file `out`, with the tokenizer `tokenizer_file`
// (tiktoken file, tokenizer.json or GGUF) embedded, or else the one found in `hf_dir`, if any. Returns the
// number of tensors written.
int64_t convert_hf_file(const std::string& hf_dir, const std::string& out, const ConvertOptions& opts,
                        const std::string& tokenizer_file = "");
// Embeds the tokenizer found in `dir` (tokenizer.json or tokenizer.model), if any, into a GGUF being written.
void add_tokenizer_if_present(const std::string& dir, io::GgufWriter& w);

// Helpers for the per-model converters.
namespace convert {
using Transform = std::function<void(std::vector<float>& data)>;
// Adds `gguf_name` (shape `shape`, PyTorch order) produced from HF tensor `hf_name` (any float dtype, same
// number of elements), optionally transformed in f32, encoded as `type`.
void add_tensor(io::GgufWriter& w, const io::HfCheckpoint& ckpt, const std::string& hf_name,
                const std::string& gguf_name, const core::Shape& shape, core::DType type, Transform t = {});
// Like add_tensor, but `gguf_name` (shape `shape`, first dim = rows.size()) takes the listed rows of HF tensor
// `hf_name` viewed as (R, row length) in that order: splits fused projections and de-interleaves rows.
void add_tensor_rows(io::GgufWriter& w, const io::HfCheckpoint& ckpt, const std::string& hf_name,
                     const std::string& gguf_name, const core::Shape& shape, const std::vector<int64_t>& rows,
                     core::DType type);
// The dtype for a 2-D matrix given the options (source float type when kept).
core::DType matrix_type(const io::HfCheckpoint& ckpt, const std::string& hf_name, const ConvertOptions& o);
// Checks the HF tensor's shape.
void expect_shape(const io::HfCheckpoint& ckpt, const std::string& hf_name, const core::Shape& shape);
// The rows V of the HF embedding `hf_name`, checked to be (V, d_model).
int64_t embedding_rows(const io::HfCheckpoint& ckpt, const std::string& hf_name, int64_t d_model);

// Layer l's tensors: HF `prefix + hf` -> GGUF blk(l, gg), the HF shape `s` checked first. mat: a matrix in the
// options' matrix type; f32: kept f32 (norms, biases, conv, decay), written in shape `out` (default `s`).
class LayerTensors {
 public:
  LayerTensors(io::GgufWriter& w, const io::HfCheckpoint& ckpt, const ConvertOptions& o, std::string prefix,
               int64_t l)
      : w_(w), ckpt_(ckpt), o_(o), prefix_(std::move(prefix)), l_(l) {}
  void mat(const std::string& hf, const char* gg, const core::Shape& s, const Transform& t = {}) const;
  void f32(const std::string& hf, const char* gg, const core::Shape& s, const core::Shape& out,
           const Transform& t = {}) const;
  void f32(const std::string& hf, const char* gg, const core::Shape& s) const { f32(hf, gg, s, s); }

 private:
  io::GgufWriter& w_;
  const io::HfCheckpoint& ckpt_;
  const ConvertOptions& o_;
  std::string prefix_;
  int64_t l_;
};
}  // namespace convert

}  // namespace llamba::models
