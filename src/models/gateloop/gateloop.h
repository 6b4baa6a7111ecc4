// GateLoop (docs/models.md §"GateLoop"; lucidrains gateloop-transformer `Transformer`): pre-norm blocks
// x += TimeMix(RMSNorm(x)); x += FFN(RMSNorm(x)), final RMSNorm, head. Config (with the transition variants the
// training experiment compares), weights, the Model and the mixer forms. GGUF keys: docs/gguf-keys.md.
// Thread safety: a GateLoopModel is immutable after loading; forwards on distinct states may run concurrently
// (each with its own ops::Context).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "models/blocks/mlp.h"
#include "models/blocks/recurrent_lm.h"
#include "models/model.h"
#include "ops/gated_recurrence.h"

namespace llamba::models::gateloop {

// How the state transition a_t (one per head, or one per key channel) is computed from the normed input u_t.
// z = u W_a + b_a has one or two components per gate, [first | second] halves of gl_a's rows:
enum class Transition {
  kPolar,     // lucidrains: z = re + i·im, a = sigmoid(|z|)·e^{i·arg z}; complex = false: z = re only (their
              // ablate_complex), a = sigmoid(|re|)·sign(re)
  kMagPhase,  // a = sigmoid(m)·e^{iθ}, z = [m | θ]; complex = false is the same as kReal
  kReal,      // a = sigmoid(m), z = [m]
  kFixed,     // input-independent: z = b_a alone (no gl_a.weight), then the kMagPhase formula
};
enum class FfnKind { kGelu, kSwiglu };

struct Config {
  int64_t n_vocab = 0, d_model = 0, n_layers = 0, ffn_dim = 0;
  int64_t d_inner = 0, n_heads = 0, head_dim = 0;  // head_dim P = key dim N = d_inner / n_heads
  Transition transition = Transition::kPolar;
  bool complex = true;
  ops::GateKind gate_kind = ops::GateKind::kScalar;
  bool output_gate = true;  // out ⊙ silu(u W_g)
  bool sub_norm = false;    // LayerNorm(d_inner) on the recurrence output, before the gate
  bool out_proj = true;     // false: identity (needs d_inner == d_model)
  FfnKind ffn = FfnKind::kGelu;
  bool ffn_bias = true;
  double norm_eps = 1e-5;      // every RMSNorm (block and final)
  double sub_norm_eps = 1e-5;  // the sub-LN
  int64_t chunk_size = 64;     // prefill chunk: a speed knob, any value gives the same result
  // Training only: the backward scales the gradient into the transition pre-activation z (and so into gl_a and,
  // through it, into the block input) by this factor. lucidrains' frac_gradient_state_transition (0.9 there:
  // a = 0.9·a + 0.1·stopgrad(a), "alternative to a lowered learning rate"); 1 (plain gradient) for our training.
  double transition_grad_scale = 1.0;
  // Training only: how forward_train and backward run the recurrence (ops::gated_recurrence kRecurrent or
  // kChunked with chunk_size; the same function either way, tested). Recurrent is the default: on the CPU it
  // measured 1.1-3.2x faster per training step for every head size tried (P = 1..64, docs/benchmarks.md);
  // chunked is there for matmul-friendly hardware.
  ops::RecurrenceMode train_recurrence = ops::RecurrenceMode::kRecurrent;

  int64_t n_gates() const { return gate_kind == ops::GateKind::kScalar ? n_heads : d_inner; }  // Hg
  // Two components per gate (re/im, or magnitude/phase)?
  bool two_components() const { return complex && transition != Transition::kReal; }
  int64_t a_rows() const { return (two_components() ? 2 : 1) * n_gates(); }
  // Complex gates (a phase, so a complex state)? polar with complex = false still has phase 0 or π.
  bool has_phase() const { return transition == Transition::kPolar || two_components(); }
  // Per layer SSM (H, P, N = P), and its imaginary part with phase; no conv.
  RecurrentStateShape state_shape() const { return {n_layers, 0, 0, n_heads, head_dim, head_dim, has_phase()}; }

  static Config from_gguf(const io::GgufFile& f);
  // Writes every gateloop.* key (n_vocab comes from token_embd).
  void to_gguf(io::GgufWriter& w) const;
};

const char* transition_name(Transition t);

struct LayerWeights {
  core::TensorView attn_norm;             // (D)
  core::TensorView q, k, v;               // (d_inner, D) each
  core::TensorView a_w, a_b;              // (A, D), (A) with A = a_rows(); a_w null for kFixed, a_b optional
  core::TensorView sub_norm_w, sub_norm_b;  // (d_inner) when sub_norm
  core::TensorView g;                     // (d_inner, D) when output_gate
  core::TensorView out;                   // (D, d_inner) when out_proj
  core::TensorView ffn_norm;              // (D)
  core::TensorView ffn_gate;              // (F, D) swiglu only
  core::TensorView ffn_up, ffn_up_b;      // (F, D), (F) when ffn_bias
  core::TensorView ffn_down, ffn_down_b;  // (D, F), (D) when ffn_bias
};

struct Weights {
  core::TensorView token_embd;   // (V, D)
  std::vector<LayerWeights> layers;
  core::TensorView output_norm;  // (D)
  core::TensorView output;       // (V, D); null when tied

  static Weights from_gguf(const io::GgufFile& f, const Config& c);
  void for_each(const TensorVisitor& visit) const;
};

// How the recurrence runs over a sequence; all forms give the same result (tested).
enum class MixerForm { kChunked, kRecurrent, kQuadratic, kScan, kStep /* token by token, the decode op */ };

// The named intermediates of one layer's time mixing (B·T rows), kept so a backward can sit beside the forward.
struct MixerActs {
  core::Tensor q, k, v;         // (B·T, d_inner) each = (B, T, H, P)
  core::Tensor z;               // (B·T, A) transition pre-activation (for kFixed: the bias broadcast)
  core::Tensor log_decay;       // (B·T, Hg) = (B, T, H) or (B, T, H, N); log|a| <= 0
  core::Tensor phase;           // (B·T, Hg) arg a; empty without phase
  core::Tensor y;               // (B·T, d_inner) Re(q · h), merged heads
  core::Tensor y_norm;          // (B·T, d_inner) after the sub-LN (empty without)
  core::Tensor gate;            // (B·T, d_inner) u W_g before silu (empty without)
  core::Tensor gated;           // (B·T, d_inner) input of the out projection
};

// What a training forward keeps for the backward (M = B·T rows).
struct FfnActs {
  core::Tensor pre, act;  // gelu: (M, F) u W_up + b_up and gelu of it, the down projection's input
  MlpActs mlp;            // swiglu: the shared block's activations
};
struct LayerActs {
  core::Tensor h_in, u1, h_mid, u2;  // (M, D): residual in, attn-normed, residual after the mixer, ffn-normed
  MixerActs mix;
  FfnActs ffn;
};
using GateLoopCache = TrainingCache<LayerActs>;

// Config and weights, the entry points, the embedding, the head and the state come from RecurrentLanguageModel;
// the layers from block_forward (forward.cpp) and block_backward (backward.cpp).
// Training (backward.cpp, backward_mixer.cpp): forward_train from zero states, then the backward accumulating every
// parameter's gradient under its GGUF name.
class GateLoopModel final : public RecurrentLanguageModel<Config, Weights, LayerActs, MixerForm> {
 public:
  explicit GateLoopModel(const io::GgufFile& f) : RecurrentLanguageModel(f, Arch::kGateLoop) {}

  // Time mixing of layer l on normed input u (B·T, D) -> out (B·T, D), continuing and updating each row's
  // state; fills `acts` and reports its taps to `obs` (may be null).
  void mixer_forward(ops::Context& ctx, int64_t l, const core::TensorView& u, int64_t batch,
                     std::span<RecurrentState* const> states, const core::TensorView& out, MixerForm form,
                     int64_t chunk, MixerActs& acts, const Observer* obs) const;

 private:
  void block_forward(ops::Context& ctx, int64_t l, ResidualStream& s, int64_t batch,
                     std::span<RecurrentState* const> states, const ForwardOptions& opts, MixerForm form,
                     int64_t chunk, LayerActs* acts) const override;
  void block_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch, ResidualGrad& g,
                      GradientMap& grads) const override;
  MixerForm decode_form() const override { return MixerForm::kStep; }  // the decode op, gated_recurrence_step
  // Config::train_recurrence picks the training forward's (and so the backward's) recurrence.
  MixerForm train_form() const override {
    return c_.train_recurrence == ops::RecurrenceMode::kChunked ? MixerForm::kChunked : MixerForm::kRecurrent;
  }
  void transition(ops::Context& ctx, int64_t l, const core::TensorView& u, MixerActs& acts) const;
  // FFN of layer l on normed u (B·T, D) -> out (B·T, D); with `keep`, its activations are stored there.
  void ffn_forward(ops::Context& ctx, int64_t l, const core::TensorView& u, const core::TensorView& out,
                   FfnActs* keep = nullptr) const;
  // Backward pieces: dout (M, D) = ∂L/∂(sub-block output) flows in; du (M, D) += ∂L/∂(normed input).
  void ffn_backward(ops::Context& ctx, int64_t l, const LayerActs& a, const core::TensorView& dout,
                    const core::TensorView& du, GradientMap& grads) const;
  void mixer_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch,
                      const core::TensorView& dout, const core::TensorView& du, GradientMap& grads) const;
};

// Random-initialized GateLoop weights for `c` (c.n_vocab rows of embedding) added to `w` with every key, so
// `llamba train --arch gateloop` can start from a file. Init follows lucidrains where it matters (init.cpp).
// `tied`: no output.weight (the head reuses token_embd).
void write_random_init(const Config& c, uint64_t seed, io::GgufWriter& w, bool tied = false);
// The same from a `llamba train --config` JSON object (keys in init.cpp); the registry's init signature.
void write_init(const nlohmann::json& cfg, int64_t n_vocab, uint64_t seed, io::GgufWriter& w);

}  // namespace llamba::models::gateloop
