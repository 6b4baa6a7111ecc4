// Session: one sequence's state, history and logits over a shared model.
#include "runtime/session.h"

#include "io/gguf.h"

namespace llamba::runtime {

Session::Session(const models::Model& model, ops::Context& ctx)
    : model_(model), ctx_(ctx), state_(model.new_state()) {}

void Session::prefill(std::span<const int32_t> tokens) {
  if (tokens.empty()) return;
  logits_.resize(model_.info().n_vocab);
  models::SequenceState* s = state_.get();
  model_.forward(ctx_, tokens, 1, {&s, 1}, core::view_f32(logits_, {1, model_.info().n_vocab}));
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
}

void Session::reset() {
  state_->reset();
  tokens_.clear();
  logits_.clear();
}

Snapshot Session::snapshot() const { return {state_->clone(), tokens_, logits_}; }

void Session::restore(const Snapshot& s) {
  state_->copy_from(*s.state);
  tokens_ = s.tokens;
  logits_ = s.logits;
}

Session Session::fork() const {
  Session f(model_, ctx_);
  f.state_ = state_->clone();
  f.tokens_ = tokens_;
  f.logits_ = logits_;
  return f;
}

void Session::save_state(const std::string& path, const std::map<std::string, std::string>& notes) const {
  io::GgufWriter w;
  w.set("general.type", io::GgufValue::string("llamba-state"));
  w.set("state.architecture", io::GgufValue::string(std::string(models::arch_name(model_.info().arch))));
  w.set("state.model_name", io::GgufValue::string(model_.info().name));
  w.set("state.n_vocab", io::GgufValue::i64(model_.info().n_vocab));
  w.set("state.tokens", io::GgufValue::i32_array(tokens_));
  state_->save(w);
  for (const auto& [k, v] : notes) w.set("state.note." + k, io::GgufValue::string(v));
  if (!logits_.empty()) w.add_tensor("state.logits", core::Tensor::from_f32({(int64_t)logits_.size()}, logits_));
  w.write(path);
}

std::map<std::string, std::string> Session::load_state(const std::string& path) {
  const auto f = io::GgufFile::open(path);
  LLAMBA_ENSURE(f.get_string("general.type", "") == "llamba-state", "{}: not a llamba state file", path);
  const std::string arch = f.get_string("state.architecture");
  LLAMBA_ENSURE(arch == models::arch_name(model_.info().arch) && f.get_int("state.n_vocab") == model_.info().n_vocab,
                "{}: state was saved by a {} model with {} tokens of vocabulary; this is a {} model with {}", path,
                arch, f.get_int("state.n_vocab"), models::arch_name(model_.info().arch), model_.info().n_vocab);
  auto fresh = model_.new_state();
  fresh->load(f);
  const auto ids = f.require("state.tokens").as_ints("state.tokens");
  std::vector<float> logits;
  if (f.find_tensor("state.logits")) {
    const core::TensorView lv = f.tensor("state.logits");
    LLAMBA_ENSURE(lv.dtype == core::DType::kF32 && lv.numel() == model_.info().n_vocab,
                  "{}: state.logits has the wrong size", path);
    logits.assign(lv.f32(), lv.f32() + lv.numel());
  }
  std::map<std::string, std::string> notes;
  for (const auto& [k, v] : f.metadata())
    if (k.rfind("state.note.", 0) == 0) notes[k.substr(11)] = v.as_string(k);
  state_ = std::move(fresh);
  tokens_.assign(ids.begin(), ids.end());
  logits_ = std::move(logits);
  return notes;
}

}  // namespace llamba::runtime
