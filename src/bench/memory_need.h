// The memory `llamba bench` needs at its largest test, for --max-memory (runtime/memory_budget.h).
#pragma once

#include "bench/bench.h"
#include "runtime/memory_budget.h"

namespace llamba::bench {

// As run() lays a test out (bench.cpp): S sequences brought to depth D and their S clones, S test sequences
// growing to D + n, and a forward of S rows of the prompt (or of a depth piece of at most 512 tokens).
runtime::MemoryNeed memory_need(const models::Model& model, const Spec& spec);

}  // namespace llamba::bench
