// Checked weight lookup.
#include "models/blocks/weights_util.h"

namespace llamba::models {

core::TensorView optional_weight(const io::GgufFile& f, const std::string& name, const core::Shape& shape,
                                 WeightKind kind) {
  const io::GgufTensorInfo* info = f.find_tensor(name);
  if (!info) return {};
  LLAMBA_ENSURE(info->shape == shape, "{}: tensor {} has shape {}, expected {}", f.path(), name, info->shape.str(),
                shape.str());
  if (kind == WeightKind::kF32) {
    LLAMBA_ENSURE(info->dtype == core::DType::kF32, "{}: tensor {} must be f32, found {}", f.path(), name,
                  core::dtype_name(info->dtype));
  } else {
    const auto& di = core::dtype_info(info->dtype);
    LLAMBA_ENSURE(di.is_quantized || info->dtype == core::DType::kF32 || info->dtype == core::DType::kF16 ||
                      info->dtype == core::DType::kBF16,
                  "{}: tensor {} has unsupported dtype {} for a weight matrix", f.path(), name, di.name);
  }
  return f.tensor(*info);
}

core::TensorView require_weight(const io::GgufFile& f, const std::string& name, const core::Shape& shape,
                                WeightKind kind) {
  core::TensorView v = optional_weight(f, name, shape, kind);
  LLAMBA_ENSURE(v.data != nullptr || shape.numel() == 0, "{}: missing tensor {} (expected shape {})", f.path(), name,
                shape.str());
  return v;
}

int64_t require_dim(const io::GgufFile& f, const std::string& key, int64_t max) {
  const int64_t v = f.get_int(key);
  LLAMBA_ENSURE(v >= 1 && v <= max, "{}: metadata {} = {} is out of range [1, {}]", f.path(), key, v, max);
  return v;
}

int64_t vocab_size(const io::GgufFile& f) {
  const io::GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  LLAMBA_ENSURE(emb && emb->shape.rank() == 2, "{}: missing 2-D tensor token_embd.weight", f.path());
  return emb->shape[0];
}

}  // namespace llamba::models
