// embedding reference in double, forward and backward, through the templated kernels of embedding_impl.h run on
// the compacted table of the ids that occur (so a 128k-row vocabulary costs nothing extra).
// Backward convention: the table gradient is accumulated into (+=); callers zero it.
#include "ops/embedding.h"

#include <map>

#include "ops/check_shapes.h"
#include "ops/ref/embedding_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {
namespace {

// The distinct ids in first-seen order (`uniq`) and each token's index into them (`local`).
struct Compact {
  std::vector<int32_t> uniq, local;
};
Compact compact(std::span<const int32_t> ids, int64_t V) {
  Compact c;
  std::map<int32_t, int32_t> pos;
  for (int32_t id : ids) {
    LLAMBA_ENSURE(id >= 0 && id < V, "token id {} is outside the vocabulary [0, {})", id, V);
    auto [it, fresh] = pos.emplace(id, (int32_t)c.uniq.size());
    if (fresh) c.uniq.push_back(id);
    c.local.push_back(it->second);
  }
  return c;
}

}  // namespace

void embedding_forward(const core::TensorView& out, const core::TensorView& table, std::span<const int32_t> ids) {
  const int64_t V = table.size(0), D = table.size(1), T = (int64_t)ids.size();
  LLAMBA_ENSURE(out.rank() == 2 && out.size(0) == T && out.size(1) == D, "[ref::embedding_forward] out {} for {} ids",
               out.shape.str(), T);
  const Compact c = compact(ids, V);
  std::vector<double> rows(c.uniq.size() * D), o(T * D);
  for (size_t u = 0; u < c.uniq.size(); ++u) {
    const std::vector<double> r = row(table, c.uniq[u]);
    std::copy(r.begin(), r.end(), rows.begin() + u * D);
  }
  impl::embedding_forward(o.data(), rows.data(), c.local.data(), T, D);
  scatter(out, o);
}

void embedding_backward(const core::TensorView& dtable, const core::TensorView& dout, std::span<const int32_t> ids) {
  const int64_t V = dtable.size(0), D = dtable.size(1), T = (int64_t)ids.size();
  check_embedding_backward("ref::embedding_backward", dtable, dout, T);
  const Compact c = compact(ids, V);
  std::vector<double> g(c.uniq.size() * D, 0.0);
  impl::embedding_backward(g.data(), gather(dout).data(), c.local.data(), T, D);
  for (size_t u = 0; u < c.uniq.size(); ++u)
    for (int64_t i = 0; i < D; ++i) {
      const int64_t off = (int64_t)c.uniq[u] * dtable.strides[0] + i;
      st(dtable, off, ld(dtable, off) + g[u * D + i]);
    }
}

}  // namespace llamba::ops::ref
