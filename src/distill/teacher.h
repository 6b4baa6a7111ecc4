// The MOHAWK teacher: a Llama-architecture GGUF loaded once with every weight dequantized to f32 (the ground
// truth the student is aligned to), and the check that token shards were made with the teacher's tokenizer.
#pragma once

#include <memory>
#include <string>

#include "models/llama/llama.h"
#include "train/checkpoint.h"
#include "train/data/token_shards.h"

namespace llamba::distill {

struct Teacher {
  std::string path;
  train::WritableModelFile image;  // the f32 copy the model reads
  std::unique_ptr<models::Model> model;
  models::llama::Config config;
};

// Throws llamba::Error naming the file unless it is a Llama model whose tensors can be dequantized.
Teacher load_teacher(const std::string& path);

// A copy of `f` with every tensor in f32 (dequantized row by row); metadata copied, general.file_type 0.
train::WritableModelFile dequantized_copy(const io::GgufFile& f);

// Throws unless `data` was tokenized by the teacher's tokenizer (fingerprint when meta.json records one, else
// the vocabulary size and EOS id; a teacher file without a tokenizer: the ids fit its vocabulary), naming both
// sides.
void check_tokenizer_matches(const Teacher& t, const train::ShardSet& data, const std::string& data_dir);

}  // namespace llamba::distill
