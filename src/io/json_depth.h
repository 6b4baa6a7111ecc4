// A nesting limit for JSON read from files and requests. nlohmann's parser and destructor are iterative, but its
// copy, comparison and dump recurse once per level: a few MB nested a million levels deep overflow the stack
// (found by tests/fuzz). Parsers check the depth once, right after parsing, and refuse deeper input.
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <utility>
#include <vector>

namespace llamba::io {

// Far beyond any real file (tokenizer.json nests 6 levels, config.json 3, safetensors headers 3).
constexpr size_t kMaxJsonDepth = 128;

// The nesting depth of `j` (a scalar or an empty container is 1), counted without recursion; counting stops
// once it passes `limit`.
inline size_t json_depth(const nlohmann::json& j, size_t limit = kMaxJsonDepth) {
  size_t deepest = 0;
  std::vector<std::pair<const nlohmann::json*, size_t>> todo = {{&j, 1}};
  while (!todo.empty()) {
    const auto [v, d] = todo.back();
    todo.pop_back();
    deepest = d > deepest ? d : deepest;
    if (deepest > limit) break;
    if (v->is_structured())
      for (const auto& child : *v) todo.emplace_back(&child, d + 1);
  }
  return deepest;
}

}  // namespace llamba::io
