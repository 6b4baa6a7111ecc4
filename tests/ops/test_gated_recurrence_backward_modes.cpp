// gated_recurrence backward, cpu against the fp64 oracle: the chunked and recurrent cpu backward in fp64 against
// ref (recurrent) at 1e-12 (docs/recurrence.md §"Tests" 8, second half), and in fp32 at kTolF32Grad; over gate kinds,
// chunk sizes (1, primes, not dividing T, larger than T), decay regimes, shapes, long sequences, a = 0 resets,
// clamped gates; plus the accumulation convention, optional outputs, T = 0 and argument errors, on every backend.
// GR_VERBOSE=1 prints every error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include "ops/gated_recurrence_grad_testing.h"

namespace llamba::test::gr {
namespace {

// fp64: the forward's mode-equivalence bound kTolF64 = 1e-12 (observed <= 3e-14 here, <= 7e-15 at N = P = 64).
// fp32, relative to max|ref| of each gradient: the backward is the forward's recurrence run in reverse time with
// the same decays (the state's gradient obeys G_{t−1} = conj(a_t) G_t + scale·dy_tᵀ q_t) plus the forward's
// own terms, so its rounding has the forward's budget, ~eps32·(N + P) per step times the decay horizon
// (docs/recurrence.md §"Tests" 2: 1e-7 … 7e-6 for the forward; the forward tests use 1e-5). The gate gradients add
// the chunk-local reverse cumsum of at most `chunk` terms (fp64 sums of fp32 terms): the cpu kernel keeps out
// of those terms the self pairs (l, l) that would otherwise cancel to a result |a| times smaller (strong
// decays: 1e-5 observed before, 6e-7 after). Observed worst 1.9e-6 here (weak decays, T = 2048, phases ~6000
// rad) and 2.6e-6 at N = P = 64, T = 512, chunk 256: 1e-5 keeps a ~4× margin.
constexpr double kTolF32Grad = 1e-5;

struct GateCase {
  bool vec, cplx;
};
constexpr GateCase kGates[] = {{false, false}, {true, false}, {false, true}, {true, true}};

// Worst errors over the whole file, printed at the end so the margins show in the test log.
struct Worst : ::testing::Environment {
  double f64 = 0, f32 = 0;
  void TearDown() override {
    std::printf("  worst cpu-vs-ref: fp64 %.2e (bound %.0e), fp32 %.2e (bound %.0e)\n", f64, kTolF64, f32, kTolF32Grad);
  }
};
Worst& worst = *static_cast<Worst*>(::testing::AddGlobalTestEnvironment(new Worst));

// Every selected cpu (mode, chunk, dtype) backward against the ref backward.
void check_cpu(const Data& d, const Cotangent& ct, const std::vector<int64_t>& chunks, ops::Context& ctx,
               bool f64 = true, bool f32 = true, double scale = 1.0) {
  const Grads ref = run_backward(d, ct, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent, 64, scale});
  if (verbose()) std::printf("%s\n", describe(d.c).c_str());
  for (DType dt : {DType::kF64, DType::kF32}) {
    if ((dt == DType::kF64 && !f64) || (dt == DType::kF32 && !f32)) continue;
    for (RecurrenceMode m : {RecurrenceMode::kRecurrent, RecurrenceMode::kChunked}) {
      for (int64_t C : m == RecurrenceMode::kChunked ? chunks : std::vector<int64_t>{64}) {
        const RunOpts o{Backend::kCpu, dt, m, C, scale, &ctx};
        const GradErr e = grad_error(run_backward(d, ct, o), ref);
        const double tol = dt == DType::kF64 ? kTolF64 : kTolF32Grad;
        double& w = dt == DType::kF64 ? worst.f64 : worst.f32;
        w = std::max(w, e.worst());
        if (verbose()) std::printf("  %-28s %s\n", describe(o).c_str(), e.str().c_str());
        EXPECT_LE(e.worst(), tol) << describe(o) << " on " << describe(d.c) << ": " << e.str();
      }
    }
  }
}

TEST(GatedRecurrenceBackwardCpu, AllGateKindsAndChunks) {
  ops::Context ctx(3);
  for (const GateCase& gc : kGates) {
    Config c;
    c.B = 2, c.T = 75, c.H = 4, c.G = 2, c.N = 8, c.P = 5, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 11;
    // chunk 1, a prime, a sub-block multiple, the default, T itself, and larger than T
    check_cpu(make_data(c), make_cotangent(c, true, 2), {1, 7, 16, 64, 75, 100}, ctx, true, true, 0.35);
  }
}

// Strong decays (|a| ≈ 0.02), weak decays (|a| ≈ 0.998) and large accumulated phases (Θ_T ≈ 3T).
TEST(GatedRecurrenceBackwardCpu, DecayRegimes) {
  ops::Context ctx(2);
  struct Regime {
    const char* name;
    double gate_mu, gate_sigma, theta_mu, theta_sigma;
  };
  const Regime regimes[] = {
      {"strong", -4.0, 1.0, 0.0, 1.0}, {"weak", 6.0, 0.5, 0.0, 0.3}, {"large-phase", 5.0, 0.1, 3.0, 0.1}};
  for (const Regime& r : regimes) {
    for (const GateCase& gc : kGates) {
      SCOPED_TRACE(r.name);
      Config c;
      c.T = 300, c.H = 2, c.N = 6, c.P = 4, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 5;
      c.gate_mu = r.gate_mu, c.gate_sigma = r.gate_sigma, c.theta_mu = r.theta_mu, c.theta_sigma = r.theta_sigma;
      check_cpu(make_data(c), make_cotangent(c, true, 3), {7, 64, 300}, ctx);
    }
  }
}

// Shapes (docs/recurrence.md §"Tests" 9): grouped heads, P != N, P = 96, N = 64, batch > 1, T = 1, sizes 1; no initial
// state and no gradient into the final state.
TEST(GatedRecurrenceBackwardCpu, Shapes) {
  ops::Context ctx(2);
  struct S {
    int64_t B, T, H, G, N, P;
  };
  const S shapes[] = {
      {2, 33, 4, 2, 5, 3}, {1, 17, 3, 1, 4, 96}, {3, 1, 2, 2, 3, 7}, {1, 2, 1, 1, 1, 1}, {2, 19, 6, 3, 64, 2}};
  for (const S& s : shapes) {
    for (const GateCase& gc : kGates) {
      for (bool carried : {true, false}) {
        Config c;
        c.B = s.B, c.T = s.T, c.H = s.H, c.G = s.G, c.N = s.N, c.P = s.P, c.state_in = carried;
        c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 3;
        check_cpu(make_data(c), make_cotangent(c, carried, 4), {1, 7, 64}, ctx);
      }
    }
  }
}

// Long sequences in fp32 with weak decays and phases reaching ~3T rad: the gate gradients must not lose
// precision with T (the reverse cumsum is chunk-local; a global one would lose ~eps32·T).
TEST(GatedRecurrenceBackwardCpu, LongSequenceFp32) {
  ops::Context ctx(2);
  for (const GateCase& gc : kGates) {
    Config c;
    c.T = 2048, c.H = 1, c.N = 8, c.P = 4, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 9;
    c.gate_mu = 5.0, c.gate_sigma = 0.1, c.theta_mu = 3.0, c.theta_sigma = 0.1;
    check_cpu(make_data(c), make_cotangent(c, true, 5), {64, 100}, ctx, false, true);
  }
}

// a = 0 resets and clamped gates: exact zeros where they belong, no NaN, and the rest matches.
TEST(GatedRecurrenceBackwardCpu, ResetsAndClamp) {
  ops::Context ctx(2);
  for (const GateCase& gc : kGates) {
    Config c;
    c.B = 2, c.T = 70, c.H = 2, c.N = 6, c.P = 3, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 17;
    Data d = make_data(c);
    for (int64_t i = 0; i < (int64_t)d.g.size(); ++i) {
      if (i % 13 == 4) d.g[i] = -INFINITY;
      if (i % 17 == 6) d.g[i] = 0.5;
    }
    const Cotangent ct = make_cotangent(c, true, 6);
    check_cpu(d, ct, {1, 5, 16, 64}, ctx);
    for (DType dt : {DType::kF64, DType::kF32}) {
      for (RecurrenceMode m : {RecurrenceMode::kRecurrent, RecurrenceMode::kChunked}) {
        const Grads a = run_backward(d, ct, {Backend::kCpu, dt, m, 16, 1.0, &ctx});
        for (size_t i = 0; i < d.g.size(); ++i) {
          if (std::isinf(d.g[i]) || d.g[i] > 0) {
            EXPECT_EQ(a.g[i], 0.0) << describe(c) << " gate " << i;
          }
          if (std::isinf(d.g[i]) && c.complex) {
            EXPECT_EQ(a.th[i], 0.0) << describe(c) << " gate " << i;
          }
        }
      }
    }
  }
}

struct Path {
  Backend be;
  DType dt;
  RecurrenceMode mode;
};
constexpr Path kPaths[] = {{Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent},
                           {Backend::kCpu, DType::kF64, RecurrenceMode::kRecurrent},
                           {Backend::kCpu, DType::kF64, RecurrenceMode::kChunked},
                           {Backend::kCpu, DType::kF32, RecurrenceMode::kChunked}};

Config api_config(const GateCase& gc) {
  Config c;
  c.B = 2, c.T = 21, c.H = 4, c.G = 2, c.N = 5, c.P = 3, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 31;
  return c;
}

// Outputs are accumulated: prefilled outputs end as prefill + gradient (to rounding of that one sum).
TEST(GatedRecurrenceBackwardApi, AccumulatesIntoOutputs) {
  ops::Context ctx(2);
  for (const GateCase& gc : kGates) {
    const Config c = api_config(gc);
    const Data d = make_data(c);
    const Cotangent ct = make_cotangent(c, true, 7);
    for (const Path& pa : kPaths) {
      const RunOpts o{pa.be, pa.dt, pa.mode, 8, 1.0, &ctx};
      const Grads g = run_backward(d, ct, o);
      BwdCall call(d, ct, pa.dt, 1.0, 8);
      core::Rng rng(5);
      std::vector<std::vector<double>> pre;
      for (Tensor* t : {&call.dq, &call.dk, &call.dv, &call.dg, &call.dth, &call.dsi, &call.dsii}) {
        pre.push_back(randn64(rng, t->numel()));
        *t = to_tensor(pre.back(), t->shape(), pa.dt);
      }
      call.args.dq = call.dq, call.args.dk = call.dk, call.args.dv = call.dv, call.args.dlog_decay = call.dg;
      call.args.dstate_in = call.dsi;
      if (c.complex) call.args.dphase = call.dth, call.args.dstate_in_im = call.dsii;
      call.run(o);
      const Grads r = call.grads(c.complex);
      const std::vector<double>* got[] = {&r.q, &r.k, &r.v, &r.g, &r.th, &r.s_re, &r.s_im};
      const std::vector<double>* want[] = {&g.q, &g.k, &g.v, &g.g, &g.th, &g.s_re, &g.s_im};
      const double eps = pa.dt == DType::kF64 ? 2.3e-16 : 1.2e-7;
      for (int i = 0; i < 7; ++i) {
        double scale = 0;
        for (double x : *want[i]) scale = std::max(scale, std::fabs(x));
        for (size_t j = 0; j < got[i]->size(); ++j) {
          const double p = pre[i][j], x = (*want[i])[j];
          // A few roundings of the order of |p| + max|x| (grouped dq/dk add one head at a time).
          ASSERT_NEAR((*got[i])[j], p + x, 8 * eps * (std::fabs(p) + scale))
              << describe(o) << " output " << i << " element " << j;
        }
      }
    }
  }
}

// Outputs are optional: any subset gives the same values as the full set, bit for bit.
TEST(GatedRecurrenceBackwardApi, OptionalOutputs) {
  ops::Context ctx(2);
  for (const GateCase& gc : kGates) {
    const Config c = api_config(gc);
    const Data d = make_data(c);
    const Cotangent ct = make_cotangent(c, true, 8);
    for (const Path& pa : kPaths) {
      const RunOpts o{pa.be, pa.dt, pa.mode, 8, 1.0, &ctx};
      const Grads full = run_backward(d, ct, o);
      for (int mask = 0; mask < 4; ++mask) {  // {dv, dlog_decay}, {dq, dstate_in}, {dk, dphase}, none
        BwdCall call(d, ct, pa.dt, 1.0, 8);
        auto& a = call.args;
        if (mask != 1) a.dq = {}, a.dstate_in = {};
        if (mask != 2) a.dk = {}, a.dphase = {};
        if (mask != 0) a.dv = {}, a.dlog_decay = {};
        a.dstate_in_im = {};
        call.run(o);
        const Grads r = call.grads(c.complex);
        const std::vector<double> zq(full.q.size(), 0.0), zv(full.v.size(), 0.0), zg(full.g.size(), 0.0);
        const std::vector<double> zs(full.s_re.size(), 0.0);
        EXPECT_EQ(r.v, mask == 0 ? full.v : zv) << describe(o) << " mask " << mask;
        EXPECT_EQ(r.g, mask == 0 ? full.g : zg) << describe(o) << " mask " << mask;
        EXPECT_EQ(r.q, mask == 1 ? full.q : zq) << describe(o) << " mask " << mask;
        EXPECT_EQ(r.s_re, mask == 1 ? full.s_re : zs) << describe(o) << " mask " << mask;
        EXPECT_EQ(r.k, mask == 2 ? full.k : zq) << describe(o) << " mask " << mask;
        if (c.complex) {
          EXPECT_EQ(r.th, mask == 2 ? full.th : zg) << describe(o) << " mask " << mask;
        }
      }
    }
  }
}

// T = 0: the final state is the initial one, so dstate_in += dstate_out.
TEST(GatedRecurrenceBackwardApi, EmptySequence) {
  ops::Context ctx(2);
  for (const GateCase& gc : kGates) {
    Config c = api_config(gc);
    c.T = 0;
    const Data d = make_data(c);
    const Cotangent ct = make_cotangent(c, true, 9);
    for (const Path& pa : kPaths) {
      const Grads r = run_backward(d, ct, {pa.be, pa.dt, pa.mode, 8, 1.0, &ctx});
      for (size_t i = 0; i < ct.ds_re.size(); ++i) {
        EXPECT_EQ(r.s_re[i], pa.dt == DType::kF64 ? ct.ds_re[i] : (double)(float)ct.ds_re[i]);
        if (c.complex) {
          EXPECT_EQ(r.s_im[i], pa.dt == DType::kF64 ? ct.ds_im[i] : (double)(float)ct.ds_im[i]);
        }
      }
    }
  }
}

// Views with non-unit strides in the leading dims, inputs and gradients alike: q, k, v, log_decay carved out of
// one packed projection row (Llamba's in_proj layout [x | B | C | a]) and dq, dk, dv, dlog_decay out of the
// packed gradient of that row, as the model's backward will pass them.
TEST(GatedRecurrenceBackwardApi, StridedViews) {
  ops::Context ctx(2);
  for (bool vec : {false, true}) {
    Config c;
    c.B = 2, c.T = 19, c.H = 2, c.G = 1, c.N = 4, c.P = 3, c.vector_gate = vec, c.seed = 12;
    const Data d = make_data(c);
    const Cotangent ct = make_cotangent(c, true, 13);
    const Grads ref = run_backward(d, ct, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent});
    const int64_t B = c.B, T = c.T, H = c.H, G = c.G, N = c.N, P = c.P, ng = vec ? N : 1;
    const int64_t oK = H * P, oQ = oK + G * N, oG = oQ + G * N, W = oG + H * ng;
    auto carve = [&](Tensor& base, int64_t off, Shape s) {
      TensorView v = base.view();
      v.data = base.f32() + off;
      v.shape = s;
      if (s.rank() == 4) {
        v.strides = {T * W, W, s[3], 1};
      } else {
        v.strides = {T * W, W, 1};
      }
      return v;
    };
    Tensor packed = Tensor::zeros(DType::kF32, {B, T, W});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) {
        float* row = packed.f32() + (b * T + t) * W;
        for (int64_t i = 0; i < H * P; ++i) row[i] = (float)d.v[(b * T + t) * H * P + i];
        for (int64_t i = 0; i < G * N; ++i) row[oK + i] = (float)d.k[(b * T + t) * G * N + i];
        for (int64_t i = 0; i < G * N; ++i) row[oQ + i] = (float)d.q[(b * T + t) * G * N + i];
        for (int64_t i = 0; i < H * ng; ++i) row[oG + i] = (float)d.g[(b * T + t) * H * ng + i];
      }
    const Shape sqk{B, T, G, N}, sv{B, T, H, P}, sg = vec ? Shape{B, T, H, N} : Shape{B, T, H};
    BwdCall call(d, ct, DType::kF32);  // contiguous dy, states and dstate_in; the rest replaced by views
    auto& a = call.args;
    a.v = carve(packed, 0, sv), a.k = carve(packed, oK, sqk), a.q = carve(packed, oQ, sqk);
    a.log_decay = carve(packed, oG, sg);
    for (const Path& pa : {kPaths[0], kPaths[1], kPaths[2]}) {  // ref, cpu recurrent, cpu chunked (f32 views)
      Tensor grad = Tensor::zeros(DType::kF32, {B, T, W});
      a.dv = carve(grad, 0, sv), a.dk = carve(grad, oK, sqk), a.dq = carve(grad, oQ, sqk);
      a.dlog_decay = carve(grad, oG, sg);
      a.chunk = 7;
      const RunOpts o{pa.be, DType::kF32, pa.mode, 7, 1.0, &ctx};
      call.run(o);
      Grads got;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t) {
          const float* row = grad.f32() + (b * T + t) * W;
          got.v.insert(got.v.end(), row, row + H * P);
          got.k.insert(got.k.end(), row + oK, row + oK + G * N);
          got.q.insert(got.q.end(), row + oQ, row + oQ + G * N);
          got.g.insert(got.g.end(), row + oG, row + oG + H * ng);
        }
      got.s_re = from_tensor(call.dsi);
      call.dsi = Tensor::zeros(DType::kF32, call.dsi.shape()), a.dstate_in = call.dsi;
      const GradErr e = grad_error(got, ref);
      EXPECT_LE(e.worst(), kTolF32Grad) << describe(o) << (vec ? " vector: " : " scalar: ") << e.str();
    }
  }
}

TEST(GatedRecurrenceBackwardApi, RejectsBadArguments) {
  ops::Context ctx(1);
  const Config c = api_config({false, false});
  const Data d = make_data(c);
  const Cotangent ct = make_cotangent(c, true, 1);
  auto expect_throw = [&](const std::function<void(BwdCall&)>& edit, RecurrenceMode mode, const char* needle) {
    BwdCall call(d, ct, DType::kF32);
    edit(call);
    try {
      ops::gated_recurrence_backward(ctx, call.args, mode);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_throw([](BwdCall&) {}, RecurrenceMode::kScan, "kRecurrent and kChunked");
  expect_throw([](BwdCall& b) { b.args.dphase = b.dth; }, RecurrenceMode::kChunked, "dphase");
  expect_throw([](BwdCall& b) { b.args.dy = b.v.view().slice(1, 0, 5); }, RecurrenceMode::kChunked, "dy");
  expect_throw([](BwdCall& b) { b.args.dq = b.dv; }, RecurrenceMode::kRecurrent, "dq");
  expect_throw([&](BwdCall& b) { b.dk = Tensor::zeros(DType::kF64, b.dk.shape()), b.args.dk = b.dk; },
               RecurrenceMode::kChunked, "dk is f64");
  expect_throw([](BwdCall& b) { b.args.dstate_out_im = b.dsi; }, RecurrenceMode::kChunked, "dstate_out_im");
}

}  // namespace
}  // namespace llamba::test::gr
