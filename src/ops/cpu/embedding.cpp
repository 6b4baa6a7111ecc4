// embedding on the CPU: one dequantized table row per token, tokens split across threads.
#include "ops/embedding.h"

#include "quant/quant.h"

namespace llamba::ops {

void embedding_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& table,
                       std::span<const int32_t> ids) {
  const int64_t V = table.size(0), D = table.size(1);
  LLAMBA_CHECK(out.rank() == 2 && out.size(0) == (int64_t)ids.size() && out.size(1) == D && out.strides[1] == 1,
               "[embedding_forward] out {} for {} ids of width {}", out.shape.str(), ids.size(), D);
  for (int32_t id : ids) LLAMBA_ENSURE(id >= 0 && id < V, "token id {} is outside the vocabulary [0, {})", id, V);
  const int64_t row_bytes = core::dtype_bytes(table.dtype, D);
  pool.parallel_for((int64_t)ids.size(), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      quant::dequantize_row(table.dtype, static_cast<const uint8_t*>(table.data) + ids[t] * row_bytes,
                            out.f32() + t * out.strides[0], D);
  });
}

}  // namespace llamba::ops
