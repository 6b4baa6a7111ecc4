// The steps the per-layer reference tests (Llamba, Mamba-2, GateLoop against their upstream implementations,
// tools/reference/make_<arch>_fixtures.py) share: convert a fixture checkpoint as `llamba convert` does, run the
// fixture's prompt (B rows) with every tap recorded, compare the taps in forward order naming the first diverging
// layer and tensor, compare the per-layer states, decode token by token against the fixture's logits.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include <memory>

#include "ops/context.h"
#include "ops/memory.h"
#include "io/gguf.h"
#include "io/hf_checkpoint.h"
#include "io/safetensors.h"
#include "models/convert.h"
#include "models/model.h"
#include "models/state.h"
#include "test_util.h"

namespace llamba::test {

// tests/fixtures/<arch>/<name> (an HF checkpoint) converted to GGUF; returns the written file's path.
inline std::string convert_reference_checkpoint(const std::string& arch, const std::string& name) {
  const auto ckpt = io::HfCheckpoint::open(fixture_path(arch + "/" + name));
  io::GgufWriter w;
  models::convert_hf(ckpt, {}, w);
  const std::string out = temp_path(arch + "_ref_" + name + ".gguf").string();
  w.write(out);
  return out;
}

// The prefill taps in forward order: for each layer l, "<tap>.l" for every tap of `per_layer`; then hidden.L,
// final_hidden, logits.
inline std::vector<std::string> forward_tap_order(int64_t n_layers, std::initializer_list<const char*> per_layer) {
  std::vector<std::string> order;
  for (int64_t l = 0; l < n_layers; ++l)
    for (const char* t : per_layer) order.push_back(std::string(t) + "." + std::to_string(l));
  order.push_back("hidden." + std::to_string(n_layers));
  order.push_back("final_hidden");
  order.push_back("logits");
  return order;
}

// The error of tensor `key` (a tap, or a state "<prefix>.<layer>.<part>") against the reference's.
using TapError = std::function<double(const std::string& key, const std::vector<float>& got, const core::Tensor& want)>;

// Max |got - want| / max |want|.
inline double rel_tap_error(const std::string&, const std::vector<float>& got, const core::Tensor& want) {
  return rel_max_error(got.data(), want.f32(), want.numel());
}

// One model against tests/fixtures/<arch>/<name>/reference.safetensors: input_ids (B, T) and its taps, states
// "state.<l>.<part>", decode_ids (B, S), decode_logits, "decode_state.<l>.<part>". Every check is fatal on the
// first mismatch, as a failure downstream of it says nothing new: call them under ASSERT_NO_FATAL_FAILURE.
// Each failure names the fixture and the layer and tensor (or decode step and row); tol is relative to the
// tensor's max |ref|.
class ReferenceRun {
 public:
  // On `device_ctx` when given (the model's weights placed there), else on a 2-thread CPU context.
  ReferenceRun(const models::Model& model, const std::string& arch, const std::string& name, double tol,
               ops::Context* device_ctx = nullptr)
      : own_ctx(device_ctx ? nullptr : std::make_unique<ops::Context>(2)),
        ctx(device_ctx ? *device_ctx : *own_ctx),
        model(model),
        arch(arch),
        name(name),
        tol(tol),
        ref(io::SafetensorsFile::open(fixture_path(arch + "/" + name + "/reference.safetensors"))),
        B(ref.tensor("input_ids").size(0)),
        T(ref.tensor("input_ids").size(1)),
        V(model.info().n_vocab),
        L(model.info().n_layers),
        states(model, B, ctx) {}

  // Runs input_ids from fresh states with every tap recorded ("<tap>.<layer>", or "<tap>" outside layers) and
  // the logits (B, T, V) as tap "logits".
  void prefill() {
    ASSERT_EQ(ref.metadata().at("fixture_format"), "1")
        << "---> HINT: regenerate with tools/reference/make_" << arch << "_fixtures.py";
    ASSERT_EQ(ref.tensor("logits").size(2), V) << "padded vocabulary";
    models::Observer obs = [&](std::string_view n, int layer, const core::TensorView& t) {
      const std::string key = layer >= 0 ? std::string(n) + "." + std::to_string(layer) : std::string(n);
      const core::Tensor host = ops::to_host(ctx, t);
      taps[key].assign(host.f32(), host.f32() + host.numel());
    };
    const auto ids64 = ref.to_i64("input_ids");
    const std::vector<int32_t> ids(ids64.begin(), ids64.end());
    const core::Tensor logits = ops::zeros(ctx, core::DType::kF32, {B, T, V});
    model.forward(ctx, ids, B, states.ptrs, logits, {.all_logits = true, .observer = &obs});
    const core::Tensor host = ops::to_host(ctx, logits);
    taps["logits"].assign(host.f32(), host.f32() + host.numel());
  }

  // The recorded taps against the reference's, in `order`: the first failure names the first diverging tensor.
  void check_taps_in_order(const std::vector<std::string>& order, const TapError& error = rel_tap_error) {
    for (const auto& key : order) {
      const core::Tensor want = ref.to_f32(key);
      const auto& got = taps[key];
      ASSERT_EQ((int64_t)got.size(), want.numel()) << name << ": tap " << key << " missing or of another size";
      const double err = error(key, got, want);
      ASSERT_LE(err, tol) << name << ": first diverging tensor " << key << " (relative error " << err << ")";
      if (err > worst_tap) worst_tap = err, worst_tap_key = key;
      if (key == "logits") logits_error = err;
    }
  }

  // Each layer's state parts ("conv", "ssm", "ssm_im"; rows of the batch concatenated) against the reference's
  // "<prefix>.<l>.<part>".
  void check_states(const std::string& prefix, std::initializer_list<const char*> parts,
                    const TapError& error = rel_tap_error) {
    for (int64_t l = 0; l < L; ++l)
      for (const char* part : parts) {
        const std::string key = prefix + "." + std::to_string(l) + "." + part;
        const core::Tensor want = ref.to_f32(key);
        std::vector<float> got;
        for (int64_t b = 0; b < B; ++b) {
          const auto& layer = static_cast<models::RecurrentState*>(states.ptrs[b])->layers[l];
          const std::string p = part;
          const core::Tensor& dev = p == "conv" ? layer.conv : p == "ssm" ? layer.ssm : layer.ssm_im;
          ASSERT_FALSE(dev.empty()) << name << ": state " << key << " is empty";
          const core::Tensor t = ops::to_host(ctx, dev);
          got.insert(got.end(), t.f32(), t.f32() + t.numel());
        }
        ASSERT_EQ((int64_t)got.size(), want.numel()) << name << ": state " << key;
        const double err = error(key, got, want);
        ASSERT_LE(err, tol) << name << ": state " << key << " (relative error " << err << ")";
        worst_state = std::max(worst_state, err);
      }
  }

  // decode_ids one token per step for every row, through Model::forward with T = 1 (the model's decode form),
  // against decode_logits.
  void check_decode() {
    const auto dec64 = ref.to_i64("decode_ids");
    const int64_t S = ref.tensor("decode_ids").size(1);
    const core::Tensor want = ref.to_f32("decode_logits");
    const core::Tensor logits = ops::zeros(ctx, core::DType::kF32, {B, V});
    for (int64_t s = 0; s < S; ++s) {
      std::vector<int32_t> tok(B);
      for (int64_t b = 0; b < B; ++b) tok[b] = (int32_t)dec64[b * S + s];
      model.forward(ctx, tok, B, states.ptrs, logits, {});
      const core::Tensor step = ops::to_host(ctx, logits);
      for (int64_t b = 0; b < B; ++b) {
        const double err = rel_max_error(step.f32() + b * V, want.f32() + (b * S + s) * V, V);
        ASSERT_LE(err, tol) << name << ": decode step " << s << " row " << b;
        worst_decode = std::max(worst_decode, err);
      }
    }
  }

  void print_summary() const {
    std::printf("%s: logits %.2g, worst tap %s %.2g, states %.2g, decode logits %.2g\n", name.c_str(), logits_error,
                worst_tap_key.c_str(), worst_tap, worst_state, worst_decode);
  }

  std::unique_ptr<ops::Context> own_ctx;
  ops::Context& ctx;
  const models::Model& model;
  const std::string arch, name;
  const double tol;
  const io::SafetensorsFile ref;
  const int64_t B, T, V, L;
  models::FreshStates states;  // the B rows' states, carried from prefill through decode
  std::map<std::string, std::vector<float>> taps;
  double logits_error = 0, worst_tap = 0, worst_state = 0, worst_decode = 0;
  std::string worst_tap_key;
};

}  // namespace llamba::test
