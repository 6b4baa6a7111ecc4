// ops::Context and the op boundary: dispatch refuses tensors on another device, and wrong shapes throw
// llamba::Error naming the op (a library caller survives them) instead of aborting.
#include <gtest/gtest.h>

#include <string>

#include "core/thread_pool.h"
#include "ops/attention.h"
#include "ops/linear.h"
#include "ops/rmsnorm.h"

namespace llamba {
namespace {

using core::DType;
using core::Tensor;

// Runs `fn`, expecting llamba::Error whose message contains every one of `parts`.
template <class Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(Context, OwnsOrSharesAPool) {
  ops::Context own(3);
  EXPECT_EQ(own.n_threads(), 3);
  EXPECT_EQ(own.device(), core::Device::kCpu);
  core::ThreadPool pool(2);
  ops::Context shared(pool);
  EXPECT_EQ(&shared.pool(), &pool);
}

TEST(Context, RefusesATensorOnAnotherDevice) {
  ops::Context ctx(1);
  Tensor x = Tensor::zeros(DType::kF32, {2, 4}), w = Tensor::zeros(DType::kF32, {4});
  core::TensorView on_gpu = x.view();
  on_gpu.device = core::Device::kCuda;
  expect_error([&] { ops::rmsnorm_forward(ctx, on_gpu, x, w, 1e-5f); }, {"[rmsnorm_forward]", "cuda", "cpu"});
}

TEST(Context, WrongShapesThrowNamingTheOp) {
  ops::Context ctx(1);
  Tensor x = Tensor::zeros(DType::kF32, {2, 4}), w = Tensor::zeros(DType::kF32, {3, 5}),
         y = Tensor::zeros(DType::kF32, {2, 3});
  expect_error([&] { ops::linear_forward(ctx, y, x, w); }, {"[linear", "(2, 4)", "(3, 5)"});
  Tensor nw = Tensor::zeros(DType::kF32, {5});
  expect_error([&] { ops::rmsnorm_forward(ctx, x, x, nw, 1e-5f); }, {"[rmsnorm_forward]", "(5,)"});
  Tensor q = Tensor::zeros(DType::kF32, {2, 4, 8}), k = Tensor::zeros(DType::kF32, {2, 3, 8});
  expect_error([&] { ops::attention_forward(ctx, q, q, k, k, 0, 1.0f, {}); }, {"[attention"});
  // The reference validates identically.
  Tensor yr = Tensor::zeros(DType::kF64, {2, 3});
  expect_error([&] { ops::ref::linear_forward(yr, x, w); }, {"[", "(3, 5)"});
}

}  // namespace
}  // namespace llamba
