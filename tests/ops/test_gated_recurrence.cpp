// gated_recurrence mode equivalence (gateloop.md §7.2 tests 1, 2, 6, 9): every mode of the fp64 oracle and of
// the cpu backend (fp64 and fp32) against ref kRecurrent, over gate kinds, chunk sizes, shapes and lengths.
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

// Runs every (backend, dtype, mode, chunk) on `d` and checks it against ref recurrent fp64; returns the worst.
double check_all(const Data& d, const std::vector<int64_t>& chunks, bool f32, core::ThreadPool& pool) {
  const Out ref = run(d, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent});
  double worst32 = 0;
  for (Backend be : {Backend::kRef, Backend::kCpu}) {
    for (DType dt : {DType::kF64, DType::kF32}) {
      if (dt == DType::kF32 && (!f32 || be == Backend::kRef)) continue;
      for (RecurrenceMode m : kAllModes) {
        for (int64_t C : m == RecurrenceMode::kChunked ? chunks : std::vector<int64_t>{64}) {
          RunOpts o{be, dt, m, C, 1.0, &pool};
          const Err e = error(run(d, o), ref);
          const double tol = dt == DType::kF64 ? kTolF64 : kTolF32;
          EXPECT_LE(e.worst(), tol) << describe(o) << " on " << describe(d.c) << ": y " << e.y << " state "
                                    << e.s_re << " / " << e.s_im;
          if (dt == DType::kF32) worst32 = std::max(worst32, e.worst());
          if (std::getenv("GR_VERBOSE")) std::printf("%-28s %.2e\n", describe(o).c_str(), e.worst());
        }
      }
    }
  }
  return worst32;
}

TEST(GatedRecurrence, ModesAgreeAllGateKinds) {
  core::ThreadPool pool(3);
  for (const GateCase& gc : kGates) {
    SCOPED_TRACE(gate_name(gc));
    Config c;
    c.T = 75, c.H = 2, c.N = 8, c.P = 5, c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = 11;
    check_all(make_data(c), {1, 7, 16, 64, 75, 100}, true, pool);
  }
}

}  // namespace
}  // namespace llamba::test::gr
