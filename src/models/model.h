// The model interface every architecture implements (forward over a batch of sequences, per-sequence state,
// the tensor list), the architecture enum and the registry that builds a model from a GGUF file.
// Thread safety: a Model is immutable after loading; forward() may run concurrently on different states.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "ops/context.h"
#include "io/gguf.h"
#include "models/state.h"

namespace llamba::models {

enum class Arch { kLlama, kLlamba, kMamba2, kGateLoop };
constexpr int kArchCount = 4;
// GGUF `general.architecture` strings.
std::string_view arch_name(Arch a);
std::optional<Arch> arch_from_name(std::string_view s);

struct ModelInfo {
  Arch arch = Arch::kLlama;
  std::string name;
  int64_t n_vocab = 0, d_model = 0, n_layers = 0;
  int64_t context_length = 0;  // 0: unbounded (recurrent models)
  bool recurrent = false;      // constant-size state per sequence
};

// Called with named intermediates: ("hidden", l, (B·T, D)) = residual stream entering layer l (l = L: after the
// last layer, before the final norm), ("mixer_out", l, (B·T, D)) the mixer's (attention's) output before its residual add,
// ("final_hidden", -1, ...) after the final norm; models add their own (see each forward.cpp).
using Observer = std::function<void(std::string_view name, int layer, const core::TensorView& t)>;

struct ForwardOptions {
  bool all_logits = false;              // logits for every position, else only the last of each row
  int64_t logits_from = 0;              // with all_logits: only positions t >= logits_from of each row
                                        // (evaluation skips the head where nothing is scored)
  const Observer* observer = nullptr;
  bool attention_probs = false;         // with an observer, attention models tap ("attn_probs", l, (B, Hq, T, S))
};

// Throws llamba::Error unless `logits` is what forward writes for `batch` rows of T tokens: contiguous f32 on the
// context's device, (B, T − logits_from, V) with all_logits, else (B, V). Models call it before touching any state;
// backward checks dlogits (B, T, V) with it too. `what` names the view in the message.
void check_logits_view(const ops::Context& ctx, const core::TensorView& logits, int64_t batch, int64_t T, int64_t V,
                       const ForwardOptions& opts, const char* what = "[forward] logits");

using TensorVisitor = std::function<void(const std::string& name, const core::TensorView& t)>;

// Parameter gradients by tensor name (f32, the parameter's shape); backward passes accumulate into them.
using GradientMap = std::unordered_map<std::string, core::Tensor>;

// The gradient tensor of parameter `name` (a GGUF name); an internal check that backward and the parameter
// list agree. grad_if: empty (skipped by the op backwards) when the model has no such weight.
core::TensorView grad_of(GradientMap& g, const std::string& name);
inline core::TensorView grad_if(GradientMap& g, const core::TensorView& w, const std::string& name) {
  return w.data ? grad_of(g, name) : core::TensorView{};
}

// What a training forward saved for its backward; each trainable model defines its own.
class ForwardCache {
 public:
  virtual ~ForwardCache() = default;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;
  virtual std::unique_ptr<SequenceState> new_state() const = 0;
  // A fresh state in the memory of ctx's device (on a CPU context, new_state()). The default throws for other
  // devices: this architecture has no GPU path yet.
  virtual std::unique_ptr<SequenceState> new_state(ops::Context& ctx) const;
  // `n` fresh states on ctx's device for a batch decoded together. Recurrent models allocate each layer's tensors
  // of all n as one pool, so that a forward over the n (in this order) updates them in place without per-row
  // copies; the default is n calls of new_state(ctx).
  virtual std::vector<std::unique_ptr<SequenceState>> new_states(ops::Context& ctx, int64_t n) const;
  // Moves every weight into the memory of ctx's device (a copy; the file's mapping is no longer read), after which
  // the model runs on contexts of that device only. Call it once, before any forward. A CPU context changes
  // nothing. The default throws for other devices.
  virtual void place_weights(ops::Context& ctx);
  // Where the weights are (kCpu unless place_weights moved them).
  virtual core::Device weights_device() const { return core::Device::kCpu; }
  // Bytes of state one sequence needs after `n_tokens` tokens (constant for recurrent models).
  virtual int64_t state_bytes(int64_t n_tokens) const = 0;
  // Runs tokens (B, T) row-major; row b continues from *states[b] and updates it. Writes logits
  // (B, T − logits_from, V) when all_logits, else (B, V) for each row's last position: a contiguous f32 view on
  // the context's device, shape checked (llamba::Error). T may be 0 (nothing happens).
  virtual void forward(ops::Context& ctx, std::span<const int32_t> tokens, int64_t batch,
                       std::span<SequenceState* const> states, const core::TensorView& logits,
                       const ForwardOptions& opts = {}) const = 0;
  // Every weight tensor with its GGUF name, in file order.
  virtual void for_each_tensor(const TensorVisitor& visit) const = 0;
  int64_t n_params() const;

  // Training (student architectures): a forward over fresh sequences (B, T) that keeps what backward needs,
  // writing logits (B, T, V); then backward accumulates every parameter's gradient into `grads` from
  // dlogits (B, T, V). The defaults throw: this architecture cannot be trained.
  virtual std::unique_ptr<ForwardCache> forward_train(ops::Context& ctx, std::span<const int32_t> tokens,
                                                      int64_t batch, const core::TensorView& logits) const;
  virtual void backward(ops::Context& ctx, ForwardCache& cache, const core::TensorView& dlogits,
                        GradientMap& grads) const;

  // Per-layer training (MOHAWK stages 1-2, tests): layer l alone, from fresh states, on a residual stream given
  // from outside (e.g. the teacher's hidden state) h_in (B·T, D) -> h_out (B·T, D), keeping what layer_backward
  // needs; layer_backward then adds ∂L/∂h_in into dh_in (B·T, D) from dh_out = ∂L/∂h_out (gradients injected at
  // a hidden state) and accumulates layer l's parameter gradients. The defaults throw.
  virtual std::unique_ptr<ForwardCache> layer_forward(ops::Context& ctx, int64_t l, const core::TensorView& h_in,
                                                      int64_t batch, const core::TensorView& h_out) const;
  virtual void layer_backward(ops::Context& ctx, ForwardCache& cache, const core::TensorView& dh_out,
                              const core::TensorView& dh_in, GradientMap& grads) const;
  // MOHAWK stage 1: layer l's mixer materialized as m (B, H, T, T) from h_in (B·T, D) through the layer's input
  // norm (fresh states), and its backward from dm = ∂L/∂m: dh_in +=, parameter gradients +=. The defaults throw.
  virtual std::unique_ptr<ForwardCache> mixer_matrix_forward(ops::Context& ctx, int64_t l,
                                                             const core::TensorView& h_in, int64_t batch,
                                                             const core::TensorView& m) const;
  virtual void mixer_matrix_backward(ops::Context& ctx, ForwardCache& cache, const core::TensorView& dm,
                                     const core::TensorView& dh_in, GradientMap& grads) const;
};

// `batch` fresh (empty) states of `model`, owned here: for training forwards and evaluations.
struct FreshStates {
  FreshStates(const Model& model, int64_t batch);
  FreshStates(const Model& model, int64_t batch, ops::Context& ctx);  // on ctx's device, pooled (new_states)
  std::vector<std::unique_ptr<SequenceState>> owned;
  std::vector<SequenceState*> ptrs;
};

// Builds the model named by `general.architecture`; throws llamba::Error naming the file, key or tensor on bad
// input. The returned model references `file`'s mapped data: keep `file` alive as long as the model.
std::unique_ptr<Model> load_model(const io::GgufFile& file);

// Writes a randomly initialized `arch` model described by `cfg` (architecture-specific JSON keys, documented in
// each models/<arch>/init.cpp) into `w`. Throws llamba::Error for an architecture that cannot be trained or a
// bad config field.
void write_init_model(Arch arch, const nlohmann::json& cfg, int64_t n_vocab, uint64_t seed, io::GgufWriter& w);

}  // namespace llamba::models
