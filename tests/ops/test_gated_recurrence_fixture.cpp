// gated_recurrence against an upstream implementation: lucidrains gateloop-transformer `gate_loop_operator`
// (complex gates, associative scan, Re after the readout), fixture written by tools/reference/gen_gated_recurrence.py.
#include <gtest/gtest.h>

#include <cstdio>

#include "io/safetensors.h"
#include "ops/gated_recurrence_testing.h"

namespace llamba::test::gr {
namespace {

constexpr int kFixtureFormat = 1;

TEST(GatedRecurrenceFixture, MatchesGateLoopTransformer) {
  const io::SafetensorsFile f = io::SafetensorsFile::open(fixture_path("ops/gated_recurrence_gateloop.safetensors"));
  ASSERT_EQ(f.metadata().at("fixture_format"), std::to_string(kFixtureFormat))
      << "---> HINT: regenerate with tools/reference/gen_gated_recurrence.py";
  ops::Context ctx(2);
  double worst[2] = {0, 0};  // f32, f64
  for (const std::string cs : {"vector", "scalar"}) {
    Tensor q = f.to_f64(cs + ".q"), k = f.to_f64(cs + ".k"), v = f.to_f64(cs + ".v");
    Tensor g = f.to_f64(cs + ".log_decay"), th = f.to_f64(cs + ".phase"), want = f.to_f64(cs + ".y");
    const int64_t BH = q.shape()[0], T = q.shape()[1], N = q.shape()[2], P = v.shape()[2];
    // Upstream batches (b·h) rows of one head each: B = BH, H = G = 1.
    const bool vec = g.shape().rank() == 3;
    for (Backend be : {Backend::kRef, Backend::kCpu})
      for (DType dt : {DType::kF64, DType::kF32}) {
        if (be == Backend::kRef && dt == DType::kF32) continue;
        for (RecurrenceMode m : kAllModes) {
          Data d;
          d.c.B = BH, d.c.T = T, d.c.H = 1, d.c.G = 1, d.c.N = N, d.c.P = P;
          d.c.vector_gate = vec, d.c.complex = true, d.c.state_in = false;
          auto vec_of = [](const Tensor& t) { return std::vector<double>(t.f64(), t.f64() + t.numel()); };
          d.q = vec_of(q), d.k = vec_of(k), d.v = vec_of(v), d.g = vec_of(g), d.th = vec_of(th);
          const RunOpts o{be, dt, m, 16, 1.0, &ctx};
          const Out x = run(d, o);
          const double e = rel_max_error(x.y.data(), want.f64(), want.numel());
          // fp64: two fp64 evaluations of one function (1e-12); fp32: the fp32 bound.
          EXPECT_LE(e, dt == DType::kF64 ? kTolF64 : kTolF32) << cs << " " << describe(o);
          worst[dt == DType::kF64] = std::max(worst[dt == DType::kF64], e);
        }
      }
  }
  std::printf("vs gate_loop_operator: worst fp64 %.2e, fp32 %.2e\n", worst[1], worst[0]);
}

}  // namespace
}  // namespace llamba::test::gr
