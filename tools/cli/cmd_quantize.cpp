// `llamba quantize IN.gguf OUT.gguf TYPE`: rewrite a model with llama-quantize's tensor types and bytes
// (src/quantize); a per-tensor table with --verbose, a summary on stdout.
#include <fmt/format.h>

#include <map>

#include "cli/commands.h"
#include "cli/range_check.h"
#include "quantize/quantize_model.h"

namespace llamba::cli {

void register_quantize(CLI::App& app) {
  auto* cmd = app.add_subcommand("quantize", "Quantize a GGUF model (any architecture) as llama-quantize does");
  static std::string in, out, type, output_type, embedding_type;
  static std::vector<std::string> keep;
  static bool pure = false, leave_output = false, dry_run = false, verbose = false, quiet = false;
  static int threads = 0;
  cmd->add_option("input", in, "Model to quantize (GGUF: F32, F16, BF16 or already quantized)")->required();
  cmd->add_option("output", out, "Output GGUF (written atomically)")->required();
  cmd->add_option("type", type, quantize::file_type_names())->required();
  cmd->add_option("--output-type", output_type, "Type of output.weight (and of a tied token_embd.weight)");
  cmd->add_option("--embedding-type", embedding_type, "Type of token_embd.weight");
  cmd->add_option("--keep", keep, "Copy tensors whose name matches this regex unchanged (repeatable)");
  cmd->add_flag("--pure", pure, "Every quantizable tensor takes TYPE's base type (no mixture, no Q6_K head)");
  cmd->add_flag("--leave-output", leave_output, "Copy output.weight unchanged");
  cmd->add_flag("--dry-run", dry_run, "Print the plan and sizes; write nothing");
  cmd->add_flag("-v,--verbose", verbose, "Print every tensor's type change");
  cmd->add_flag("-q,--quiet", quiet, "No progress bar");
  cmd->add_option("-t,--threads", threads, "CPU threads (default: all)")->check(in_range(0, 1024));
  cmd->callback([] {
    quantize::QuantizeOptions o;
    const auto ft = quantize::file_type_from_name(type);
    LLAMBA_ENSURE(ft, "unknown quantization type '{}' (types: {})", type, quantize::file_type_names());
    o.type = *ft;
    o.output_type = quantize::writable_type("--output-type", output_type);
    o.embedding_type = quantize::writable_type("--embedding-type", embedding_type);
    o.keep = keep;
    o.pure = pure;
    o.leave_output = leave_output;
    quantize::QuantizeReport r;
    if (dry_run) {
      r.plan = quantize::plan_quantization(io::GgufFile::open(in), o);
    } else {
      core::ThreadPool pool(threads);
      r = quantize::quantize_model(pool, in, out, o, !quiet);
    }
    std::map<std::string, int> fallbacks;  // the same note for many tensors is said once, with a count
    for (const auto& p : r.plan) {
      if (verbose || dry_run)
        fmt::print(stderr, "{:<36} {:>6} -> {:<6}{}\n", p.name, core::dtype_name(p.from), core::dtype_name(p.to),
                   p.note.empty() ? "" : "  " + p.note);
      if (!p.note.empty()) ++fallbacks[p.note];
    }
    for (const auto& [note, n] : fallbacks) fmt::print(stderr, "note: {} tensor(s): {}\n", n, note);
    if (dry_run) return;
    const double n = (double)std::max<int64_t>(1, r.n_elements);
    fmt::print("wrote {} ({}): {} tensors, {:.2f} MiB -> {:.2f} MiB ({:.2f} -> {:.2f} bits per weight), {} "
               "fallback(s), {:.1f} s\n",
               out, quantize::file_type_info(o.type).name, r.plan.size(), r.bytes_in / 1048576.0,
               r.bytes_out / 1048576.0, 8.0 * r.bytes_in / n, 8.0 * r.bytes_out / n, r.n_fallback, r.seconds);
  });
}

}  // namespace llamba::cli
