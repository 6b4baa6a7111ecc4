// RecurrentState and KvCache copies and growth.
#include "models/state.h"

#include <cstring>

namespace llamba::models {

namespace {
core::Tensor deep_copy(const core::Tensor& t) { return t.empty() ? core::Tensor() : core::Tensor::copy_of(t.view()); }
void copy_into(const core::Tensor& dst, const core::Tensor& src) {
  LLAMBA_CHECK(dst.empty() == src.empty() && (dst.empty() || dst.shape() == src.shape()), "state shape mismatch");
  if (!dst.empty()) std::memcpy(dst.view().data, src.view().data, (size_t)src.view().nbytes());
}
int64_t nbytes(const core::Tensor& t) { return t.empty() ? 0 : t.view().nbytes(); }

// Copies the saved tensor `name` into `dst` after checking its shape.
void load_into(const io::GgufFile& f, const std::string& name, const core::TensorView& dst) {
  const core::TensorView src = f.tensor(name);
  LLAMBA_ENSURE(src.dtype == core::DType::kF32 && src.shape == dst.shape,
                "{}: state tensor {} has shape {} {}, this model needs {} f32", f.path(), name, src.shape.str(),
                core::dtype_name(src.dtype), dst.shape.str());
  std::memcpy(dst.data, src.data, (size_t)dst.nbytes());
}

std::string layer_name(size_t l, const char* what) { return "state." + std::to_string(l) + "." + what; }
}  // namespace

std::unique_ptr<SequenceState> RecurrentState::clone() const {
  auto s = std::make_unique<RecurrentState>();
  s->n_past = n_past;
  for (const auto& l : layers) s->layers.push_back({deep_copy(l.conv), deep_copy(l.ssm), deep_copy(l.ssm_im)});
  return s;
}

void RecurrentState::copy_from(const SequenceState& other) {
  const auto* o = dynamic_cast<const RecurrentState*>(&other);
  LLAMBA_CHECK(o && o->layers.size() == layers.size(), "restoring a state of another model");
  for (size_t i = 0; i < layers.size(); ++i) {
    copy_into(layers[i].conv, o->layers[i].conv);
    copy_into(layers[i].ssm, o->layers[i].ssm);
    copy_into(layers[i].ssm_im, o->layers[i].ssm_im);
  }
  n_past = o->n_past;
}

void RecurrentState::reset() {
  for (auto& l : layers)
    for (core::Tensor* t : {&l.conv, &l.ssm, &l.ssm_im})
      if (!t->empty()) std::memset(t->view().data, 0, (size_t)t->view().nbytes());
  n_past = 0;
}

int64_t RecurrentState::bytes() const {
  int64_t b = 0;
  for (const auto& l : layers) b += nbytes(l.conv) + nbytes(l.ssm) + nbytes(l.ssm_im);
  return b;
}

void RecurrentState::save(io::GgufWriter& w) const {
  w.set("state.n_past", io::GgufValue::i64(n_past));
  w.set("state.kind", io::GgufValue::string("recurrent"));
  for (size_t l = 0; l < layers.size(); ++l) {
    if (!layers[l].conv.empty()) w.add_tensor(layer_name(l, "conv"), layers[l].conv);
    if (!layers[l].ssm.empty()) w.add_tensor(layer_name(l, "ssm"), layers[l].ssm);
    if (!layers[l].ssm_im.empty()) w.add_tensor(layer_name(l, "ssm_im"), layers[l].ssm_im);
  }
}

void RecurrentState::load(const io::GgufFile& f) {
  LLAMBA_ENSURE(f.get_string("state.kind", "") == "recurrent", "{}: not a recurrent-model state file", f.path());
  for (size_t l = 0; l < layers.size(); ++l) {
    if (!layers[l].conv.empty()) load_into(f, layer_name(l, "conv"), layers[l].conv.view());
    if (!layers[l].ssm.empty()) load_into(f, layer_name(l, "ssm"), layers[l].ssm.view());
    if (!layers[l].ssm_im.empty()) load_into(f, layer_name(l, "ssm_im"), layers[l].ssm_im.view());
  }
  n_past = f.get_int("state.n_past");
}

KvCache::KvCache(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim)
    : n_layers_(n_layers), n_kv_heads_(n_kv_heads), head_dim_(head_dim), k_(n_layers), v_(n_layers) {}

void KvCache::reserve(int64_t n_tokens) {
  if (n_tokens <= capacity_) return;
  int64_t cap = capacity_ > 0 ? capacity_ : 64;
  while (cap < n_tokens) cap *= 2;
  const int64_t row = n_kv_heads_ * head_dim_ * (int64_t)sizeof(float);
  for (int64_t l = 0; l < n_layers_; ++l) {
    for (auto* t : {&k_[l], &v_[l]}) {
      core::Tensor n = core::Tensor::zeros(core::DType::kF32, {cap, n_kv_heads_, head_dim_});
      if (!t->empty() && n_past > 0) std::memcpy(n.view().data, t->view().data, (size_t)(n_past * row));
      *t = n;
    }
  }
  capacity_ = cap;
}

std::unique_ptr<SequenceState> KvCache::clone() const {
  auto s = std::make_unique<KvCache>(n_layers_, n_kv_heads_, head_dim_);
  s->copy_from(*this);
  return s;
}

void KvCache::copy_from(const SequenceState& other) {
  const auto* o = dynamic_cast<const KvCache*>(&other);
  LLAMBA_CHECK(o && o->n_layers_ == n_layers_ && o->n_kv_heads_ == n_kv_heads_ && o->head_dim_ == head_dim_,
               "restoring a KV cache of another model");
  n_past = 0;
  reserve(o->n_past);
  const int64_t row = n_kv_heads_ * head_dim_ * (int64_t)sizeof(float);
  for (int64_t l = 0; l < n_layers_ && o->n_past > 0; ++l) {
    std::memcpy(k_[l].view().data, o->k_[l].view().data, (size_t)(o->n_past * row));
    std::memcpy(v_[l].view().data, o->v_[l].view().data, (size_t)(o->n_past * row));
  }
  n_past = o->n_past;
}

void KvCache::save(io::GgufWriter& w) const {
  w.set("state.n_past", io::GgufValue::i64(n_past));
  w.set("state.kind", io::GgufValue::string("kv"));
  if (n_past == 0) return;
  for (int64_t l = 0; l < n_layers_; ++l) {
    w.add_tensor(layer_name(l, "k"), core::Tensor::copy_of(k_[l].view().slice(0, 0, n_past)));
    w.add_tensor(layer_name(l, "v"), core::Tensor::copy_of(v_[l].view().slice(0, 0, n_past)));
  }
}

void KvCache::load(const io::GgufFile& f) {
  LLAMBA_ENSURE(f.get_string("state.kind", "") == "kv", "{}: not an attention-model state file", f.path());
  const int64_t n = f.get_int("state.n_past");
  LLAMBA_ENSURE(n >= 0 && n <= (int64_t(1) << 24), "{}: state.n_past {} is out of range", f.path(), n);
  n_past = 0;
  reserve(n);
  for (int64_t l = 0; l < n_layers_ && n > 0; ++l) {
    load_into(f, layer_name(l, "k"), k_[l].view().slice(0, 0, n));
    load_into(f, layer_name(l, "v"), v_[l].view().slice(0, 0, n));
  }
  n_past = n;
}

int64_t KvCache::bytes() const { return 2 * n_layers_ * capacity_ * n_kv_heads_ * head_dim_ * (int64_t)sizeof(float); }

}  // namespace llamba::models
