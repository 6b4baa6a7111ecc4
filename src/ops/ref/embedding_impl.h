// embedding reference kernels, templated on the scalar type (double for the reference ops, std::complex<double>
// for the complex-step gradient checks). Dense row-major arrays; backward accumulates (+=).
#pragma once

#include <cstdint>

namespace llamba::ops::ref::impl {

// out (T, D) = table[ids] for table (V, D); ids already validated.
template <class S>
void embedding_forward(S* out, const S* table, const int32_t* ids, int64_t T, int64_t D) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < D; ++i) out[t * D + i] = table[(int64_t)ids[t] * D + i];
}

// dtable[ids[t]] += dout[t] for every t: a scatter-add, so repeated ids sum their rows.
template <class S>
void embedding_backward(S* dtable, const S* dout, const int32_t* ids, int64_t T, int64_t D) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < D; ++i) dtable[(int64_t)ids[t] * D + i] += dout[t * D + i];
}

}  // namespace llamba::ops::ref::impl
