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

int64_t KvCache::bytes() const { return 2 * n_layers_ * capacity_ * n_kv_heads_ * head_dim_ * (int64_t)sizeof(float); }

}  // namespace llamba::models
