// `llamba quantize`: a GGUF model of any architecture rewritten with the types type_policy.h chooses, as
// llama-quantize writes it (metadata copied, `general.quantization_version` = 2 and `general.file_type` set,
// tensors in llama-quantize's order). Tensors are converted one at a time (dequantize a row, quantize it), rows
// across threads, so memory stays at one tensor; the file is written atomically (temp + rename), so an existing
// output is never left half-written.
#pragma once

#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "quantize/type_policy.h"

namespace llamba::quantize {

struct QuantizeReport {
  std::vector<TensorPlan> plan;
  int64_t n_elements = 0, bytes_in = 0, bytes_out = 0;  // tensor data only
  int n_fallback = 0;                                     // tensors whose type fell back for their shape
  double seconds = 0;
};

// Throws llamba::Error naming the file or tensor on bad input (not a GGUF file, a tensor type that cannot be
// read, an output path that cannot be written).
QuantizeReport quantize_model(core::ThreadPool& pool, const std::string& in_path, const std::string& out_path,
                              const QuantizeOptions& opts, bool progress = true);

}  // namespace llamba::quantize
