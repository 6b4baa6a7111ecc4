// The gated recurrence on the GPU, host entry: the decode step and the forward for real gates (Mamba-2, Llamba;
// scalar or per-channel gates, any groups), validated as the CPU op validates them; then the kernel
// (ops/cuda/gated_recurrence.cu). The forward runs the recurrent loop whatever mode is asked for (every mode
// computes the same function; a chunked tensor-core kernel is still to come). Complex gates (GateLoop), f64 and
// the backward are not here.
#include "ops/gated_recurrence.h"

#include <initializer_list>

#include "ops/cuda/cuda.h"
#include "ops/cuda/entry.h"
#include "ops/cuda/kernels.h"
#include "ops/gated_recurrence_impl.h"

namespace llamba::ops::cuda {

namespace {

// What both entries check: real gates, f32, device views, per-channel gates within the kernel's shared memory.
void require_supported(const char* op, const detail::GrDims& d, std::initializer_list<const core::TensorView*> views) {
  LLAMBA_ENSURE(!d.complex, "[{}] no CUDA kernel for complex gates (a phase tensor) yet", op);
  LLAMBA_ENSURE(d.dtype == core::DType::kF32, "[{}] the CUDA kernel takes f32 views, got {}", op,
                core::dtype_name(d.dtype));
  require_device(op, views);
  LLAMBA_ENSURE(!d.vector_gate || d.N <= 12288, "[{}] N = {} per-channel gates exceed the kernel's shared memory", op,
                d.N);
}

// The kernel's inputs from views (batch, [time,] head or group, ...): `t` is the time dimension's index, or -1 for
// a single step; the head (group) dimension follows the batch and time ones.
kernels::RecurrenceStep kernel_args(const core::TensorView& q, const core::TensorView& k, const core::TensorView& v,
                                    const core::TensorView& g, const core::TensorView& y, int t,
                                    const detail::GrDims& d, double scale) {
  const int hd = t < 0 ? 1 : 2;
  const auto ts = [&](const core::TensorView& x) { return t < 0 ? int64_t{0} : x.strides[t]; };
  kernels::RecurrenceStep a{};
  a.q = static_cast<const float*>(q.data), a.k = static_cast<const float*>(k.data);
  a.v = static_cast<const float*>(v.data), a.log_decay = static_cast<const float*>(g.data);
  a.y = static_cast<float*>(y.data);
  a.q_b = q.strides[0], a.q_t = ts(q), a.q_g = q.strides[hd];
  a.k_b = k.strides[0], a.k_t = ts(k), a.k_g = k.strides[hd];
  a.v_b = v.strides[0], a.v_t = ts(v), a.v_h = v.strides[hd];
  a.y_b = y.strides[0], a.y_t = ts(y), a.y_h = y.strides[hd];
  a.g_b = g.strides[0], a.g_t = ts(g), a.g_h = g.strides[hd];
  a.B = d.B, a.T = t < 0 ? 1 : d.T, a.H = d.H, a.G = d.G, a.N = d.N, a.P = d.P;
  a.vector_gate = d.vector_gate;
  a.scale = (float)scale;
  return a;
}

}  // namespace

void gated_recurrence_step(Backend& be, const GatedRecurrenceStepArgs& args) {
  constexpr const char* op = "gated_recurrence_step";
  const detail::GrDims d =
      detail::gr_validate(detail::gr_step_as_forward(args), RecurrenceMode::kRecurrent, /*unit_inner=*/true);
  require_supported(op, d, {&args.q, &args.k, &args.v, &args.log_decay, &args.y, &args.state});
  if (d.B == 0 || d.H == 0 || d.P == 0) return;
  kernels::RecurrenceStep a = kernel_args(args.q, args.k, args.v, args.log_decay, args.y, -1, d, args.scale);
  a.state = static_cast<float*>(args.state.data);
  a.s_b = args.state.strides[0], a.s_h = args.state.strides[1], a.s_p = args.state.strides[2];
  be.make_current();
  launched(op, kernels::gated_recurrence_step(be.stream(), a));
}

void gated_recurrence_forward(Backend& be, const GatedRecurrenceArgs& args, RecurrenceMode mode) {
  constexpr const char* op = "gated_recurrence_forward";
  const detail::GrDims d = detail::gr_validate(args, mode, /*unit_inner=*/true);
  require_supported(op, d, {&args.q, &args.k, &args.v, &args.log_decay, &args.y, &args.state_in, &args.state_out});
  for (const core::TensorView* s : {&args.state_in, &args.state_out})
    LLAMBA_ENSURE(!s->data || s->is_contiguous(), "[{}] the CUDA forward needs contiguous states, got {}", op,
                  s->shape.str());
  if (d.B == 0 || d.H == 0) return;
  // The loop runs in place on state_out (or on workspace when the final state is not wanted), starting from a
  // copy of state_in (or zeros); aliasing state_in and state_out makes the copy a no-op.
  const size_t state_bytes = (size_t)(d.B * d.H * d.P * d.N) * sizeof(float);
  be.make_current();
  float* state = args.state_out.data ? static_cast<float*>(args.state_out.data)
                                     : static_cast<float*>(be.workspace(state_bytes));
  if (args.state_in.data) copy_async(be, state, args.state_in.data, state_bytes);
  else zero_async(be, state, state_bytes);
  if (d.T == 0 || d.P == 0) return;
  kernels::RecurrenceStep a = kernel_args(args.q, args.k, args.v, args.log_decay, args.y, 1, d, args.scale);
  a.state = state;
  a.s_p = d.N, a.s_h = d.P * d.N, a.s_b = d.H * d.P * d.N;
  launched(op, kernels::gated_recurrence_step(be.stream(), a));
}

}  // namespace llamba::ops::cuda
