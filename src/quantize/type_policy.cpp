// llama-quantize's tensor type rules (see type_policy.h), for the file types llamba writes.
#include "quantize/type_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

#include "core/check.h"
#include "quant/quant.h"

namespace llamba::quantize {

using core::DType;

namespace {

constexpr std::array<FileTypeInfo, 13> kFileTypes = {{
    {FileType::kF32, "F32", 0, DType::kF32},
    {FileType::kF16, "F16", 1, DType::kF16},
    {FileType::kBF16, "BF16", 32, DType::kBF16},
    {FileType::kQ8_0, "Q8_0", 7, DType::kQ8_0},
    {FileType::kQ4_0, "Q4_0", 2, DType::kQ4_0},
    {FileType::kQ4_1, "Q4_1", 3, DType::kQ4_1},
    {FileType::kQ5_0, "Q5_0", 8, DType::kQ5_0},
    {FileType::kQ5_1, "Q5_1", 9, DType::kQ5_1},
    {FileType::kQ4_K_S, "Q4_K_S", 14, DType::kQ4_K},
    {FileType::kQ4_K_M, "Q4_K_M", 15, DType::kQ4_K},
    {FileType::kQ5_K_S, "Q5_K_S", 16, DType::kQ5_K},
    {FileType::kQ5_K_M, "Q5_K_M", 17, DType::kQ5_K},
    {FileType::kQ6_K, "Q6_K", 18, DType::kQ6_K},
}};

// llama.cpp's broad tensor categories (tensor_get_category), in its order of tests.
enum class Category { kTokenEmbd, kAttnQ, kAttnV, kAttnK, kAttnQkv, kAttnKvB, kAttnOut, kFfnUp, kFfnGate, kFfnDown,
                      kOutput, kOther };

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

Category category_of(const std::string& n) {
  if (n == "output.weight") return Category::kOutput;
  if (n == "token_embd.weight" || n == "per_layer_token_embd.weight") return Category::kTokenEmbd;
  if (contains(n, "attn_qkv.weight")) return Category::kAttnQkv;
  if (contains(n, "attn_kv_b.weight")) return Category::kAttnKvB;
  if (contains(n, "attn_v.weight")) return Category::kAttnV;
  if (contains(n, "attn_k.weight")) return Category::kAttnK;
  if (contains(n, "attn_q.weight")) return Category::kAttnQ;
  if (contains(n, "attn_output.weight")) return Category::kAttnOut;
  if (contains(n, "ffn_up")) return Category::kFfnUp;
  if (contains(n, "ffn_gate")) return Category::kFfnGate;
  if (contains(n, "ffn_down")) return Category::kFfnDown;
  return Category::kOther;
}

bool is_attn_v_like(Category c) { return c == Category::kAttnV || c == Category::kAttnQkv || c == Category::kAttnKvB; }

// ggml_n_dims: the rank without trailing size-1 dimensions in ggml's order (leading ones in PyTorch order).
int ggml_n_dims(const core::Shape& s) {
  for (int k = 0; k < s.rank(); ++k)
    if (s[k] > 1) return s.rank() - k;
  return 1;
}

// The layer number llama.cpp sorts by (sscanf "blk.%d."), or −1.
int layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  size_t i = 4;
  const bool neg = i < name.size() && name[i] == '-';
  if (neg || (i < name.size() && name[i] == '+')) ++i;
  if (i >= name.size() || !std::isdigit((unsigned char)name[i])) return -1;
  long v = 0;
  while (i < name.size() && std::isdigit((unsigned char)name[i]) && v < (1L << 30)) v = v * 10 + (name[i++] - '0');
  return (int)(neg ? -v : v);
}

bool allows_quantization(const std::string& name, const core::Shape& shape, const QuantizeOptions& o) {
  if (ggml_n_dims(shape) < 2) return false;
  if (name.size() < 6 || name.compare(name.size() - 6, 6, "weight") != 0) return false;
  if (contains(name, "_norm.weight")) return false;
  if (o.leave_output && name == "output.weight") return false;
  for (const char* never : {"ffn_gate_inp.weight", "ssm_conv1d", "shortconv.conv.weight", "gl_a.weight"})
    if (contains(name, never)) return false;
  return true;
}

bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

struct Counters {
  int n_attention_wv = 0, i_attention_wv = 0, n_layer = 0, i_ffn_down = 0;
  bool tied = true;
};

// llama_tensor_get_type_impl, reduced to the file types of kFileTypes.
DType mixture_type(DType t, int64_t ncols, Category cat, FileType ft, const QuantizeOptions& o, Counters& c) {
  if (cat == Category::kOutput || (c.tied && cat == Category::kTokenEmbd)) {
    if (o.output_type) return *o.output_type;
    if (ncols % core::dtype_info(t).block_size != 0) return DType::kQ8_0;
    return t == DType::kQ8_0 ? t : DType::kQ6_K;
  }
  const bool km = ft == FileType::kQ4_K_M || ft == FileType::kQ5_K_M;
  if (is_attn_v_like(cat)) {
    if (km && use_more_bits(c.i_attention_wv, c.n_attention_wv)) t = DType::kQ6_K;
    else if (ft == FileType::kQ4_K_S && c.i_attention_wv < 4) t = DType::kQ5_K;
    ++c.i_attention_wv;
  } else if (cat == Category::kFfnDown) {
    const int i = c.i_ffn_down, n = c.n_layer;
    if (km && use_more_bits(i, n)) t = DType::kQ6_K;
    else if (ft == FileType::kQ4_K_S && i < n / 8) t = DType::kQ5_K;
    ++c.i_ffn_down;
  } else if (cat == Category::kAttnQkv) {
    if (ft == FileType::kQ4_K_M) t = DType::kQ5_K;
    else if (ft == FileType::kQ5_K_M) t = DType::kQ6_K;
  }
  return t;
}

// tensor_type_fallback: a type whose block does not divide the row length is replaced.
DType fallback_type(DType t, int64_t ncols, std::string* note) {
  const int64_t qk = core::dtype_info(t).block_size;
  if (ncols % qk == 0) return t;
  DType r = t;
  switch (t) {
    case DType::kQ4_K: r = DType::kQ5_0; break;
    case DType::kQ5_K: r = DType::kQ5_1; break;
    case DType::kQ6_K: r = DType::kQ8_0; break;
    default: break;  // a 32-block type: only F16 is left
  }
  if (ncols % core::dtype_info(r).block_size != 0) r = DType::kF16;
  *note = fmt::format("{} columns are not a multiple of {} ({}): {} instead", ncols, qk, core::dtype_name(t),
                      core::dtype_name(r));
  return r;
}

}  // namespace

const FileTypeInfo& file_type_info(FileType t) { return kFileTypes[(size_t)t]; }

std::optional<FileType> file_type_from_name(std::string_view name) {
  std::string up(name);
  for (char& ch : up) ch = (char)std::toupper((unsigned char)ch);
  if (up == "Q4_K") return FileType::kQ4_K_M;
  if (up == "Q5_K") return FileType::kQ5_K_M;
  for (const FileTypeInfo& i : kFileTypes)
    if (i.name == up) return i.type;
  return std::nullopt;
}

std::string file_type_names() {
  std::string s;
  for (const FileTypeInfo& i : kFileTypes) s += (s.empty() ? "" : ", ") + std::string(i.name);
  return s + " (Q4_K = Q4_K_M, Q5_K = Q5_K_M)";
}

std::vector<TensorPlan> plan_quantization(const io::GgufFile& in, const QuantizeOptions& o) {
  const FileTypeInfo& ft = file_type_info(o.type);
  for (const auto& t : {o.output_type, o.embedding_type})
    LLAMBA_ENSURE(!t || quant::can_quantize(*t), "llamba cannot write tensors of type {} (writable: f32, f16, bf16, "
                  "q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k)", core::dtype_name(*t));
  std::vector<std::regex> keep;
  for (const std::string& k : o.keep) {
    try {
      keep.emplace_back(k);
    } catch (const std::regex_error& e) {
      LLAMBA_THROW("--keep '{}' is not a valid regular expression: {}", k, e.what());
    }
  }
  std::vector<const io::GgufTensorInfo*> order;
  for (const auto& t : in.tensors()) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const io::GgufTensorInfo* a, const io::GgufTensorInfo* b) {
    const int la = layer_of(a->name), lb = layer_of(b->name);
    return la != lb ? la < lb : a->name < b->name;
  });
  Counters c;
  const std::string arch = in.get_string("general.architecture", "");
  c.n_layer = (int)in.get_int(arch + ".block_count", 0);
  for (const auto* t : order) {
    const Category cat = category_of(t->name);
    c.n_attention_wv += is_attn_v_like(cat);
    if (cat == Category::kOutput) c.tied = false;
  }
  std::vector<TensorPlan> plan;
  for (const auto* t : order) {
    TensorPlan p{t->name, t->dtype, t->dtype, ""};
    const bool kept =
        std::any_of(keep.begin(), keep.end(), [&](const std::regex& r) { return std::regex_search(t->name, r); });
    if (kept) p.note = "kept (--keep)";
    if (!kept && allows_quantization(t->name, t->shape, o)) {
      const Category cat = category_of(t->name);
      const int64_t ncols = t->shape[-1];
      if (o.embedding_type && cat == Category::kTokenEmbd) {
        p.to = *o.embedding_type;
      } else if (o.output_type && cat == Category::kOutput) {
        p.to = *o.output_type;
      } else {
        p.to = ft.base;
        if (core::dtype_info(ft.base).is_quantized) {
          if (!o.pure) p.to = mixture_type(p.to, ncols, cat, o.type, o, c);
          p.to = fallback_type(p.to, ncols, &p.note);
        }
      }
      LLAMBA_ENSURE(ncols % core::dtype_info(p.to).block_size == 0,
                    "{}: tensor {} has {} columns, not a multiple of {}'s block of {}", in.path(), t->name, ncols,
                    core::dtype_name(p.to), core::dtype_info(p.to).block_size);
    }
    plan.push_back(std::move(p));
  }
  return plan;
}

std::optional<core::DType> writable_type(const std::string& what, const std::string& name) {
  if (name.empty()) return std::nullopt;
  core::DType t;
  LLAMBA_ENSURE(core::dtype_from_name(name, &t) && quant::can_quantize(t),
                "{} '{}': not a tensor type llamba can write (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, "
                "q5_k, q6_k)", what, name);
  return t;
}

}  // namespace llamba::quantize
