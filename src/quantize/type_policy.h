// Which type each tensor of a model gets when quantized to a file type: llama.cpp's `llama-quantize` rules
// (src/llama-quant.cpp of llama.cpp as vendored by llama-cpp-python 0.3.36), so that the same input gives the
// same tensor types, and our quantizers then give the same bytes. Not here: the quantizers (src/quant) and the
// file writing (quantize_model.h).
//
// The rules, for the file types below (no importance matrix):
//   - Only tensors of 2+ dimensions whose name ends in "weight" are quantized; never norms (`_norm.weight`),
//     Mamba's `ssm_conv1d`, or GateLoop's transition projection `gl_a.weight` (ours: gate rounding compounds over
//     time, which is why `llamba convert` keeps it f32 too). Everything else is copied as it is.
//   - `output.weight` (or `token_embd.weight` when the head is tied to it) takes Q6_K, or Q8_0 when its row
//     length is not a multiple of the base type's block, or stays Q8_0 for Q8_0 files.
//   - Q4_K_M / Q5_K_M: `attn_v` and `ffn_down` of the layers `use_more_bits` picks take Q6_K;
//     Q4_K_S: the first 4 `attn_v` and the first 1/8 of `ffn_down` take Q5_K.
//   - A row length that does not fit the chosen type's block falls back: Q4_K → Q5_0, Q5_K → Q5_1,
//     Q6_K → Q8_0; a 32-block type that still does not fit → F16.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "io/gguf.h"

namespace llamba::quantize {

enum class FileType { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ4_K_S, kQ4_K_M, kQ5_K_S, kQ5_K_M, kQ6_K };

struct FileTypeInfo {
  FileType type;
  std::string_view name;  // as llama-quantize spells it
  uint32_t llama_ftype;   // `general.file_type` (llama.cpp's llama_ftype)
  core::DType base;       // the type of most tensors
};
const FileTypeInfo& file_type_info(FileType t);
// Case-insensitive; "Q4_K" means Q4_K_M and "Q5_K" Q5_K_M, as in llama-quantize. nullopt when unknown.
std::optional<FileType> file_type_from_name(std::string_view name);
// "F32, F16, ..." for messages.
std::string file_type_names();
// A tensor type given by name for --output-type / --embedding-type (`what` names the option in the error):
// nullopt for an empty name; throws llamba::Error for a type llamba cannot write.
std::optional<core::DType> writable_type(const std::string& what, const std::string& name);

struct QuantizeOptions {
  FileType type = FileType::kQ8_0;
  std::optional<core::DType> output_type;     // output.weight (and token_embd.weight when tied), as given
  std::optional<core::DType> embedding_type;  // token_embd.weight, as given
  std::vector<std::string> keep;              // ECMAScript regexes: matching tensors are copied unchanged
  bool pure = false;                          // no mixture: every quantizable tensor takes the base type
  bool leave_output = false;                  // output.weight is copied unchanged
};

struct TensorPlan {
  std::string name;
  core::DType from = core::DType::kF32, to = core::DType::kF32;
  std::string note;  // why `to` is not the base type, when it is a fallback or a kept tensor; else empty
};

// The tensors of `in` in the order llama-quantize writes them (by layer number, then name; non-layer tensors
// first) with the type each gets. Throws llamba::Error for a bad regex, a type that cannot be written, or a
// tensor whose type cannot be read.
std::vector<TensorPlan> plan_quantization(const io::GgufFile& in, const QuantizeOptions& opts);

}  // namespace llamba::quantize
