// DistillConfig parsing: one table of keys per level, read and written through the same accessors.
#include "distill/config.h"

#include <cmath>
#include <functional>
#include <limits>
#include <type_traits>

#include "core/check.h"
#include "io/json_depth.h"
#include "io/json_int.h"

namespace llamba::distill {

using json = nlohmann::json;

namespace {

template <class C>
struct Field {
  const char* key;
  int only_stage;  // 0: every stage (stage fields only)
  std::function<void(const json&, C&)> read;
  std::function<json(const C&)> write;
};

// `v` as T; integers must be JSON integers T holds exactly (io/json_int.h).
template <class T>
T read_as(const json& v, const char* key) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    LLAMBA_ENSURE(io::json_integer_fits<T>(v), "\"{}\" must be an integer in [{}, {}], got {}", key,
                  std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), v.dump());
  return v.get<T>();
}

// A field read and written through `get` (a reference to the member).
template <class T, class C, class Get>
Field<C> field(const char* key, Get get, int only_stage = 0) {
  return {key, only_stage, [get, key](const json& v, C& c) { get(c) = read_as<T>(v, key); },
          [get](const C& c) { return json(get(const_cast<C&>(c))); }};
}

const std::vector<Field<StageConfig>>& stage_fields() {
  using S = StageConfig;
  static const std::vector<Field<S>> f = {
      field<int, S>("stage", [](S& c) -> int& { return c.stage; }),
      field<int64_t, S>("tokens", [](S& c) -> int64_t& { return c.tokens; }),
      field<int64_t, S>("batch", [](S& c) -> int64_t& { return c.batch; }),
      field<int64_t, S>("seq_len", [](S& c) -> int64_t& { return c.seq_len; }),
      field<int64_t, S>("grad_accum", [](S& c) -> int64_t& { return c.grad_accum; }),
      field<double, S>("lr", [](S& c) -> double& { return c.lr; }),
      field<double, S>("min_lr", [](S& c) -> double& { return c.min_lr; }),
      field<double, S>("warmup_fraction", [](S& c) -> double& { return c.warmup_fraction; }),
      field<double, S>("decay_fraction", [](S& c) -> double& { return c.decay_fraction; }),
      field<std::string, S>("decay_shape", [](S& c) -> std::string& { return c.decay_shape; }),
      field<double, S>("beta1", [](S& c) -> double& { return c.adamw.beta1; }),
      field<double, S>("beta2", [](S& c) -> double& { return c.adamw.beta2; }),
      field<double, S>("eps", [](S& c) -> double& { return c.adamw.eps; }),
      field<double, S>("weight_decay", [](S& c) -> double& { return c.adamw.weight_decay; }),
      field<double, S>("clip", [](S& c) -> double& { return c.clip; }),
      field<int64_t, S>("eval_interval", [](S& c) -> int64_t& { return c.eval_interval; }),
      field<int64_t, S>("eval_batches", [](S& c) -> int64_t& { return c.eval_batches; }),
      field<bool, S>(
          "freeze_mlp", [](S& c) -> bool& { return c.freeze_mlp; }, 2),
      {"last_target", 2,
       [](const json& v, S& c) {
         const auto s = v.get<std::string>();
         LLAMBA_ENSURE(s == "final_normed" || s == "residual",
                       "\"last_target\" must be \"final_normed\" or \"residual\", got \"{}\"", s);
         c.last_target = s == "residual" ? LastTarget::kResidual : LastTarget::kFinalNormed;
       },
       [](const S& c) { return json(c.last_target == LastTarget::kResidual ? "residual" : "final_normed"); }},
      field<double, S>(
          "tau", [](S& c) -> double& { return c.tau; }, 3),
      field<double, S>(
          "lm_weight", [](S& c) -> double& { return c.lm_weight; }, 3),
  };
  return f;
}

const std::vector<Field<DistillConfig>>& run_fields() {
  using D = DistillConfig;
  static const std::vector<Field<D>> f = {
      {"init", 0,
       [](const json& v, D& c) {
         const auto s = v.get<std::string>();
         c.init = init_from_name(s);
       },
       [](const D& c) { return json(init_name(c.init)); }},
      field<int64_t, D>("d_state", [](D& c) -> int64_t& { return c.d_state; }),
      field<int64_t, D>("chunk_size", [](D& c) -> int64_t& { return c.chunk_size; }),
      field<uint64_t, D>("seed", [](D& c) -> uint64_t& { return c.seed; }),
      field<int64_t, D>("checkpoint_interval", [](D& c) -> int64_t& { return c.checkpoint_interval; }),
      field<int64_t, D>("log_interval", [](D& c) -> int64_t& { return c.log_interval; }),
  };
  return f;
}

// Reads every key of object `j` through `fields` (unknown keys throw); `where` prefixes messages.
template <class C>
void read_fields(const json& j, const std::vector<Field<C>>& fields, C& c, const std::string& where, int stage,
                 std::initializer_list<const char*> also_known = {}) {
  LLAMBA_ENSURE(j.is_object(), "{} must be a JSON object, got {}", where, j.dump());
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    bool extra = false;
    for (const char* a : also_known) extra |= k == a;
    if (extra) continue;
    const Field<C>* f = nullptr;
    for (const auto& x : fields)
      if (k == x.key) f = &x;
    LLAMBA_ENSURE(f, "{}: unknown key \"{}\"", where, k);
    LLAMBA_ENSURE(f->only_stage == 0 || f->only_stage == stage, "{}: \"{}\" applies to stage {} only", where, k,
                  f->only_stage);
    try {
      f->read(it.value(), c);
    } catch (const json::exception&) {
      LLAMBA_THROW("{}: \"{}\" has the wrong type: {}", where, k, it.value().dump());
    } catch (const Error& e) {
      LLAMBA_THROW("{}: {}", where, e.what());
    }
  }
}

template <class C>
json write_fields(const std::vector<Field<C>>& fields, const C& c, int stage) {
  json j = json::object();
  for (const auto& f : fields)
    if (f.only_stage == 0 || f.only_stage == stage) j[f.key] = f.write(c);
  return j;
}

void check_stage(const StageConfig& s, const std::string& where) {
  LLAMBA_ENSURE(s.tokens > 0, "{}: \"tokens\" must be positive, got {}", where, s.tokens);
  LLAMBA_ENSURE(s.batch >= 1 && s.seq_len >= 1 && s.grad_accum >= 1,
                "{}: \"batch\", \"seq_len\", \"grad_accum\" must be >= 1 (got {}, {}, {})", where, s.batch, s.seq_len,
                s.grad_accum);
  LLAMBA_ENSURE(s.lr > 0 && s.min_lr >= 0 && s.min_lr <= s.lr, "{}: need lr > 0 and 0 <= min_lr <= lr", where);
  LLAMBA_ENSURE(s.warmup_fraction >= 0 && s.decay_fraction >= 0 && s.warmup_fraction + s.decay_fraction <= 1,
                "{}: \"warmup_fraction\" and \"decay_fraction\" must be >= 0 with a sum <= 1", where);
  LLAMBA_ENSURE(s.tau > 0, "{}: \"tau\" must be positive, got {}", where, s.tau);
  LLAMBA_ENSURE(s.lm_weight >= 0, "{}: \"lm_weight\" must be >= 0, got {}", where, s.lm_weight);
  LLAMBA_ENSURE(s.eval_interval >= 0 && s.eval_batches >= 1, "{}: \"eval_interval\" >= 0, \"eval_batches\" >= 1",
                where);
}

StageConfig stage_defaults(int stage) {
  StageConfig s;
  s.stage = stage;
  if (stage == 3) s.lr = 5e-5;  // Llamba-1B/3B stage 3
  return s;
}

}  // namespace

const char* init_name(StudentInit i) {
  switch (i) {
    case StudentInit::kAttention:
      return "attention";
    case StudentInit::kRandom:
      return "random";
    case StudentInit::kMohawk:
      break;
  }
  return "mohawk";
}

StudentInit init_from_name(const std::string& s) {
  for (StudentInit i : {StudentInit::kMohawk, StudentInit::kAttention, StudentInit::kRandom})
    if (s == init_name(i)) return i;
  LLAMBA_THROW("\"init\" must be \"mohawk\", \"attention\" or \"random\", got \"{}\"", s);
}

int64_t StageConfig::steps() const {
  const int64_t per = batch * seq_len * grad_accum;
  return (tokens + per - 1) / per;
}

train::TrainConfig StageConfig::train_config(uint64_t seed, int64_t index, int64_t checkpoint_interval,
                                             int64_t log_interval) const {
  train::TrainConfig t;
  t.arch = "llamba";
  t.steps = steps();
  t.batch = batch;
  t.seq_len = seq_len;
  t.grad_accum = grad_accum;
  t.schedule.kind = "wsd";
  t.schedule.lr = lr;
  t.schedule.min_lr = min_lr;
  t.schedule.warmup_steps = (int64_t)std::llround(warmup_fraction * (double)t.steps);
  t.schedule.decay_fraction = decay_fraction;
  t.schedule.decay_shape = decay_shape;
  t.schedule.total_steps = std::max<int64_t>(1, t.steps);
  t.adamw = adamw;
  t.clip = clip;
  t.seed = seed + (uint64_t)index;
  t.eval_interval = eval_interval;
  t.eval_batches = eval_batches;
  t.checkpoint_interval = checkpoint_interval;
  t.log_interval = log_interval;
  train::check_schedule(t.schedule);
  return t;
}

json StageConfig::to_json() const { return write_fields(stage_fields(), *this, stage); }

DistillConfig DistillConfig::from_json(const json& j) {
  LLAMBA_ENSURE(io::json_depth(j) <= io::kMaxJsonDepth, "distill config: nested deeper than {} levels",
                io::kMaxJsonDepth);
  DistillConfig c;
  read_fields(j, run_fields(), c, "distill config", 0, {"stages", "tokens"});
  LLAMBA_ENSURE(c.d_state >= 1 && c.chunk_size >= 1, "distill config: \"d_state\" and \"chunk_size\" must be >= 1");
  LLAMBA_ENSURE(c.checkpoint_interval >= 0 && c.log_interval >= 1,
                "distill config: \"checkpoint_interval\" >= 0 and \"log_interval\" >= 1");
  if (j.contains("stages")) {
    LLAMBA_ENSURE(!j.contains("tokens"), "distill config: give \"tokens\" per stage or a total without \"stages\"");
    const json& st = j["stages"];
    LLAMBA_ENSURE(st.is_array() && !st.empty(), "distill config: \"stages\" must be a non-empty array");
    for (size_t i = 0; i < st.size(); ++i) {
      const std::string where = fmt::format("distill config: stages[{}]", i);
      LLAMBA_ENSURE(st[i].is_object() && st[i].contains("stage") && st[i]["stage"].is_number_integer(),
                    "{}: needs \"stage\": 1, 2 or 3", where);
      const int n = st[i]["stage"].get<int>();
      LLAMBA_ENSURE(n >= 1 && n <= 3, "{}: \"stage\" {} is not a MOHAWK stage (1, 2 or 3)", where, n);
      StageConfig s = stage_defaults(n);
      read_fields(st[i], stage_fields(), s, where, n);
      check_stage(s, where);
      c.stages.push_back(s);
    }
  } else {
    LLAMBA_ENSURE(j.contains("tokens") && j["tokens"].is_number_integer(),
                  "distill config: give \"stages\" or a total \"tokens\" budget");
    const int64_t total = j["tokens"].get<int64_t>();
    LLAMBA_ENSURE(total > 0, "distill config: \"tokens\" must be positive, got {}", total);
    const double share[3] = {0.3 / 8.0, 2.7 / 8.0, 5.0 / 8.0};  // Llamba-1B
    for (int n = 1; n <= 3; ++n) {
      StageConfig s = stage_defaults(n);
      s.tokens = std::max<int64_t>(1, (int64_t)std::llround(share[n - 1] * (double)total));
      check_stage(s, fmt::format("distill config: stage {}", n));
      c.stages.push_back(s);
    }
  }
  return c;
}

json DistillConfig::to_json() const {
  json j = write_fields(run_fields(), *this, 0);
  j["stages"] = json::array();
  for (const auto& s : stages) j["stages"].push_back(s.to_json());
  return j;
}

}  // namespace llamba::distill
