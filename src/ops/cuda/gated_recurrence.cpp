// The gated recurrence on the GPU, host entry: the decode step and the forward for real gates (Mamba-2, Llamba;
// scalar or per-channel gates, any groups), validated as the CPU op validates them; then the kernel
// (ops/cuda/gated_recurrence.cu). The forward runs the recurrent loop whatever mode is asked for (every mode
// computes the same function; a chunked tensor-core kernel is still to come). Complex gates (GateLoop), f64 and
// the backward are not here.
#include "ops/gated_recurrence.h"

#include "ops/cuda/cuda.h"
#include "ops/cuda/entry.h"
#include "ops/cuda/kernels.h"
#include "ops/gated_recurrence_impl.h"

namespace llamba::ops::cuda {

void gated_recurrence_step(Backend& be, const GatedRecurrenceStepArgs& args) {
  constexpr const char* op = "gated_recurrence_step";
  const detail::GrDims d =
      detail::gr_validate(detail::gr_step_as_forward(args), RecurrenceMode::kRecurrent, /*unit_inner=*/true);
  LLAMBA_ENSURE(!d.complex, "[{}] no CUDA kernel for complex gates (a phase tensor) yet", op);
  LLAMBA_ENSURE(d.dtype == core::DType::kF32, "[{}] the CUDA step takes f32 views, got {}", op,
                core::dtype_name(d.dtype));
  require_device(op, {&args.q, &args.k, &args.v, &args.log_decay, &args.y, &args.state});
  LLAMBA_ENSURE(!d.vector_gate || d.N <= 12288, "[{}] N = {} per-channel gates exceed the kernel's shared memory", op,
                d.N);
  if (d.B == 0 || d.H == 0 || d.P == 0) return;
  kernels::RecurrenceStep a{};
  a.q = static_cast<const float*>(args.q.data);
  a.k = static_cast<const float*>(args.k.data);
  a.v = static_cast<const float*>(args.v.data);
  a.log_decay = static_cast<const float*>(args.log_decay.data);
  a.y = static_cast<float*>(args.y.data);
  a.state = static_cast<float*>(args.state.data);
  a.q_b = args.q.strides[0], a.q_g = args.q.strides[1];
  a.k_b = args.k.strides[0], a.k_g = args.k.strides[1];
  a.v_b = args.v.strides[0], a.v_h = args.v.strides[1];
  a.y_b = args.y.strides[0], a.y_h = args.y.strides[1];
  a.g_b = args.log_decay.strides[0], a.g_h = args.log_decay.strides[1];
  a.s_b = args.state.strides[0], a.s_h = args.state.strides[1], a.s_p = args.state.strides[2];
  a.B = d.B, a.T = 1, a.H = d.H, a.G = d.G, a.N = d.N, a.P = d.P;
  a.vector_gate = d.vector_gate;
  a.scale = (float)args.scale;
  be.make_current();
  launched(op, kernels::gated_recurrence_step(be.stream(), a));
}

void gated_recurrence_forward(Backend& be, const GatedRecurrenceArgs& args, RecurrenceMode mode) {
  constexpr const char* op = "gated_recurrence_forward";
  const detail::GrDims d = detail::gr_validate(args, mode, /*unit_inner=*/true);
  LLAMBA_ENSURE(!d.complex, "[{}] no CUDA kernel for complex gates (a phase tensor) yet", op);
  LLAMBA_ENSURE(d.dtype == core::DType::kF32, "[{}] the CUDA forward takes f32 views, got {}", op,
                core::dtype_name(d.dtype));
  require_device(op, {&args.q, &args.k, &args.v, &args.log_decay, &args.y, &args.state_in, &args.state_out});
  LLAMBA_ENSURE(!d.vector_gate || d.N <= 12288, "[{}] N = {} per-channel gates exceed the kernel's shared memory", op,
                d.N);
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
  kernels::RecurrenceStep a{};
  a.q = static_cast<const float*>(args.q.data);
  a.k = static_cast<const float*>(args.k.data);
  a.v = static_cast<const float*>(args.v.data);
  a.log_decay = static_cast<const float*>(args.log_decay.data);
  a.y = static_cast<float*>(args.y.data);
  a.state = state;
  a.q_b = args.q.strides[0], a.q_t = args.q.strides[1], a.q_g = args.q.strides[2];
  a.k_b = args.k.strides[0], a.k_t = args.k.strides[1], a.k_g = args.k.strides[2];
  a.v_b = args.v.strides[0], a.v_t = args.v.strides[1], a.v_h = args.v.strides[2];
  a.y_b = args.y.strides[0], a.y_t = args.y.strides[1], a.y_h = args.y.strides[2];
  a.g_b = args.log_decay.strides[0], a.g_t = args.log_decay.strides[1], a.g_h = args.log_decay.strides[2];
  a.s_p = d.N, a.s_h = d.P * d.N, a.s_b = d.H * d.P * d.N;
  a.B = d.B, a.T = d.T, a.H = d.H, a.G = d.G, a.N = d.N, a.P = d.P;
  a.vector_gate = d.vector_gate;
  a.scale = (float)args.scale;
  launched(op, kernels::gated_recurrence_step(be.stream(), a));
}

}  // namespace llamba::ops::cuda
