// Internal to the cpu gated_recurrence files: typed row accessors over the argument and gradient views, the
// compile-time dispatch over (scalar type, gate kind, complex), and the entries of the chunked files.
#pragma once

#include <cstdint>

#include "ops/gated_recurrence.h"
#include "ops/gated_recurrence_impl.h"

namespace llamba::ops::cpu {

// Row pointers into the views of one call; the innermost dimension is contiguous (checked at the entry).
// Read-only after construction; shared by all tasks.
template <class T>
struct GrProblem {
  detail::GrDims d;
  double scale = 1.0;
  int64_t chunk = 1;

  struct Rows {  // base pointer + strides of the leading three dims
    T* p = nullptr;
    int64_t s0 = 0, s1 = 0, s2 = 0;
    T* at(int64_t i0, int64_t i1, int64_t i2) const { return p + i0 * s0 + i1 * s1 + i2 * s2; }
  };
  Rows q, k, v, y, g, th, s_in, s_in_im, s_out, s_out_im;

  static Rows rows(const core::TensorView& t) {
    Rows r;
    if (!detail::gr_present(t)) return r;
    r.p = static_cast<T*>(t.data);
    r.s0 = t.strides[0], r.s1 = t.strides[1];
    r.s2 = t.rank() >= 3 ? t.strides[2] : 0;
    return r;
  }

  GrProblem(const GatedRecurrenceArgs& a, const detail::GrDims& dims) : d(dims), scale(a.scale), chunk(a.chunk) {
    q = rows(a.q), k = rows(a.k), v = rows(a.v), y = rows(a.y), g = rows(a.log_decay), th = rows(a.phase);
    s_in = rows(a.state_in), s_in_im = rows(a.state_in_im), s_out = rows(a.state_out);
    s_out_im = rows(a.state_out_im);
  }

  int64_t group(int64_t h) const { return h / d.heads_per_group(); }
  const T* q_row(int64_t b, int64_t t, int64_t h) const { return q.at(b, t, group(h)); }  // (N)
  const T* k_row(int64_t b, int64_t t, int64_t h) const { return k.at(b, t, group(h)); }  // (N)
  const T* v_row(int64_t b, int64_t t, int64_t h) const { return v.at(b, t, h); }         // (P)
  T* y_row(int64_t b, int64_t t, int64_t h) const { return y.at(b, t, h); }               // (P)
  // Gates: (N) rows for vector gates; for scalar gates the row has one element. Re is clamped by the caller.
  const T* g_row(int64_t b, int64_t t, int64_t h) const { return g.at(b, t, h); }
  const T* th_row(int64_t b, int64_t t, int64_t h) const { return th.at(b, t, h); }
  // State rows (N) of (b, h, p); null when the view is absent.
  const T* state_in_row(int64_t b, int64_t h, int64_t p) const { return s_in.p ? s_in.at(b, h, p) : nullptr; }
  const T* state_in_im_row(int64_t b, int64_t h, int64_t p) const {
    return s_in_im.p ? s_in_im.at(b, h, p) : nullptr;
  }
  T* state_out_row(int64_t b, int64_t h, int64_t p) const { return s_out.p ? s_out.at(b, h, p) : nullptr; }
  T* state_out_im_row(int64_t b, int64_t h, int64_t p) const { return s_out_im.p ? s_out_im.at(b, h, p) : nullptr; }
};

// Row pointers into the gradient views of a backward call (incoming dy, dstate_out; outputs, null when not
// wanted). Outputs are accumulated (+=).
template <class T>
struct GrGrads {
  using Rows = typename GrProblem<T>::Rows;
  Rows dy, dso, dso_im, dq, dk, dv, dg, dth, dsi, dsi_im;
  int64_t hpg = 1;  // heads per group

  static Rows rows(const core::TensorView& t) { return detail::gr_wanted(t) ? GrProblem<T>::rows(t) : Rows{}; }
  GrGrads(const GatedRecurrenceBackwardArgs& a, const detail::GrDims& d) : hpg(d.heads_per_group()) {
    dy = rows(a.dy), dso = rows(a.dstate_out), dso_im = rows(a.dstate_out_im);
    dq = rows(a.dq), dk = rows(a.dk), dv = rows(a.dv), dg = rows(a.dlog_decay), dth = rows(a.dphase);
    dsi = rows(a.dstate_in), dsi_im = rows(a.dstate_in_im);
  }
  const T* dy_row(int64_t b, int64_t t, int64_t h) const { return dy.at(b, t, h); }  // (P)
  // (N) rows of (b, h, p), null when absent / not wanted.
  const T* dso_row(int64_t b, int64_t h, int64_t p) const { return dso.p ? dso.at(b, h, p) : nullptr; }
  const T* dso_im_row(int64_t b, int64_t h, int64_t p) const { return dso_im.p ? dso_im.at(b, h, p) : nullptr; }
  T* dsi_row(int64_t b, int64_t h, int64_t p) const { return dsi.p ? dsi.at(b, h, p) : nullptr; }
  T* dsi_im_row(int64_t b, int64_t h, int64_t p) const { return dsi_im.p ? dsi_im.at(b, h, p) : nullptr; }
  T* dq_row(int64_t b, int64_t t, int64_t h) const { return dq.p ? dq.at(b, t, h / hpg) : nullptr; }  // (N)
  T* dk_row(int64_t b, int64_t t, int64_t h) const { return dk.p ? dk.at(b, t, h / hpg) : nullptr; }  // (N)
  T* dv_row(int64_t b, int64_t t, int64_t h) const { return dv.p ? dv.at(b, t, h) : nullptr; }        // (P)
  T* dg_row(int64_t b, int64_t t, int64_t h) const { return dg.p ? dg.at(b, t, h) : nullptr; }        // (N) or (1)
  T* dth_row(int64_t b, int64_t t, int64_t h) const { return dth.p ? dth.at(b, t, h) : nullptr; }
};

// Calls fn.template operator()<T, kVector, kComplex>() for the runtime combination in `d`.
template <class Fn>
void gr_dispatch(const detail::GrDims& d, Fn&& fn) {
  auto by_gate = [&]<class T>() {
    if (d.vector_gate) {
      d.complex ? fn.template operator()<T, true, true>() : fn.template operator()<T, true, false>();
    } else {
      d.complex ? fn.template operator()<T, false, true>() : fn.template operator()<T, false, false>();
    }
  };
  if (d.dtype == core::DType::kF64) {
    by_gate.template operator()<double>();
  } else {
    by_gate.template operator()<float>();
  }
}

// kChunked backward (gated_recurrence_chunked_bwd.cpp); `d.T`, `d.N`, `d.P` > 0.
void gated_recurrence_chunked_backward(core::ThreadPool& pool, const GatedRecurrenceBackwardArgs& args,
                                       const detail::GrDims& d);

// kChunked and kQuadratic (gated_recurrence_chunked.cpp); `d.T` > 0.
void gated_recurrence_chunked(core::ThreadPool& pool, const GatedRecurrenceArgs& args, const detail::GrDims& d,
                              RecurrenceMode mode);

}  // namespace llamba::ops::cpu
