// Trainer: one optimizer step = grad_accum micro-batches of forward_train, cross-entropy and backward.
#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "io/json_depth.h"
#include "io/json_int.h"
#include "ops/cross_entropy.h"
#include "train/objective.h"

namespace llamba::train {

using json = nlohmann::json;

namespace {
// Integers must be JSON integers T holds exactly (io/json_int.h).
template <class T>
void get(const json& j, const char* key, T& out) {
  if (!j.contains(key)) return;
  const json& v = j.at(key);
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    LLAMBA_ENSURE(io::json_integer_fits<T>(v), "train config: \"{}\" must be an integer in [{}, {}], got {}", key,
                  std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), v.dump());
  try {
    out = v.get<T>();
  } catch (const json::exception&) {
    LLAMBA_THROW("train config: \"{}\" has the wrong type: {}", key, v.dump());
  }
}
}  // namespace

TrainConfig TrainConfig::from_json(const json& j) {
  LLAMBA_ENSURE(j.is_object(), "train config must be a JSON object");
  LLAMBA_ENSURE(io::json_depth(j) <= io::kMaxJsonDepth, "train config: nested deeper than {} levels",
                io::kMaxJsonDepth);
  static const char* known[] = {"arch", "model", "steps", "batch", "seq_len", "grad_accum", "lr", "min_lr",
                                "warmup_steps", "schedule", "decay_fraction", "decay_shape", "beta1", "beta2", "eps",
                                "weight_decay", "clip", "seed", "eval_interval", "eval_batches",
                                "checkpoint_interval", "log_interval", "loss_after_token"};
  for (auto it = j.begin(); it != j.end(); ++it)
    LLAMBA_ENSURE(std::find_if(std::begin(known), std::end(known), [&](const char* k) { return it.key() == k; }) !=
                      std::end(known),
                  "train config: unknown key \"{}\"", it.key());
  TrainConfig c;
  get(j, "arch", c.arch);
  LLAMBA_ENSURE(models::arch_from_name(c.arch).has_value(), "train config: \"arch\" \"{}\" is not an architecture",
                c.arch);
  if (j.contains("model")) c.model = j["model"];
  LLAMBA_ENSURE(c.model.is_object(), "train config: \"model\" must be a JSON object, got {}", c.model.dump());
  get(j, "steps", c.steps);
  get(j, "batch", c.batch);
  get(j, "seq_len", c.seq_len);
  get(j, "grad_accum", c.grad_accum);
  get(j, "lr", c.schedule.lr);
  get(j, "min_lr", c.schedule.min_lr);
  get(j, "warmup_steps", c.schedule.warmup_steps);
  get(j, "schedule", c.schedule.kind);
  get(j, "decay_fraction", c.schedule.decay_fraction);
  get(j, "decay_shape", c.schedule.decay_shape);
  get(j, "beta1", c.adamw.beta1);
  get(j, "beta2", c.adamw.beta2);
  get(j, "eps", c.adamw.eps);
  get(j, "weight_decay", c.adamw.weight_decay);
  get(j, "clip", c.clip);
  get(j, "seed", c.seed);
  get(j, "eval_interval", c.eval_interval);
  get(j, "eval_batches", c.eval_batches);
  get(j, "checkpoint_interval", c.checkpoint_interval);
  get(j, "log_interval", c.log_interval);
  get(j, "loss_after_token", c.loss_after_token);
  LLAMBA_ENSURE(c.steps >= 0 && c.batch >= 1 && c.seq_len >= 1 && c.grad_accum >= 1,
                "train config: steps >= 0, batch >= 1, seq_len >= 1, grad_accum >= 1 (got {}, {}, {}, {})", c.steps,
                c.batch, c.seq_len, c.grad_accum);
  LLAMBA_ENSURE(c.adamw.beta1 >= 0 && c.adamw.beta1 < 1 && c.adamw.beta2 >= 0 && c.adamw.beta2 < 1 && c.adamw.eps > 0,
                "train config: beta1, beta2 must be in [0, 1) and eps > 0");
  c.schedule.total_steps = std::max<int64_t>(1, c.steps);
  check_schedule(c.schedule);
  return c;
}

json TrainConfig::to_json() const {
  return {{"arch", arch}, {"model", model}, {"steps", steps}, {"batch", batch}, {"seq_len", seq_len},
          {"grad_accum", grad_accum}, {"lr", schedule.lr}, {"min_lr", schedule.min_lr},
          {"warmup_steps", schedule.warmup_steps}, {"schedule", schedule.kind},
          {"decay_fraction", schedule.decay_fraction}, {"decay_shape", schedule.decay_shape}, {"beta1", adamw.beta1},
          {"beta2", adamw.beta2}, {"eps", adamw.eps}, {"weight_decay", adamw.weight_decay}, {"clip", clip},
          {"seed", seed}, {"eval_interval", eval_interval}, {"eval_batches", eval_batches},
          {"checkpoint_interval", checkpoint_interval}, {"log_interval", log_interval},
          {"loss_after_token", loss_after_token}};
}

namespace {
// The starting image of the file-based constructor: a checkpoint, a model to fine-tune, or a random init.
WritableModelFile initial_image(const TrainConfig& cfg, const ShardSet& data, const std::string& resume,
                                const std::string& init_model) {
  if (!resume.empty()) return read_writable(resume);
  if (!init_model.empty()) return read_writable(init_model);
  io::GgufWriter w;
  models::write_init_model(*models::arch_from_name(cfg.arch), cfg.model, data.vocab_size, cfg.seed, w);
  w.set("general.name", io::GgufValue::string(cfg.arch + "-trained"));
  return from_writer(w, cfg.arch + " (initialized)");
}
}  // namespace

Trainer::Trainer(ops::Context& ctx, const TrainConfig& cfg, const ShardSet& data, const std::string& resume,
                 const std::string& init_model)
    : Trainer(ctx, cfg, data, initial_image(cfg, data, resume, init_model),
              std::make_unique<NextTokenObjective>(cfg.loss_after_token), !resume.empty()) {}

Trainer::Trainer(ops::Context& ctx, const TrainConfig& cfg, const ShardSet& data, WritableModelFile image,
                 std::unique_ptr<Objective> objective, bool resume)
    : ctx_(ctx), cfg_(cfg), data_(data), image_(std::move(image)), objective_(std::move(objective)) {
  if (resume) {
    progress_ = read_progress(*image_.file);
    TrainConfig saved = TrainConfig::from_json(json::parse(progress_.config_json));
    saved.steps = std::max(saved.steps, cfg.steps);
    saved.schedule.total_steps = std::max<int64_t>(1, saved.steps);
    cfg_ = saved;
  }
  model_ = models::load_model(*image_.file);
  LLAMBA_ENSURE(model_->info().n_vocab >= data.vocab_size, "the data's vocabulary ({}) is larger than the model's ({})",
                data.vocab_size, model_->info().n_vocab);
  params_ = std::make_unique<ParameterSet>(*model_);
  params_->set_trainable([&](const std::string& n) { return objective_->trains(n); });
  opt_ = std::make_unique<AdamW>(*params_, cfg_.adamw);
  if (resume) opt_->load(*image_.file);
  loader_ = std::make_unique<TokenLoader>(&data_.train, cfg_.seq_len, cfg_.seed, true);
  loader_->seek(progress_.data);
  progress_.config_json = cfg_.to_json().dump();
}

StepResult Trainer::step() {
  const int64_t B = cfg_.batch, T = cfg_.seq_len;
  std::vector<int32_t> window;
  params_->zero_grad();
  double loss = 0;
  for (int64_t micro = 0; micro < cfg_.grad_accum; ++micro) {
    loader_->next(B, window);
    const float scale = 1.0f / (float)cfg_.grad_accum;
    loss += objective_->accumulate(ctx_, *model_, window, B, T, params_->grads(), scale) / (double)cfg_.grad_accum;
  }
  StepResult r;
  r.grad_norm = cfg_.clip > 0 ? params_->clip_grad_norm(cfg_.clip) : params_->grad_norm();
  r.lr = lr_at(cfg_.schedule, progress_.step);
  opt_->step(r.lr);
  progress_.step++;
  progress_.data = loader_->position();
  r.step = progress_.step;
  r.loss = loss;
  r.tokens = B * T * cfg_.grad_accum;
  return r;
}

EvalResult Trainer::evaluate() {
  const std::vector<TokenShard>& shards = data_.val.empty() ? data_.train : data_.val;
  TokenLoader val(&shards, cfg_.seq_len, 0, false);
  const int64_t B = cfg_.batch, T = cfg_.seq_len, V = model_->info().n_vocab;
  const int64_t batches = std::min<int64_t>(cfg_.eval_batches, std::max<int64_t>(1, val.windows() / B));
  std::vector<int32_t> window, in, tgt;
  std::vector<float> logits(B * T * V);
  EvalResult r;
  double total = 0;
  int64_t correct = 0;
  for (int64_t i = 0; i < batches; ++i) {
    val.next(B, window);
    split_window(window, T, cfg_.loss_after_token, in, tgt);
    models::FreshStates fresh(*model_, B);  // evaluation keeps no activations
    models::ForwardOptions o;
    o.all_logits = true;
    model_->forward(ctx_, in, B, fresh.ptrs, core::view_f32(logits, {B, T, V}), o);
    const core::TensorView lv = core::view_f32(logits, {B * T, V});
    const int64_t n = std::count_if(tgt.begin(), tgt.end(), [](int32_t t) { return t >= 0; });
    total += ops::cross_entropy_forward(ctx_, lv, tgt) * (double)n;
    for (int64_t m = 0; m < B * T; ++m) {
      if (tgt[m] < 0) continue;
      const float* row = logits.data() + m * V;
      correct += (std::max_element(row, row + V) - row) == tgt[m];
    }
    r.n += n;
  }
  r.loss = r.n > 0 ? total / (double)r.n : 0.0;
  r.accuracy = r.n > 0 ? (double)correct / (double)r.n : 0.0;
  return r;
}

void Trainer::save(const std::string& path, const std::vector<std::pair<std::string, io::GgufValue>>& extra) const {
  save_checkpoint(path, *image_.file, *params_, *opt_, progress_, extra);
}

WritableModelFile Trainer::take_image() {
  loader_.reset();
  opt_.reset();
  params_.reset();
  model_.reset();
  return std::move(image_);
}

}  // namespace llamba::train
