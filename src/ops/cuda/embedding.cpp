// embedding on the GPU, host entry: the CPU op's checks (ids in range, on the host), the ids uploaded, then the
// kernel (ops/cuda/embedding.cu).
#include "ops/embedding.h"

#include "ops/cuda/entry.h"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda {

void embedding_forward(Backend& be, const core::TensorView& out, const core::TensorView& table,
                       std::span<const int32_t> ids) {
  constexpr const char* op = "embedding_forward";
  LLAMBA_ENSURE(table.rank() == 2, "[{}] table {} must be (V, D)", op, table.shape.str());
  const int64_t V = table.size(0), D = table.size(1);
  LLAMBA_ENSURE(out.rank() == 2 && out.size(0) == (int64_t)ids.size() && out.size(1) == D && out.strides[1] == 1,
                "[{}] out {} for {} ids of width {}", op, out.shape.str(), ids.size(), D);
  LLAMBA_ENSURE(table.is_contiguous(), "[{}] the table {} must be contiguous", op, table.shape.str());
  LLAMBA_ENSURE(kernels::decodes(table.dtype), "[{}] no CUDA kernel for {} tables (f32, f16, bf16, q8_0, q4_0, q4_1)",
                op, core::dtype_name(table.dtype));
  require_device(op, {&out, &table});
  require_f32(op, {&out});
  for (int32_t id : ids) LLAMBA_ENSURE(id >= 0 && id < V, "token id {} is outside the vocabulary [0, {})", id, V);
  if (ids.empty() || D == 0) return;
  be.make_current();
  const auto dev = be.upload({{ids.data(), ids.size_bytes()}});
  launched(op, kernels::embedding_forward(be.stream(), static_cast<float*>(out.data), out.strides[0], table.data,
                                          table.dtype, static_cast<const int32_t*>(dev[0]), (int64_t)ids.size(), D));
}

}  // namespace llamba::ops::cuda
