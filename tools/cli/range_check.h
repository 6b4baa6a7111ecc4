// A CLI11 validator for numeric flags whose errors say what is wrong: "'abc' is not a number" rather than
// CLI11's "Value abc not in range", and the bounds as written (no 0.000000).
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <string>
#include <type_traits>

namespace llamba::cli {

template <typename T>
CLI::Validator in_range(T lo, T hi) {
  static_assert(std::is_arithmetic_v<T>);
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        T v{};
        if (!CLI::detail::lexical_cast(text, v))
          return fmt::format("'{}' is not {}", text, std::is_integral_v<T> ? "an integer" : "a number");
        if (!(v >= lo && v <= hi)) return fmt::format("{} is outside [{}, {}]", text, lo, hi);
        return "";
      },
      fmt::format("in [{}, {}]", lo, hi));
}

}  // namespace llamba::cli
