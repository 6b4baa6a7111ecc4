// attention reference in double: explicit scores, max-subtracted softmax, weighted sum.
#include "ops/attention.h"

#include <cmath>
#include <vector>

#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void attention_forward(const core::TensorView& out, const core::TensorView& q, const core::TensorView& k,
                       const core::TensorView& v, int64_t n_past, double scale, const core::TensorView& probs) {
  const int64_t T = q.size(0), Hq = q.size(1), hd = q.size(2), Hkv = k.size(1);
  LLAMBA_CHECK(Hq % Hkv == 0 && k.size(0) >= n_past + T, "[ref::attention_forward] bad shapes");
  for (int64_t h = 0; h < Hq; ++h) {
    const int64_t hk = h / (Hq / Hkv);
    for (int64_t t = 0; t < T; ++t) {
      const int64_t S = n_past + t + 1;
      std::vector<double> sc(S);
      double mx = -INFINITY;
      for (int64_t s = 0; s < S; ++s) {
        double d = 0;
        for (int64_t i = 0; i < hd; ++i)
          d += ld(q, t * q.strides[0] + h * q.strides[1] + i) * ld(k, s * k.strides[0] + hk * k.strides[1] + i);
        sc[s] = d * scale;
        mx = std::max(mx, sc[s]);
      }
      double sum = 0;
      for (auto& e : sc) sum += (e = std::exp(e - mx));
      for (int64_t i = 0; i < hd; ++i) {
        double o = 0;
        for (int64_t s = 0; s < S; ++s) o += sc[s] / sum * ld(v, s * v.strides[0] + hk * v.strides[1] + i);
        st(out, t * out.strides[0] + h * out.strides[1] + i, o);
      }
      if (probs.data)
        for (int64_t s = 0; s < probs.size(2); ++s) st(probs, (h * T + t) * probs.size(2) + s, s < S ? sc[s] / sum : 0);
    }
  }
}

}  // namespace llamba::ops::ref
