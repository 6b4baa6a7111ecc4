// MOHAWK stage objectives: the teacher's taps feed the student layer by layer.
#include "distill/stages.h"

#include "ops/cross_entropy.h"
#include "ops/frobenius.h"
#include "ops/kl_div.h"
#include "ops/mse.h"

namespace llamba::distill {

namespace {

using core::DType;
using core::Tensor;
using core::TensorView;

bool ends_with(const std::string& s, const char* suffix) {
  const std::string_view x(suffix);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

// The teacher on inputs (B, T) from fresh states, `tap` called as its intermediates arrive; logits of the last
// positions only (the taps are what stages 1-2 read).
void teacher_taps(ops::Context& ctx, const models::Model& teacher, std::span<const int32_t> in, int64_t batch,
                  bool attention_probs, const models::Observer& tap) {
  models::FreshStates fresh(teacher, batch);
  Tensor last = Tensor::zeros(DType::kF32, {batch, teacher.info().n_vocab});
  models::ForwardOptions o;
  o.observer = &tap;
  o.attention_probs = attention_probs;
  teacher.forward(ctx, in, batch, fresh.ptrs, last.view(), o);
}

std::vector<int32_t> inputs(std::span<const int32_t> window, int64_t seq_len) {
  std::vector<int32_t> in, tgt;
  train::split_window(window, seq_len, -1, in, tgt);
  return in;
}

}  // namespace

double MatrixOrientation::accumulate(ops::Context& ctx, const models::Model& student, std::span<const int32_t> window,
                                     int64_t batch, int64_t seq_len, models::GradientMap& grads, float scale) {
  const int64_t L = student.info().n_layers;
  layer_losses_.assign((size_t)L, 0.0);
  Tensor h_in;  // the teacher's input to the current layer
  const models::Observer tap = [&](std::string_view name, int l, const TensorView& t) {
    if (name == "hidden" && l < L) h_in = Tensor::copy_of(t);
    if (name != "attn_probs") return;
    const TensorView& a = t;  // (B, Hq, T, T) softmax probabilities
    Tensor m = Tensor::zeros(DType::kF32, a.shape), dm = Tensor::zeros(DType::kF32, a.shape);
    auto cache = student.mixer_matrix_forward(ctx, l, h_in, batch, m);
    layer_losses_[l] = ops::frobenius_forward(ctx, m, a);
    ops::frobenius_backward(ctx, dm, m, a, scale);
    Tensor dh = Tensor::zeros(DType::kF32, h_in.shape());  // no gradient crosses layers: dropped
    student.mixer_matrix_backward(ctx, *cache, dm, dh, grads);
  };
  teacher_taps(ctx, teacher_, inputs(window, seq_len), batch, true, tap);
  double total = 0;
  for (double x : layer_losses_) total += x;
  return total;
}

bool MatrixOrientation::trains(const std::string& n) const {
  // What the materialized matrix reads (docs/distillation.md): torch leaves the rest without a gradient.
  return n.rfind("blk.", 0) == 0 &&
         (ends_with(n, ".attn_norm.weight") || ends_with(n, ".ssm_in.weight") || ends_with(n, ".ssm_conv1d.weight") ||
          ends_with(n, ".ssm_conv1d.bias") || ends_with(n, ".ssm_d"));
}

double HiddenAlignment::accumulate(ops::Context& ctx, const models::Model& student, std::span<const int32_t> window,
                                   int64_t batch, int64_t seq_len, models::GradientMap& grads, float scale) {
  const int64_t L = student.info().n_layers;
  layer_losses_.assign((size_t)L, 0.0);
  Tensor h_in;  // the teacher's input to the layer being aligned
  auto align = [&](int64_t l, const TensorView& target) {
    Tensor out = Tensor::zeros(DType::kF32, h_in.shape()), dout = Tensor::zeros(DType::kF32, h_in.shape());
    auto cache = student.layer_forward(ctx, l, h_in, batch, out);
    layer_losses_[l] = ops::mse_forward(ctx, out, target, ops::L2Loss::kMeanRowNorm);
    ops::mse_backward(ctx, dout, {}, out, target, ops::L2Loss::kMeanRowNorm, scale);
    Tensor dh = Tensor::zeros(DType::kF32, h_in.shape());  // no gradient crosses layers: dropped
    student.layer_backward(ctx, *cache, dout, dh, grads);
  };
  const bool normed_last = cfg_.last_target == LastTarget::kFinalNormed;
  const models::Observer tap = [&](std::string_view name, int l, const TensorView& t) {
    if (name == "hidden") {
      if (l > 0 && (l < L || !normed_last)) align(l - 1, t);
      if (l < L) h_in = Tensor::copy_of(t);
    } else if (name == "final_hidden" && normed_last) {
      align(L - 1, t);
    }
  };
  teacher_taps(ctx, teacher_, inputs(window, seq_len), batch, false, tap);
  double total = 0;
  for (double x : layer_losses_) total += x;
  return total;
}

bool HiddenAlignment::trains(const std::string& n) const {
  if (n.rfind("blk.", 0) != 0) return false;  // embedding, final norm and head are outside the layers
  return !cfg_.freeze_mlp || n.find(".ffn_") == std::string::npos;
}

double LogitDistillation::accumulate(ops::Context& ctx, const models::Model& student, std::span<const int32_t> window,
                                     int64_t batch, int64_t seq_len, models::GradientMap& grads, float scale) {
  const int64_t B = batch, T = seq_len, V = student.info().n_vocab;
  LLAMBA_ENSURE(teacher_.info().n_vocab == V,
                "distill stage 3: the teacher's vocabulary ({}) is not the student's ({})", teacher_.info().n_vocab, V);
  std::vector<int32_t> in, tgt;
  train::split_window(window, T, -1, in, tgt);
  Tensor teacher_logits = Tensor::zeros(DType::kF32, {B, T, V}), logits = Tensor::zeros(DType::kF32, {B, T, V});
  {
    models::FreshStates fresh(teacher_, B);
    models::ForwardOptions o;
    o.all_logits = true;
    teacher_.forward(ctx, in, B, fresh.ptrs, teacher_logits.view(), o);
  }
  auto cache = student.forward_train(ctx, in, B, logits.view());
  const TensorView s = logits.view().reshape({B * T, V}), t = teacher_logits.view().reshape({B * T, V});
  const float tau = (float)cfg_.tau;
  double loss = ops::kl_div_forward(ctx, s, t, tau, ops::KdLoss::kSoftCe);
  Tensor dlogits = Tensor::zeros(DType::kF32, {B * T, V});
  ops::kl_div_backward(ctx, dlogits, s, t, tau, ops::KdLoss::kSoftCe, scale);
  if (cfg_.lm_weight > 0) {
    loss += cfg_.lm_weight * ops::cross_entropy_forward(ctx, s, tgt);
    ops::cross_entropy_backward(ctx, dlogits, s, tgt, scale * (float)cfg_.lm_weight);
  }
  student.backward(ctx, *cache, dlogits.view().reshape({B, T, V}), grads);
  return loss;
}

std::unique_ptr<StageObjective> make_stage_objective(const models::Model& teacher, const StageConfig& cfg) {
  switch (cfg.stage) {
    case 1:
      return std::make_unique<MatrixOrientation>(teacher);
    case 2:
      return std::make_unique<HiddenAlignment>(teacher, cfg);
    case 3:
      return std::make_unique<LogitDistillation>(teacher, cfg);
  }
  LLAMBA_THROW("distill: stage {} is not a MOHAWK stage (1, 2 or 3)", cfg.stage);
}

}  // namespace llamba::distill
