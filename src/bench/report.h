// `llamba bench` output: a markdown table in llama-bench's layout (plus sequences, the roofline rate and the
// state memory), CSV, JSON, and PNG plots.
#pragma once

#include <string>
#include <vector>

#include "bench/bench.h"

namespace llamba::bench {

// What identifies the model in every row.
struct ModelLabel {
  std::string name, type;  // e.g. "SmolLM2-135M-Instruct", "Q4_1"
  ModelCost cost;
};

std::string markdown(const ModelLabel& m, const std::vector<Result>& rs);
std::string csv(const ModelLabel& m, const std::vector<Result>& rs);
std::string json(const ModelLabel& m, const std::vector<Result>& rs);

// PNGs into dir (created): tokens/s against depth (one line per test and sequence count), against the number
// of sequences (per test and depth), and the state memory against the context. A plot whose x axis has fewer
// than two values in the results is skipped. Returns the files written.
std::vector<std::string> plots(const std::string& dir, const ModelLabel& m, const std::vector<Result>& rs);

}  // namespace llamba::bench
