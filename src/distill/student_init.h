// `llamba distill init`: a Llamba student of the teacher's shape (docs/distillation.md "The student"): H = G =
// the teacher's query heads, P = D / H, expand 1, conv 4, N = d_state; the embedding, every norm, every MLP and
// (untied) the head copied from the teacher, and the tokenizer with them. The mixer starts as MOHAWK's init
// (z rows 0 with z_bias 1.2785 so the gate is open, identity conv, D = 1, the other rows Linear-uniform) or,
// with StudentInit::kAttention, from the attention weights: C ← W_q, B ← W_k and x ← W_v with each KV head
// repeated for the query heads it serves (GQA), out_proj ← W_o; the decay rows stay fresh. That needs N = P =
// the teacher's head dim. StudentInit::kRandom copies nothing but the tokenizer (the from-scratch baseline).
#pragma once

#include "distill/config.h"
#include "distill/teacher.h"

namespace llamba::distill {

struct StudentSpec {
  StudentInit init = StudentInit::kMohawk;
  int64_t d_state = 64, chunk_size = 64;
  uint64_t seed = 1;
};

// The student as an f32 GGUF image (trainable in place). Throws naming the field when the teacher's shape does
// not allow the spec (e.g. the attention init with N ≠ head dim).
train::WritableModelFile make_student(const Teacher& teacher, const StudentSpec& spec);

}  // namespace llamba::distill
