// Per-sequence state: RecurrentState (conv window + SSM state per layer, constant size) for recurrent models
// and KvCache (keys and values per layer, growing) for attention models. Separate types with explicit copies
// (snapshot / restore / fork cost a full copy and say so). Instances are owned by runtime sessions.
// Thread safety: one state per sequence; never share a state between concurrent forwards.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/gguf.h"

namespace llamba::models {

class SequenceState {
 public:
  virtual ~SequenceState() = default;
  virtual std::unique_ptr<SequenceState> clone() const = 0;  // a deep copy (snapshot, fork)
  virtual void copy_from(const SequenceState& other) = 0;     // restore; `other` must come from the same model
  virtual void reset() = 0;                                   // back to an empty sequence
  virtual int64_t bytes() const = 0;                          // memory held
  // Adds the state's tensors as "state.*" entries (and `state.n_past`) to a GGUF being written.
  virtual void save(io::GgufWriter& w) const = 0;
  // Reads what save() wrote; throws llamba::Error naming the file and tensor on a mismatch.
  virtual void load(const io::GgufFile& f) = 0;
  int64_t n_past = 0;                                         // tokens consumed so far
};

// Per layer: conv (K-1, Cc) pre-conv input rows, oldest first; ssm (H, P, N); ssm_im (H, P, N) for complex
// state (GateLoop), empty otherwise. All fp32.
class RecurrentState final : public SequenceState {
 public:
  struct Layer {
    core::Tensor conv, ssm, ssm_im;
  };
  std::vector<Layer> layers;

  std::unique_ptr<SequenceState> clone() const override;
  void copy_from(const SequenceState& other) override;
  void reset() override;
  int64_t bytes() const override;
  void save(io::GgufWriter& w) const override;
  void load(const io::GgufFile& f) override;
};

// Per layer: keys and values (capacity, Hkv, hd) fp32; rows [0, n_past) are valid. Grows by doubling.
class KvCache final : public SequenceState {
 public:
  KvCache(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim);
  void reserve(int64_t n_tokens);  // capacity >= n_tokens, keeping contents
  core::TensorView k(int64_t layer) const { return k_[layer].view(); }
  core::TensorView v(int64_t layer) const { return v_[layer].view(); }
  int64_t capacity() const { return capacity_; }

  std::unique_ptr<SequenceState> clone() const override;
  void copy_from(const SequenceState& other) override;
  void reset() override { n_past = 0; }
  int64_t bytes() const override;
  void save(io::GgufWriter& w) const override;
  void load(const io::GgufFile& f) override;

 private:
  int64_t n_layers_, n_kv_heads_, head_dim_, capacity_ = 0;
  std::vector<core::Tensor> k_, v_;
};

}  // namespace llamba::models
