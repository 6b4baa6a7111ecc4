// Student construction: the Llamba random init (models/llamba/init.cpp, MOHAWK's mixer init) of the teacher's
// shape, then the teacher's tensors copied over it in place.
#include "distill/student_init.h"

#include <cstring>

#include "models/blocks/weights_util.h"

namespace llamba::distill {

namespace {

using core::TensorView;

void copy_into(const TensorView& dst, const TensorView& src, const std::string& name) {
  LLAMBA_ENSURE(dst.shape == src.shape && dst.dtype == core::DType::kF32 && src.dtype == core::DType::kF32,
                "distill init: {} is {} in the student but {} in the teacher", name, dst.shape.str(), src.shape.str());
  std::memcpy(dst.data, src.data, (size_t)src.nbytes());
}

// Rows [dst_row, dst_row + n) of `dst` (row-major, `cols` wide) from rows [src_row, ...) of `src`.
void copy_rows(const TensorView& dst, int64_t dst_row, const TensorView& src, int64_t src_row, int64_t n) {
  const int64_t cols = dst.shape[1];
  std::memcpy(dst.f32() + dst_row * cols, src.f32() + src_row * cols, (size_t)(n * cols) * sizeof(float));
}

// The mixer of layer l from the teacher's attention (see student_init.h).
void attention_init(const io::GgufFile& student, const io::GgufFile& teacher, const models::llama::Config& tc,
                    int64_t l) {
  using models::blk;
  const int64_t H = tc.n_heads, hd = tc.head_dim, rep = tc.n_heads / tc.n_kv_heads, di = H * hd;
  const TensorView in = student.tensor(blk(l, "ssm_in.weight"));
  const TensorView wq = teacher.tensor(blk(l, "attn_q.weight")), wk = teacher.tensor(blk(l, "attn_k.weight"));
  const TensorView wv = teacher.tensor(blk(l, "attn_v.weight"));
  for (int64_t h = 0; h < H; ++h) {
    const int64_t kv = h / rep;                       // the KV head query head h attends with
    copy_rows(in, h * hd, wv, kv * hd, hd);           // x
    copy_rows(in, di + h * hd, wk, kv * hd, hd);      // B (G = H groups of N = hd)
    copy_rows(in, di + di + h * hd, wq, h * hd, hd);  // C
  }
  copy_into(student.tensor(blk(l, "ssm_out.weight")), teacher.tensor(blk(l, "attn_output.weight")),
            blk(l, "ssm_out.weight"));
}

}  // namespace

train::WritableModelFile make_student(const Teacher& teacher, const StudentSpec& spec) {
  const models::llama::Config& tc = teacher.config;
  const io::GgufFile& tf = *teacher.image.file;
  LLAMBA_ENSURE(tc.d_model % tc.n_heads == 0, "distill init: d_model {} is not a multiple of the {} query heads",
                tc.d_model, tc.n_heads);
  if (spec.init == StudentInit::kAttention)
    LLAMBA_ENSURE(spec.d_state == tc.head_dim && tc.n_heads * tc.head_dim == tc.d_model,
                  "distill init: \"init\": \"attention\" needs d_state = P = the teacher's head dim {} (got d_state "
                  "{}, P {})",
                  tc.head_dim, spec.d_state, tc.d_model / tc.n_heads);
  const bool tied = tf.find_tensor("output.weight") == nullptr;
  const nlohmann::json cfg = {
      {"d_model", tc.d_model},         {"n_layers", tc.n_layers}, {"ffn", tc.ffn_dim},     {"n_heads", tc.n_heads},
      {"n_groups", tc.n_heads},        {"d_state", spec.d_state}, {"expand", 1},           {"conv_kernel", 4},
      {"chunk_size", spec.chunk_size}, {"norm_eps", tc.rms_eps},  {"tie_embeddings", tied}};
  io::GgufWriter w;
  models::write_init_model(models::Arch::kLlamba, cfg, tc.n_vocab, spec.seed, w);
  for (const auto& [k, v] : tf.metadata())
    if (k.rfind("tokenizer.", 0) == 0) w.set(k, v);
  w.set("general.name", io::GgufValue::string(tf.get_string("general.name", "teacher") + " (Llamba student)"));
  w.set("general.distilled_from", io::GgufValue::string(teacher.path));  // provenance, kept in student.gguf
  w.set("general.mixer_init", io::GgufValue::string(init_name(spec.init)));
  train::WritableModelFile s = train::from_writer(w, "student of " + teacher.path);
  // What MOHAWK copies: everything but the attention (docs/distillation.md).
  for (const auto& info : s.file->tensors()) {
    const std::string& n = info.name;
    const bool copied = n == "token_embd.weight" || n == "output_norm.weight" || n == "output.weight" ||
                        n.find(".attn_norm.") != std::string::npos || n.find(".ffn_") != std::string::npos;
    if (copied && spec.init != StudentInit::kRandom) copy_into(s.file->tensor(info), tf.tensor(n), n);
  }
  if (spec.init == StudentInit::kAttention)
    for (int64_t l = 0; l < tc.n_layers; ++l) attention_init(*s.file, tf, tc, l);
  return s;
}

}  // namespace llamba::distill
