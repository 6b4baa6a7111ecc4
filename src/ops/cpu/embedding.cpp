// embedding on the CPU. Forward: one dequantized table row per token, tokens split across threads. Backward:
// tokens grouped by id (stable sort), groups split across threads; each group's rows are summed in token order
// in a local buffer and added to the table gradient once. Backward convention: accumulate (+=).
#include "ops/embedding.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "ops/check_shapes.h"
#include "quant/quant.h"

namespace llamba::ops::cpu {

void embedding_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& table,
                       std::span<const int32_t> ids) {
  const int64_t V = table.size(0), D = table.size(1);
  LLAMBA_ENSURE(out.rank() == 2 && out.size(0) == (int64_t)ids.size() && out.size(1) == D && out.strides[1] == 1,
               "[embedding_forward] out {} for {} ids of width {}", out.shape.str(), ids.size(), D);
  for (int32_t id : ids) LLAMBA_ENSURE(id >= 0 && id < V, "token id {} is outside the vocabulary [0, {})", id, V);
  const int64_t row_bytes = core::dtype_bytes(table.dtype, D);
  pool.parallel_for((int64_t)ids.size(), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      quant::dequantize_row(table.dtype, static_cast<const uint8_t*>(table.data) + ids[t] * row_bytes,
                            out.f32() + t * out.strides[0], D);
  });
}

void embedding_backward(core::ThreadPool& pool, const core::TensorView& dtable, const core::TensorView& dout,
                        std::span<const int32_t> ids) {
  const int64_t V = dtable.size(0), D = dtable.size(1), T = (int64_t)ids.size();
  check_embedding_backward("embedding_backward", dtable, dout, T);
  for (int32_t id : ids) LLAMBA_ENSURE(id >= 0 && id < V, "token id {} is outside the vocabulary [0, {})", id, V);
  std::vector<int64_t> order(T);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ids[a] < ids[b]; });
  std::vector<int64_t> starts;  // group g = order[starts[g] .. starts[g + 1])
  for (int64_t i = 0; i < T; ++i)
    if (i == 0 || ids[order[i]] != ids[order[i - 1]]) starts.push_back(i);
  starts.push_back(T);
  pool.parallel_for((int64_t)starts.size() - 1, [&](int64_t g0, int64_t g1) {
    std::vector<float> acc(D);
    for (int64_t g = g0; g < g1; ++g) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t i = starts[g]; i < starts[g + 1]; ++i) {
        const float* src = dout.f32() + order[i] * dout.strides[0];
        for (int64_t d = 0; d < D; ++d) acc[d] += src[d];
      }
      float* dst = dtable.f32() + ids[order[starts[g]]] * dtable.strides[0];
      for (int64_t d = 0; d < D; ++d) dst[d] += acc[d];
    }
  });
}

}  // namespace llamba::ops::cpu
