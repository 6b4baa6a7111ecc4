// Reading integers from JSON files: nlohmann's get<T> truncates 1.5 and converts 1e30 with undefined behaviour,
// so config readers first check that the value is a JSON integer T holds exactly.
// Thread safety: a pure function.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>

namespace llamba::io {

template <class T>
bool json_integer_fits(const nlohmann::json& v) {
  constexpr T lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= (uint64_t)hi;
  if (!v.is_number_integer()) return false;
  const int64_t x = v.get<int64_t>();
  return x >= (int64_t)lo && (x < 0 || (uint64_t)x <= (uint64_t)hi);
}

}  // namespace llamba::io
