// `llamba convert HF_DIR -o OUT.gguf [--tokenizer FILE]`: Hugging Face checkpoint (Llama, cartesia Llamba,
// Mamba-2, lucidrains GateLoop) to GGUF, with the tokenizer given, or else the one found in HF_DIR, embedded.
#include <fmt/format.h>

#include "cli/commands.h"
#include "models/convert.h"

namespace llamba::cli {

void register_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "Convert a Hugging Face checkpoint folder to a llamba GGUF file");
  static std::string dir, out, outtype = "auto", name, tokenizer_file;
  static bool for_training = false;
  cmd->add_option("hf_dir", dir, "Folder with config.json and model.safetensors (or a sharded index)")->required();
  cmd->add_option("-o,--output", out, "Output GGUF file")->required();
  cmd->add_option("--outtype", outtype, "Matrix type: auto (keep), f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1")
      ->check(CLI::IsMember({"auto", "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"}));
  cmd->add_option("--name", name, "general.name (default: the folder name)");
  cmd->add_option("--tokenizer", tokenizer_file,
                  "Tokenizer to embed (tiktoken file, tokenizer.json or GGUF); default: tokenizer.json or "
                  "tokenizer.model in HF_DIR, if any")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--for-training", for_training,
                "Write the form `llamba train --init` updates (mamba2: A_log as ssm_a_log, not folded into ssm_a; "
                "no zero conv bias); keep --outtype auto or f32");
  cmd->callback([] {
    models::ConvertOptions opts;
    opts.name = name;
    opts.training = for_training;
    if (outtype != "auto") core::dtype_from_name(outtype, &opts.matrix_type);
    const int64_t n = models::convert_hf_file(dir, out, opts, tokenizer_file);
    fmt::print("wrote {} ({} tensors)\n", out, n);
  });
}

}  // namespace llamba::cli
