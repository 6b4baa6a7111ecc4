// Benchmark of gated_recurrence_forward: every cpu mode versus T (64 … 16,384) on a Llamba-like head
// configuration (scalar real gates) and a GateLoop-like one (complex per-channel gates), plus the fp64 ref
// Hillis–Steele scan to show its O(T log T). Counters: achieved FLOP/s (each mode's own arithmetic count) and
// bytes/s (inputs read and outputs written once). Plot: tools/bench/plot_gated_recurrence.py.
// Also gated_recurrence_backward (cpu kRecurrent and kChunked, every gradient requested) at a few T, named
// `backward_<mode>` (the plot script ignores them; docs/benchmarks.md tabulates them by hand).
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "ops/context.h"
#include "ops/gated_recurrence.h"

namespace {

using llamba::core::DType;
using llamba::core::Shape;
using llamba::core::Tensor;
using llamba::ops::RecurrenceMode;

struct Cfg {
  const char* name;
  int64_t B, H, G, N, P;
  bool vec, cplx;
};
// 4 of Llamba-1B's 32 heads (H = G, N = P = 64), and a GateLoop layer with complex per-channel gates.
constexpr Cfg kLlamba{"llamba", 1, 4, 4, 64, 64, false, false};
constexpr Cfg kGateLoop{"gateloop", 1, 4, 4, 32, 32, true, true};
constexpr Cfg kSmall{"small", 1, 1, 1, 16, 16, false, false};  // for the fp64 Hillis–Steele ref scan

struct Problem {
  Tensor q, k, v, g, th, y, s_out, s_out_im;
  llamba::ops::GatedRecurrenceArgs args;

  Problem(const Cfg& c, int64_t T, DType dt) {
    llamba::core::Rng rng(1);
    auto fill = [&](const Shape& s, double scale, double mean) {
      Tensor t = Tensor::zeros(dt, s);
      for (int64_t i = 0; i < t.numel(); ++i) {
        const double x = mean + scale * rng.normal();
        if (dt == DType::kF64) {
          t.f64()[i] = x;
        } else {
          t.f32()[i] = (float)x;
        }
      }
      return t;
    };
    const Shape sg = c.vec ? Shape{c.B, T, c.H, c.N} : Shape{c.B, T, c.H};
    q = fill({c.B, T, c.G, c.N}, 1.0 / std::sqrt((double)c.N), 0.0);
    k = fill({c.B, T, c.G, c.N}, 1.0, 0.0);
    v = fill({c.B, T, c.H, c.P}, 1.0, 0.0);
    g = fill(sg, 0.1, -0.5);
    y = Tensor::zeros(dt, {c.B, T, c.H, c.P});
    s_out = Tensor::zeros(dt, {c.B, c.H, c.P, c.N});
    args.q = q, args.k = k, args.v = v, args.log_decay = g, args.y = y, args.state_out = s_out;
    if (c.cplx) {
      th = fill(sg, 1.0, 0.0);
      s_out_im = Tensor::zeros(dt, {c.B, c.H, c.P, c.N});
      args.phase = th, args.state_out_im = s_out_im;
    }
  }
};

// Arithmetic of each mode (real flops, a complex multiply-add counted as 8), for the whole call.
double mode_flops(const Cfg& c, RecurrenceMode m, int64_t T, int64_t chunk, bool ref_scan) {
  const double bh = (double)(c.B * c.H), PN = (double)(c.P * c.N), t = (double)T;
  const double step = c.cplx ? 10.0 : 5.0;  // state update + readout per (p, n)
  const double K2 = c.cplx ? 2.0 * c.N : (double)c.N;
  switch (m) {
    case RecurrenceMode::kRecurrent: return bh * t * PN * step;
    case RecurrenceMode::kScan:
      if (ref_scan) return bh * (t * std::ceil(std::log2(t + 1)) * PN * 8.0 + t * PN * 2.0);
      return bh * t * PN * (2.0 * step - 2.0);  // fold without readout + re-run with readout
    case RecurrenceMode::kQuadratic: return bh * (t * t * (K2 + c.P) + 2.0 * t * K2 * c.P);
    case RecurrenceMode::kChunked: {
      const double C = (double)std::min<int64_t>(chunk, T);
      return bh * (t * C * (K2 + c.P) + 4.0 * t * K2 * c.P);
    }
  }
  return 0;
}

double io_bytes(const Cfg& c, int64_t T, DType dt) {
  const double ng = c.vec ? (double)c.N : 1.0, elem = dt == DType::kF64 ? 8.0 : 4.0;
  const double per_t = 2.0 * c.G * c.N + 2.0 * c.H * c.P + c.H * ng * (c.cplx ? 2.0 : 1.0);
  return elem * (c.B * T * per_t + c.B * c.H * c.P * c.N * (c.cplx ? 2.0 : 1.0));
}

void run_bench(benchmark::State& st, Cfg c, RecurrenceMode m, int64_t T, bool ref) {
  const DType dt = ref ? DType::kF64 : DType::kF32;
  Problem p(c, T, dt);
  p.args.chunk = 64;
  llamba::ops::Context ctx(2);
  for (auto _ : st) {
    if (ref) {
      llamba::ops::ref::gated_recurrence_forward(p.args, m);
    } else {
      llamba::ops::gated_recurrence_forward(ctx, p.args, m);
    }
    benchmark::ClobberMemory();
  }
  st.counters["T"] = (double)T;
  st.counters["FLOP/s"] = benchmark::Counter(mode_flops(c, m, T, p.args.chunk, ref),
                                             benchmark::Counter::kIsIterationInvariantRate);
  st.counters["bytes/s"] = benchmark::Counter(io_bytes(c, T, dt), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["tokens/s"] = benchmark::Counter((double)(c.B * T), benchmark::Counter::kIsIterationInvariantRate);
}

// The backward's tensors on top of a forward problem: dy, dstate_out and every gradient output.
struct BwdProblem {
  Problem f;
  Tensor dy, dso, dq, dk, dv, dg, dth, dsi, dsii;
  llamba::ops::GatedRecurrenceBackwardArgs args;

  BwdProblem(const Cfg& c, int64_t T) : f(c, T, DType::kF32) {
    const DType dt = DType::kF32;
    dy = Tensor::copy_of(f.v), dso = Tensor::copy_of(f.s_out);  // any values: the cost does not depend on them
    dq = Tensor::zeros(dt, f.q.shape()), dk = Tensor::zeros(dt, f.k.shape()), dv = Tensor::zeros(dt, f.v.shape());
    dg = Tensor::zeros(dt, f.g.shape()), dsi = Tensor::zeros(dt, f.s_out.shape());
    args.q = f.q, args.k = f.k, args.v = f.v, args.log_decay = f.g, args.dy = dy, args.dstate_out = dso;
    args.dq = dq, args.dk = dk, args.dv = dv, args.dlog_decay = dg, args.dstate_in = dsi;
    if (c.cplx) {
      dth = Tensor::zeros(dt, f.g.shape()), dsii = Tensor::zeros(dt, f.s_out.shape());
      args.phase = f.th, args.dphase = dth, args.dstate_in_im = dsii;
    }
  }
};

// Outputs accumulate across iterations (the op adds into them; their values do not change the cost).
void run_backward_bench(benchmark::State& st, Cfg c, RecurrenceMode m, int64_t T) {
  BwdProblem p(c, T);
  p.args.chunk = 64;
  llamba::ops::Context ctx(2);
  for (auto _ : st) {
    llamba::ops::gated_recurrence_backward(ctx, p.args, m);
    benchmark::ClobberMemory();
  }
  st.counters["T"] = (double)T;
  st.counters["tokens/s"] = benchmark::Counter((double)(c.B * T), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> Ts;
  for (int64_t T = 64; T <= 16384; T *= 2) Ts.push_back(T);
  for (const Cfg* c : {&kLlamba, &kGateLoop}) {
    for (RecurrenceMode m : {RecurrenceMode::kRecurrent, RecurrenceMode::kScan, RecurrenceMode::kChunked,
                             RecurrenceMode::kQuadratic}) {
      for (int64_t T : Ts) {
        const std::string name = std::string("gated_recurrence/") + c->name + "/cpu_f32/" +
                                 llamba::ops::recurrence_mode_name(m) + "/T:" + std::to_string(T);
        benchmark::RegisterBenchmark(name.c_str(), run_bench, *c, m, T, false)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->MinTime(0.2);
      }
    }
  }
  for (RecurrenceMode m : {RecurrenceMode::kRecurrent, RecurrenceMode::kScan}) {
    for (int64_t T : Ts) {
      const std::string name = std::string("gated_recurrence/small/ref_f64/") + llamba::ops::recurrence_mode_name(m) +
                               "/T:" + std::to_string(T);
      benchmark::RegisterBenchmark(name.c_str(), run_bench, kSmall, m, T, true)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinTime(0.2);
    }
  }
  for (const Cfg* c : {&kLlamba, &kGateLoop}) {
    for (RecurrenceMode m : {RecurrenceMode::kRecurrent, RecurrenceMode::kChunked}) {
      for (int64_t T : {512, 4096}) {
        const std::string name = std::string("gated_recurrence/") + c->name + "/cpu_f32/backward_" +
                                 llamba::ops::recurrence_mode_name(m) + "/T:" + std::to_string(T);
        benchmark::RegisterBenchmark(name.c_str(), run_backward_bench, *c, m, T)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->MinTime(0.2);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
