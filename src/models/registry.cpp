// Architecture registry: `general.architecture` string -> model factory. A new model = one folder + one line here.
#include <array>

#include "models/gateloop/gateloop.h"
#include "models/llama/llama.h"
#include "models/llamba/llamba.h"
#include "models/mamba2/mamba2.h"
#include "models/model.h"

namespace llamba::models {

namespace {
struct Entry {
  Arch arch;
  std::string_view name;
  std::unique_ptr<Model> (*make)(const io::GgufFile&);
  void (*init)(const nlohmann::json&, int64_t, uint64_t, io::GgufWriter&);  // null: not trainable
};

template <class M>
std::unique_ptr<Model> make(const io::GgufFile& f) {
  return std::make_unique<M>(f);
}

constexpr std::array<Entry, 4> kRegistry = {{
    {Arch::kLlama, "llama", &make<llama::LlamaModel>, nullptr},
    {Arch::kLlamba, "llamba", &make<llamba::LlambaModel>, &llamba::write_init},
    {Arch::kMamba2, "mamba2", &make<mamba2::Mamba2Model>, &mamba2::write_init},
    {Arch::kGateLoop, "gateloop", &make<gateloop::GateLoopModel>, &gateloop::write_init},
}};
static_assert(kRegistry.size() == kArchCount, "one registry entry per Arch");
}  // namespace

std::string_view arch_name(Arch a) { return kRegistry[(size_t)a].name; }

std::optional<Arch> arch_from_name(std::string_view s) {
  for (const Entry& e : kRegistry)
    if (e.name == s) return e.arch;
  return std::nullopt;
}

std::unique_ptr<Model> load_model(const io::GgufFile& file) {
  const std::string arch = file.get_string("general.architecture");
  const auto a = arch_from_name(arch);
  std::string known;
  for (const Entry& e : kRegistry)
    if (e.make) known += (known.empty() ? "" : ", ") + std::string(e.name);
  LLAMBA_ENSURE(a.has_value() && kRegistry[(size_t)*a].make,
                "{}: unknown or unsupported architecture \"{}\" (general.architecture); this build runs: {}",
                file.path(), arch, known);
  return kRegistry[(size_t)*a].make(file);
}

void write_init_model(Arch arch, const nlohmann::json& cfg, int64_t n_vocab, uint64_t seed, io::GgufWriter& w) {
  const Entry& e = kRegistry[(size_t)arch];
  LLAMBA_ENSURE(e.init != nullptr, "architecture {} cannot be trained by this build", e.name);
  e.init(cfg, n_vocab, seed, w);
}

std::unique_ptr<ForwardCache> Model::forward_train(ops::Context&, std::span<const int32_t>, int64_t,
                                                   const core::TensorView&) const {
  LLAMBA_THROW("architecture {} cannot be trained", arch_name(info().arch));
}

void Model::backward(ops::Context&, ForwardCache&, const core::TensorView&, GradientMap&) const {
  LLAMBA_THROW("architecture {} cannot be trained", arch_name(info().arch));
}

std::unique_ptr<ForwardCache> Model::layer_forward(ops::Context&, int64_t, const core::TensorView&, int64_t,
                                                   const core::TensorView&) const {
  LLAMBA_THROW("architecture {} has no per-layer training forward", arch_name(info().arch));
}

void Model::layer_backward(ops::Context&, ForwardCache&, const core::TensorView&, const core::TensorView&,
                           GradientMap&) const {
  LLAMBA_THROW("architecture {} has no per-layer training backward", arch_name(info().arch));
}

std::unique_ptr<ForwardCache> Model::mixer_matrix_forward(ops::Context&, int64_t, const core::TensorView&, int64_t,
                                                          const core::TensorView&) const {
  LLAMBA_THROW("architecture {} has no materialized mixer matrix", arch_name(info().arch));
}

void Model::mixer_matrix_backward(ops::Context&, ForwardCache&, const core::TensorView&, const core::TensorView&,
                                  GradientMap&) const {
  LLAMBA_THROW("architecture {} has no materialized mixer matrix", arch_name(info().arch));
}

void check_logits_view(const ops::Context& ctx, const core::TensorView& logits, int64_t batch, int64_t T, int64_t V,
                       const ForwardOptions& opts, const char* what) {
  const int64_t rows = std::max<int64_t>(0, T - std::max<int64_t>(0, opts.logits_from));
  const core::Shape want = opts.all_logits ? core::Shape{batch, rows, V} : core::Shape{batch, V};
  LLAMBA_ENSURE(logits.shape == want && logits.dtype == core::DType::kF32 && logits.is_contiguous() &&
                    logits.device == ctx.device(),
                "{} must be contiguous f32 {} on {} (batch, {}vocab), got {} {} on {}", what, want.str(),
                core::device_name(ctx.device()), opts.all_logits ? "positions, " : "", logits.shape.str(),
                core::dtype_name(logits.dtype), core::device_name(logits.device));
}

core::TensorView grad_of(GradientMap& g, const std::string& name) {
  auto it = g.find(name);
  LLAMBA_CHECK(it != g.end(), "[backward] no gradient tensor for {}", name);
  return it->second.view();
}

FreshStates::FreshStates(const Model& model, int64_t batch) {
  for (int64_t b = 0; b < batch; ++b) {
    owned.push_back(model.new_state());
    ptrs.push_back(owned.back().get());
  }
}

FreshStates::FreshStates(const Model& model, int64_t batch, ops::Context& ctx) : owned(model.new_states(ctx, batch)) {
  for (const auto& s : owned) ptrs.push_back(s.get());
}

std::vector<std::unique_ptr<SequenceState>> Model::new_states(ops::Context& ctx, int64_t n) const {
  std::vector<std::unique_ptr<SequenceState>> out;
  for (int64_t b = 0; b < n; ++b) out.push_back(new_state(ctx));
  return out;
}

std::unique_ptr<SequenceState> Model::new_state(ops::Context& ctx) const {
  LLAMBA_ENSURE(ctx.device() == core::Device::kCpu, "[{} new_state] no {} path for this architecture yet",
                arch_name(info().arch), core::device_name(ctx.device()));
  return new_state();
}

void Model::place_weights(ops::Context& ctx) {
  LLAMBA_ENSURE(ctx.device() == core::Device::kCpu, "[{} place_weights] no {} path for this architecture yet",
                arch_name(info().arch), core::device_name(ctx.device()));
}

int64_t Model::n_params() const {
  int64_t n = 0;
  for_each_tensor([&](const std::string&, const core::TensorView& t) { n += t.numel(); });
  return n;
}

}  // namespace llamba::models
