// gated_recurrence mode equivalence (docs/recurrence.md §"Tests" 1, 2, 6, 9): every mode of the fp64 oracle and of
// the cpu backend (fp64 and fp32) against ref kRecurrent, over gate kinds, decay regimes, chunk sizes, shapes,
// lengths 0, 1 and 16,384, state carried across calls, and decode steps. GR_VERBOSE=1 prints every error.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "ops/gated_recurrence_testing.h"

namespace llamba::test::gr {
namespace {

struct GateCase {
  bool vec, cplx;
};
constexpr GateCase kGates[] = {{false, false}, {true, false}, {false, true}, {true, true}};

std::string gate_name(const GateCase& g) {
  return std::string(g.vec ? "vector" : "scalar") + (g.cplx ? "-complex" : "-real");
}

void report(const RunOpts& o, const Err& e) {
  if (std::getenv("GR_VERBOSE")) std::printf("  %-30s y %.2e  state %.2e %.2e\n", describe(o).c_str(), e.y, e.s_re, e.s_im);
}

struct Which {
  bool ref_f64 = true, cpu_f64 = true, cpu_f32 = true;
  bool ref_quadratic = true, ref_scan = true;  // the O(T²) and O(T log T · PN)-memory oracles, for short T only
};

// Runs the selected (backend, dtype, mode, chunk) on `d` against ref recurrent fp64.
void check_all(const Data& d, const std::vector<int64_t>& chunks, ops::Context& ctx, Which w = {}) {
  const Out ref = run(d, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent});
  ASSERT_TRUE(all_finite(ref)) << describe(d.c);
  if (std::getenv("GR_VERBOSE")) std::printf("%s\n", describe(d.c).c_str());
  for (Backend be : {Backend::kRef, Backend::kCpu}) {
    for (DType dt : {DType::kF64, DType::kF32}) {
      if (be == Backend::kRef && (dt == DType::kF32 || !w.ref_f64)) continue;
      if (be == Backend::kCpu && dt == DType::kF64 && !w.cpu_f64) continue;
      if (be == Backend::kCpu && dt == DType::kF32 && !w.cpu_f32) continue;
      for (RecurrenceMode m : kAllModes) {
        if (be == Backend::kRef && m == RecurrenceMode::kQuadratic && !w.ref_quadratic) continue;
        if (be == Backend::kRef && m == RecurrenceMode::kScan && !w.ref_scan) continue;
        for (int64_t C : m == RecurrenceMode::kChunked ? chunks : std::vector<int64_t>{64}) {
          const RunOpts o{be, dt, m, C, 1.0, &ctx};
          const Err e = error(run(d, o), ref);
          report(o, e);
          const double tol = dt == DType::kF64 ? kTolF64 : kTolF32;
          EXPECT_LE(e.worst(), tol) << describe(o) << " on " << describe(d.c) << ": y " << e.y << " state "
                                    << e.s_re << " / " << e.s_im;
        }
      }
    }
  }
}

TEST(GatedRecurrence, ModesAgreeAllGateKinds) {
  ops::Context ctx(3);
  for (const GateCase& gc : kGates) {
    SCOPED_TRACE(gate_name(gc));
    Config c;
    c.T = 75, c.H = 2, c.N = 8, c.P = 5, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 11;
    // chunk 1, a prime, a sub-block multiple, the default, T itself, and larger than T
    check_all(make_data(c), {1, 7, 16, 64, 75, 100}, ctx);
  }
}

// Strong decays (|a| ≈ 0.02), weak decays (|a| ≈ 0.998) and large accumulated phases (Θ_T ≈ 3T).
TEST(GatedRecurrence, ModesAgreeDecayRegimes) {
  ops::Context ctx(2);
  struct Regime {
    const char* name;
    double gate_mu, gate_sigma, theta_mu, theta_sigma;
  };
  const Regime regimes[] = {{"strong", -4.0, 1.0, 0.0, 1.0},
                            {"weak", 6.0, 0.5, 0.0, 0.3},
                            {"large-phase", 5.0, 0.1, 3.0, 0.1}};
  for (const Regime& r : regimes) {
    for (const GateCase& gc : kGates) {
      SCOPED_TRACE(std::string(r.name) + " " + gate_name(gc));
      Config c;
      c.T = 300, c.H = 2, c.N = 6, c.P = 4, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 5;
      c.gate_mu = r.gate_mu, c.gate_sigma = r.gate_sigma, c.theta_mu = r.theta_mu, c.theta_sigma = r.theta_sigma;
      check_all(make_data(c), {7, 64, 300}, ctx);
    }
  }
}

// Long sequences with fp32: the phase reaches ~3·T rad; compared against fp64 for every cpu mode.
TEST(GatedRecurrence, LargeAccumulatedPhaseFp32) {
  ops::Context ctx(2);
  for (bool vec : {false, true}) {
    Config c;
    c.T = 2048, c.H = 2, c.N = 8, c.P = 4, c.vector_gate = vec, c.complex = true, c.seed = 9;
    c.gate_mu = 5.0, c.gate_sigma = 0.1, c.theta_mu = 3.0, c.theta_sigma = 0.1;
    check_all(make_data(c), {64, 100}, ctx,
              {.ref_f64 = true, .cpu_f64 = false, .cpu_f32 = true, .ref_quadratic = false, .ref_scan = false});
  }
}

// Shapes (§"Tests" 9): grouped q/k (G < H), P != N, P = 96, batch > 1, T = 1, odd sizes.
TEST(GatedRecurrence, Shapes) {
  ops::Context ctx(2);
  struct S {
    int64_t B, T, H, G, N, P;
  };
  const S shapes[] = {{2, 33, 4, 2, 5, 3}, {1, 17, 3, 1, 4, 96}, {3, 1, 2, 2, 3, 7}, {1, 2, 1, 1, 1, 1},
                      {2, 19, 6, 3, 64, 2}};
  for (const S& s : shapes) {
    for (const GateCase& gc : kGates) {
      Config c;
      c.B = s.B, c.T = s.T, c.H = s.H, c.G = s.G, c.N = s.N, c.P = s.P;
      c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 3;
      SCOPED_TRACE(describe(c));
      check_all(make_data(c), {1, 7, 64}, ctx);
    }
  }
}

TEST(GatedRecurrence, ZeroLengthPassesStateThrough) {
  ops::Context ctx(2);
  for (const GateCase& gc : kGates) {
    for (bool with_state : {true, false}) {
      Config c;
      c.T = 0, c.B = 2, c.H = 2, c.N = 3, c.P = 2, c.vector_gate = gc.vec, c.complex = gc.cplx;
      c.state_in = with_state;
      const Data d = make_data(c);
      for (Backend be : {Backend::kRef, Backend::kCpu})
        for (DType dt : {DType::kF64, DType::kF32})
          for (RecurrenceMode m : kAllModes) {
            const Out o = run(d, {be, dt, m, 7, 1.0, &ctx});
            EXPECT_TRUE(o.y.empty());
            auto expect = [&](const std::vector<double>& x, size_t i) {
              return !with_state ? 0.0 : dt == DType::kF32 ? (double)(float)x[i] : x[i];
            };
            for (size_t i = 0; i < o.s_re.size(); ++i) {
              EXPECT_EQ(o.s_re[i], expect(d.s_re, i));
              if (gc.cplx) {
                EXPECT_EQ(o.s_im[i], expect(d.s_im, i));
              }
            }
          }
    }
  }
}

// N = 0 (no keys) gives y = 0; P = 0 gives empty outputs. Nothing is read out of range.
TEST(GatedRecurrence, EmptyStateDimensions) {
  ops::Context ctx(2);
  for (int64_t N : {0, 3}) {
    Config c;
    c.T = 9, c.N = N, c.P = N == 0 ? 2 : 0, c.vector_gate = true, c.complex = true;
    const Data d = make_data(c);
    for (Backend be : {Backend::kRef, Backend::kCpu})
      for (RecurrenceMode m : kAllModes) {
        const Out o = run(d, {be, DType::kF32, m, 4, 1.0, &ctx});
        for (double y : o.y) EXPECT_EQ(y, 0.0);
      }
  }
}

TEST(GatedRecurrence, ScaleMultipliesOutputOnly) {
  ops::Context ctx(2);
  Config c;
  c.T = 20, c.vector_gate = true, c.complex = true;
  const Data d = make_data(c);
  for (RecurrenceMode m : kAllModes) {
    const Out a = run(d, {Backend::kCpu, DType::kF64, m, 7, 1.0, &ctx});
    const Out b = run(d, {Backend::kCpu, DType::kF64, m, 7, 0.125, &ctx});
    for (size_t i = 0; i < a.y.size(); ++i) EXPECT_EQ(b.y[i], 0.125 * a.y[i]);  // exact: a power of two
    EXPECT_EQ(a.s_re, b.s_re);
  }
}

// Data of time steps [t0, t1) of `d`, with the given initial state.
Data slice_time(const Data& d, int64_t t0, int64_t t1, const std::vector<double>& s_re,
                const std::vector<double>& s_im) {
  const Config& c = d.c;
  Data r = d;
  r.c.T = t1 - t0;
  auto cut = [&](const std::vector<double>& x, int64_t inner) {
    std::vector<double> out;
    for (int64_t b = 0; b < c.B; ++b)
      out.insert(out.end(), x.begin() + (b * c.T + t0) * inner, x.begin() + (b * c.T + t1) * inner);
    return out;
  };
  r.q = cut(d.q, c.G * c.N), r.k = cut(d.k, c.G * c.N), r.v = cut(d.v, c.H * c.P);
  const int64_t gi = c.H * (c.vector_gate ? c.N : 1);
  r.g = cut(d.g, gi);
  if (c.complex) r.th = cut(d.th, gi);
  r.s_re = s_re, r.s_im = s_im;
  return r;
}

// §"Tests" 6: run(x[0:T]) == run(x[T1:T], h0 = final_state(run(x[0:T1]))) in every mode, T1 not a multiple of
// the chunk; the state handed over is the call's own output (fp32 stays fp32).
TEST(GatedRecurrence, StateCarriedAcrossCallsEqualsOneCall) {
  ops::Context ctx(2);
  for (const GateCase& gc : kGates) {
    Config c;
    c.B = 2, c.T = 61, c.H = 2, c.N = 5, c.P = 3, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 21;
    const Data d = make_data(c);
    const int64_t T1 = 23;
    for (Backend be : {Backend::kRef, Backend::kCpu}) {
      for (DType dt : {DType::kF64, DType::kF32}) {
        for (RecurrenceMode m : kAllModes) {
          const RunOpts o{be, dt, m, 16, 1.0, &ctx};
          SCOPED_TRACE(describe(o) + " " + gate_name(gc));
          const Out whole = run(d, o);
          const Out first = run(slice_time(d, 0, T1, d.s_re, d.s_im), o);
          const Out second = run(slice_time(d, T1, c.T, first.s_re, first.s_im), o);
          Out joined;
          for (int64_t b = 0; b < c.B; ++b) {
            const int64_t row = c.H * c.P;
            joined.y.insert(joined.y.end(), first.y.begin() + b * T1 * row, first.y.begin() + (b + 1) * T1 * row);
            joined.y.insert(joined.y.end(), second.y.begin() + b * (c.T - T1) * row,
                            second.y.begin() + (b + 1) * (c.T - T1) * row);
          }
          joined.s_re = second.s_re, joined.s_im = second.s_im;
          // Same arithmetic up to the order of the chunk split: fp64 1e-12; fp32 one more rounding of the
          // handed-over state, within the fp32 bound.
          EXPECT_LE(error(joined, whole).worst(), dt == DType::kF64 ? kTolF64 : kTolF32);
        }
      }
    }
  }
}

// §"Tests" 6, decode: T single steps through gated_recurrence_step == one prefill.
TEST(GatedRecurrence, DecodeStepsEqualPrefill) {
  ops::Context ctx(2);
  for (const GateCase& gc : kGates) {
    Config c;
    c.B = 2, c.T = 13, c.H = 4, c.G = 2, c.N = 5, c.P = 3, c.vector_gate = gc.vec, c.complex = gc.cplx;
    const Data d = make_data(c);
    for (bool use_ref : {true, false}) {
      for (DType dt : {DType::kF64, DType::kF32}) {
        const Out pre = run(d, {use_ref ? Backend::kRef : Backend::kCpu, dt, RecurrenceMode::kRecurrent, 64, 0.5,
                                &ctx});
        const Shape ss{c.B, c.H, c.P, c.N};
        Tensor st = to_tensor(d.s_re, ss, dt), st_im = to_tensor(d.s_im, ss, dt);
        std::vector<double> y(pre.y.size());
        for (int64_t t = 0; t < c.T; ++t) {
          const Data one = slice_time(d, t, t + 1, {}, {});
          const Shape sg = c.vector_gate ? Shape{c.B, c.H, c.N} : Shape{c.B, c.H};
          Tensor q = to_tensor(one.q, {c.B, c.G, c.N}, dt), k = to_tensor(one.k, {c.B, c.G, c.N}, dt);
          Tensor v = to_tensor(one.v, {c.B, c.H, c.P}, dt), g = to_tensor(one.g, sg, dt);
          Tensor yt = Tensor::zeros(dt, {c.B, c.H, c.P}), th;
          ops::GatedRecurrenceStepArgs a;
          a.q = q, a.k = k, a.v = v, a.log_decay = g, a.y = yt, a.state = st, a.scale = 0.5;
          if (c.complex) th = to_tensor(one.th, sg, dt), a.phase = th, a.state_im = st_im;
          use_ref ? ops::ref::gated_recurrence_step(a) : ops::gated_recurrence_step(ctx, a);
          const std::vector<double> yv = from_tensor(yt);
          for (int64_t b = 0; b < c.B; ++b)
            for (int64_t i = 0; i < c.H * c.P; ++i) y[(b * c.T + t) * c.H * c.P + i] = yv[b * c.H * c.P + i];
        }
        Out steps{y, from_tensor(st), c.complex ? from_tensor(st_im) : std::vector<double>{}};
        if (use_ref && dt == DType::kF32) {
          // The ref keeps its state in fp64 within a call but rounds it to the f32 view between steps.
          EXPECT_LE(error(steps, pre).worst(), kTolF32);
        } else {
          EXPECT_EQ(error(steps, pre).worst(), 0.0) << "same recurrence, same order: bitwise";
        }
      }
    }
  }
}

// T = 16,384 with weak decays and the fp32 cpu modes that serve long prompts: no drift, i.e. the error of the
// last 1,024 outputs stays within the bound (relative to max|ref| over those outputs).
TEST(GatedRecurrence, LongSequenceNoDrift) {
  ops::Context ctx(2);
  for (const GateCase& gc : kGates) {
    Config c;
    c.T = 16384, c.H = 2, c.N = 8, c.P = 4, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 77;
    c.gate_mu = 6.0, c.gate_sigma = 0.5, c.theta_sigma = 0.5;  // |a| ≈ 0.9975: horizon ~400 steps
    const Data d = make_data(c);
    const Out ref = run(d, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent});
    for (DType dt : {DType::kF32, DType::kF64}) {
      for (RecurrenceMode m : {RecurrenceMode::kRecurrent, RecurrenceMode::kScan, RecurrenceMode::kChunked}) {
        const RunOpts o{Backend::kCpu, dt, m, 64, 1.0, &ctx};
        const Out x = run(d, o);
        const int64_t tail = 1024 * c.H * c.P, n = (int64_t)ref.y.size();
        const double e_tail = rel_max_error(x.y.data() + n - tail, ref.y.data() + n - tail, tail);
        const Err e = error(x, ref);
        report(o, e);
        const double tol = dt == DType::kF64 ? kTolF64 : kTolF32;
        EXPECT_LE(e.worst(), tol) << describe(o) << " " << gate_name(gc);
        EXPECT_LE(e_tail, tol) << describe(o) << " " << gate_name(gc) << " (last 1024 steps)";
      }
    }
  }
}

// Views with non-unit strides in the leading dims (q, k, v carved out of one packed projection row, as the
// Llamba in_proj layout [x | B | C | z | a] gives them) on both backends.
TEST(GatedRecurrence, StridedViews) {
  ops::Context ctx(2);
  const int64_t B = 2, T = 9, H = 2, G = 1, N = 4, P = 3, W = H * P + 2 * G * N + H * P + H;
  core::Rng rng(4);
  std::vector<float> packed = randn(rng, B * T * W);
  for (int64_t i = 0; i < B * T; ++i) packed[i * W + W - 1] = -0.3f, packed[i * W + W - 2] = -1.1f;
  Tensor base = Tensor::from_f32({B, T, W}, packed);
  auto carve = [&](int64_t off, Shape s) {
    TensorView v = base.view();
    v.data = base.f32() + off;
    v.shape = s;
    v.strides = {T * W, W, s.rank() == 4 ? s[3] : 1, 1};
    return v;
  };
  ops::GatedRecurrenceArgs a;
  a.v = carve(0, {B, T, H, P});
  a.k = carve(H * P, {B, T, G, N});
  a.q = carve(H * P + G * N, {B, T, G, N});
  a.log_decay = carve(W - H, {B, T, H});
  Tensor y1 = Tensor::zeros(DType::kF32, {B, T, H, P}), y2 = Tensor::zeros(DType::kF32, {B, T, H, P});
  a.y = y1;
  ops::ref::gated_recurrence_forward(a, RecurrenceMode::kRecurrent);
  for (RecurrenceMode m : kAllModes) {
    a.y = y2;
    ops::gated_recurrence_forward(ctx, a, m);
    EXPECT_LE(rel_max_error(y2.f32(), y1.f32(), y1.numel()), kTolF32) << ops::recurrence_mode_name(m);
  }
}

TEST(GatedRecurrence, RejectsBadArguments) {
  ops::Context ctx(1);
  Tensor q = Tensor::zeros(DType::kF32, {1, 4, 1, 3}), v = Tensor::zeros(DType::kF32, {1, 4, 2, 2});
  Tensor g = Tensor::zeros(DType::kF32, {1, 4, 2}), y = Tensor::zeros(DType::kF32, {1, 4, 2, 2});
  ops::GatedRecurrenceArgs a;
  a.q = q, a.k = q, a.v = v, a.log_decay = g, a.y = y;
  EXPECT_NO_THROW(ops::gated_recurrence_forward(ctx, a, RecurrenceMode::kChunked));
  ops::GatedRecurrenceArgs bad = a;
  bad.y = q;
  EXPECT_THROW(ops::gated_recurrence_forward(ctx, bad, RecurrenceMode::kRecurrent), Error);
  bad = a;
  bad.chunk = 0;  // only kChunked reads it
  EXPECT_THROW(ops::ref::gated_recurrence_forward(bad, RecurrenceMode::kChunked), Error);
  EXPECT_THROW(ops::gated_recurrence_forward(ctx, bad, RecurrenceMode::kChunked), Error);
  EXPECT_NO_THROW(ops::gated_recurrence_forward(ctx, bad, RecurrenceMode::kQuadratic));
  Tensor g64 = Tensor::zeros(DType::kF64, {1, 4, 2});
  bad = a;
  bad.log_decay = g64;
  EXPECT_THROW(ops::gated_recurrence_forward(ctx, bad, RecurrenceMode::kRecurrent), Error);
  Tensor st = Tensor::zeros(DType::kF32, {1, 2, 2, 3});
  bad = a;
  bad.state_in_im = st;  // an imaginary state without complex gates
  bad.state_in = st;
  EXPECT_THROW(ops::gated_recurrence_forward(ctx, bad, RecurrenceMode::kRecurrent), Error);
  bad = a;
  Tensor q3 = Tensor::zeros(DType::kF32, {1, 4, 3, 3});  // H = 2 is not a multiple of G = 3
  bad.q = q3, bad.k = q3;
  EXPECT_THROW(ops::gated_recurrence_forward(ctx, bad, RecurrenceMode::kRecurrent), Error);
  bad = a;
  bad.v.strides = {16, 4, 1, 2};  // (h, p) transposed: the cpu needs a contiguous innermost dimension
  EXPECT_THROW(ops::gated_recurrence_forward(ctx, bad, RecurrenceMode::kRecurrent), Error);
  EXPECT_NO_THROW(ops::ref::gated_recurrence_forward(bad, RecurrenceMode::kRecurrent));
}

}  // namespace
}  // namespace llamba::test::gr
