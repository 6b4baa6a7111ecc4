// embedding reference: dequantized rows copied as double.
#include "ops/embedding.h"

#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void embedding_forward(const core::TensorView& out, const core::TensorView& table, std::span<const int32_t> ids) {
  const int64_t V = table.size(0), D = table.size(1);
  for (size_t t = 0; t < ids.size(); ++t) {
    LLAMBA_ENSURE(ids[t] >= 0 && ids[t] < V, "token id {} is outside the vocabulary [0, {})", ids[t], V);
    const std::vector<double> r = row(table, ids[t]);
    for (int64_t i = 0; i < D; ++i) st(out, (int64_t)t * out.strides[0] + i, r[i]);
  }
}

}  // namespace llamba::ops::ref
