// Internals shared by the ref and cpu backends of gated_recurrence: argument validation (shapes, dtypes,
// strides) of the forward and the backward, and the step-as-forward view adapter. No math lives here.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include "core/check.h"
#include "ops/gated_recurrence.h"

namespace llamba::ops::detail {

// Sizes of one call, read from the views once at the op entry.
struct GrDims {
  int64_t B = 0, T = 0, H = 0, G = 0, N = 0, P = 0;
  bool vector_gate = false;  // log_decay is (B, T, H, N)
  bool complex = false;      // phase present
  bool has_state_in = false, has_state_in_im = false, has_state_out = false, has_state_out_im = false;
  core::DType dtype = core::DType::kF32;
  int64_t heads_per_group() const { return G > 0 ? H / G : 1; }
};

// An optional view is absent when default-constructed (rank 0, no data).
inline bool gr_present(const core::TensorView& v) { return v.rank() != 0 || v.data != nullptr; }

inline std::string gr_shape_str(const core::TensorView& v) { return gr_present(v) ? v.shape.str() : "absent"; }

inline void gr_expect(const core::TensorView& v, const char* name, const core::Shape& want, const char* dims) {
  LLAMBA_ENSURE(gr_present(v) && v.shape == want, "[gated_recurrence] expected {} of shape {} = {}, got {}", name, dims,
                want.str(), gr_shape_str(v));
  LLAMBA_ENSURE(v.data != nullptr || v.numel() == 0, "[gated_recurrence] {} has no data", name);
}

// Validates `a` for `mode` and returns its sizes. `unit_inner` (cpu backend) also requires stride 1 on the
// innermost dimension of every view. `chunk` is only read (and checked) by kChunked.
inline GrDims gr_validate(const GatedRecurrenceArgs& a, RecurrenceMode mode, bool unit_inner) {
  GrDims d;
  LLAMBA_ENSURE(a.q.rank() == 4, "[gated_recurrence] expected q of shape (B, T, G, N), got {}", gr_shape_str(a.q));
  LLAMBA_ENSURE(a.v.rank() == 4, "[gated_recurrence] expected v of shape (B, T, H, P), got {}", gr_shape_str(a.v));
  d.B = a.q.size(0), d.T = a.q.size(1), d.G = a.q.size(2), d.N = a.q.size(3);
  d.H = a.v.size(2), d.P = a.v.size(3);
  LLAMBA_ENSURE(d.G >= 1 && d.H % d.G == 0, "[gated_recurrence] heads H = {} must be a multiple of groups G = {}", d.H,
                d.G);
  d.dtype = a.q.dtype;
  LLAMBA_ENSURE(d.dtype == core::DType::kF32 || d.dtype == core::DType::kF64,
                "[gated_recurrence] expected f32 or f64 views, got {}", core::dtype_name(d.dtype));
  gr_expect(a.q, "q", {d.B, d.T, d.G, d.N}, "(B, T, G, N)");
  gr_expect(a.k, "k", {d.B, d.T, d.G, d.N}, "(B, T, G, N)");
  gr_expect(a.v, "v", {d.B, d.T, d.H, d.P}, "(B, T, H, P)");
  gr_expect(a.y, "y", {d.B, d.T, d.H, d.P}, "(B, T, H, P)");
  d.vector_gate = a.log_decay.rank() == 4;
  if (d.vector_gate) {
    gr_expect(a.log_decay, "log_decay", {d.B, d.T, d.H, d.N}, "(B, T, H, N)");
  } else {
    gr_expect(a.log_decay, "log_decay", {d.B, d.T, d.H}, "(B, T, H)");
  }
  d.complex = gr_present(a.phase);
  if (d.complex) {
    gr_expect(a.phase, "phase", a.log_decay.shape, d.vector_gate ? "(B, T, H, N)" : "(B, T, H)");
  }
  const core::Shape st{d.B, d.H, d.P, d.N};
  d.has_state_in = gr_present(a.state_in);
  d.has_state_in_im = gr_present(a.state_in_im);
  d.has_state_out = gr_present(a.state_out);
  d.has_state_out_im = gr_present(a.state_out_im);
  if (d.has_state_in) gr_expect(a.state_in, "state_in", st, "(B, H, P, N)");
  if (d.has_state_out) gr_expect(a.state_out, "state_out", st, "(B, H, P, N)");
  if (d.has_state_in_im) gr_expect(a.state_in_im, "state_in_im", st, "(B, H, P, N)");
  if (d.has_state_out_im) gr_expect(a.state_out_im, "state_out_im", st, "(B, H, P, N)");
  LLAMBA_ENSURE(d.complex || (!d.has_state_in_im && !d.has_state_out_im),
                "[gated_recurrence] state_in_im / state_out_im need complex gates (a phase tensor)");
  LLAMBA_ENSURE(!d.has_state_in_im || d.has_state_in, "[gated_recurrence] state_in_im without state_in");
  LLAMBA_ENSURE(mode != RecurrenceMode::kChunked || a.chunk >= 1, "[gated_recurrence] chunk must be >= 1, got {}",
                a.chunk);
  const core::TensorView* all[] = {&a.q,     &a.k,        &a.v,           &a.y,         &a.log_decay,
                                   &a.phase, &a.state_in, &a.state_in_im, &a.state_out, &a.state_out_im};
  const char* names[] = {"q",     "k",        "v",           "y",         "log_decay",
                         "phase", "state_in", "state_in_im", "state_out", "state_out_im"};
  for (int i = 0; i < 10; ++i) {
    const core::TensorView& v = *all[i];
    if (!gr_present(v)) continue;
    LLAMBA_ENSURE(v.dtype == d.dtype, "[gated_recurrence] {} is {}, q is {}: all views must share one dtype", names[i],
                  core::dtype_name(v.dtype), core::dtype_name(d.dtype));
    LLAMBA_ENSURE(!unit_inner || v.size(-1) <= 1 || v.strides[v.rank() - 1] == 1,
                  "[gated_recurrence] {} needs a contiguous innermost dimension (stride {})\n"
                  "---> HINT: pass a view with stride 1 on the last dimension",
                  names[i], v.strides[v.rank() - 1]);
  }
  return d;
}

// The backward's inputs seen as forward arguments: y is dy and state_out is dstate_out (same shapes), so
// gr_validate checks them and GrDims::has_state_out(_im) says whether dstate_out(_im) is given.
inline GatedRecurrenceArgs gr_backward_as_forward(const GatedRecurrenceBackwardArgs& a) {
  GatedRecurrenceArgs f;
  f.q = a.q, f.k = a.k, f.v = a.v, f.log_decay = a.log_decay, f.phase = a.phase;
  f.state_in = a.state_in, f.state_in_im = a.state_in_im;
  f.y = a.dy, f.state_out = a.dstate_out, f.state_out_im = a.dstate_out_im;
  f.scale = a.scale, f.chunk = a.chunk;
  return f;
}

// A gradient output is wanted when it has data (the accumulation convention of the header).
inline bool gr_wanted(const core::TensorView& v) { return v.data != nullptr; }

// Validates the backward's arguments for `mode` and returns the sizes (see gr_validate).
inline GrDims gr_validate_backward(const GatedRecurrenceBackwardArgs& a, RecurrenceMode mode, bool unit_inner) {
  LLAMBA_ENSURE(mode == RecurrenceMode::kRecurrent || mode == RecurrenceMode::kChunked,
                "[gated_recurrence] backward implements kRecurrent and kChunked, got {}\n"
                "---> HINT: every mode computes the same function; use kChunked for training",
                recurrence_mode_name(mode));
  if (a.q.rank() == 4 && a.v.rank() == 4) {  // name dy / dstate_out in messages before gr_validate sees them
    const int64_t B = a.q.size(0), T = a.q.size(1), H = a.v.size(2), P = a.v.size(3), N = a.q.size(3);
    gr_expect(a.dy, "dy", {B, T, H, P}, "(B, T, H, P)");
    if (gr_present(a.dstate_out)) gr_expect(a.dstate_out, "dstate_out", {B, H, P, N}, "(B, H, P, N)");
    if (gr_present(a.dstate_out_im)) gr_expect(a.dstate_out_im, "dstate_out_im", {B, H, P, N}, "(B, H, P, N)");
  }
  LLAMBA_ENSURE(!gr_present(a.dstate_out_im) || gr_present(a.phase),
                "[gated_recurrence] dstate_out_im needs complex gates (a phase tensor)");
  const GrDims d = gr_validate(gr_backward_as_forward(a), mode, unit_inner);
  const core::Shape sqk{d.B, d.T, d.G, d.N}, sv{d.B, d.T, d.H, d.P}, ss{d.B, d.H, d.P, d.N};
  const core::Shape sg = a.log_decay.shape;
  struct Out {
    const core::TensorView* v;
    const char* name;
    const core::Shape* shape;
    const char* dims;
  };
  const Out outs[] = {{&a.dq, "dq", &sqk, "(B, T, G, N)"},
                      {&a.dk, "dk", &sqk, "(B, T, G, N)"},
                      {&a.dv, "dv", &sv, "(B, T, H, P)"},
                      {&a.dlog_decay, "dlog_decay", &sg, "the shape of log_decay"},
                      {&a.dphase, "dphase", &sg, "the shape of log_decay"},
                      {&a.dstate_in, "dstate_in", &ss, "(B, H, P, N)"},
                      {&a.dstate_in_im, "dstate_in_im", &ss, "(B, H, P, N)"}};
  for (const Out& o : outs) {
    if (!gr_wanted(*o.v)) continue;
    gr_expect(*o.v, o.name, *o.shape, o.dims);
    LLAMBA_ENSURE(o.v->dtype == d.dtype, "[gated_recurrence] {} is {}, q is {}: all views must share one dtype", o.name,
                  core::dtype_name(o.v->dtype), core::dtype_name(d.dtype));
    LLAMBA_ENSURE(!unit_inner || o.v->size(-1) <= 1 || o.v->strides[o.v->rank() - 1] == 1,
                  "[gated_recurrence] {} needs a contiguous innermost dimension (stride {})\n"
                  "---> HINT: pass a view with stride 1 on the last dimension",
                  o.name, o.v->strides[o.v->rank() - 1]);
  }
  LLAMBA_ENSURE(d.complex || (!gr_wanted(a.dphase) && !gr_wanted(a.dstate_in_im)),
                "[gated_recurrence] dphase / dstate_in_im need complex gates (a phase tensor)");
  return d;
}

// A (B, ...) view seen as (B, 1, ...): the decode step as a forward of length 1.
inline core::TensorView gr_insert_time(const core::TensorView& v) {
  if (!gr_present(v)) return v;
  core::TensorView r = v;
  std::vector<int64_t> dims = v.shape.vec();
  dims.insert(dims.begin() + 1, 1);
  r.shape = core::Shape::from(dims);
  for (int i = v.rank(); i >= 2; --i) r.strides[i] = v.strides[i - 1];
  r.strides[1] = 0;
  return r;
}

inline GatedRecurrenceArgs gr_step_as_forward(const GatedRecurrenceStepArgs& s) {
  LLAMBA_ENSURE(s.q.rank() == 3 && s.k.rank() == 3 && s.v.rank() == 3 && s.y.rank() == 3,
                "[gated_recurrence] step expects q, k (B, G, N) and v, y (B, H, P), got {}, {}, {}, {}",
                gr_shape_str(s.q), gr_shape_str(s.k), gr_shape_str(s.v), gr_shape_str(s.y));
  LLAMBA_ENSURE(s.log_decay.rank() == 2 || s.log_decay.rank() == 3,
                "[gated_recurrence] step expects log_decay (B, H) or (B, H, N), got {}", gr_shape_str(s.log_decay));
  LLAMBA_ENSURE(!gr_present(s.phase) || s.phase.rank() == s.log_decay.rank(),
                "[gated_recurrence] step expects phase of the shape of log_decay, got {}", gr_shape_str(s.phase));
  LLAMBA_ENSURE(gr_present(s.state), "[gated_recurrence] step needs a state (B, H, P, N)");
  LLAMBA_ENSURE(!gr_present(s.phase) || gr_present(s.state_im),
                "[gated_recurrence] step with complex gates needs state_im");
  GatedRecurrenceArgs a;
  a.q = gr_insert_time(s.q);
  a.k = gr_insert_time(s.k);
  a.v = gr_insert_time(s.v);
  a.log_decay = gr_insert_time(s.log_decay);
  a.phase = gr_insert_time(s.phase);
  a.y = gr_insert_time(s.y);
  a.state_in = a.state_out = s.state;
  a.state_in_im = a.state_out_im = s.state_im;
  a.scale = s.scale;
  a.chunk = 1;
  return a;
}

}  // namespace llamba::ops::detail
