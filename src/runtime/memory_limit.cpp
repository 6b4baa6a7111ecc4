// Memory sizes and the machine's available memory.
#include "runtime/memory_limit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/check.h"

namespace llamba::runtime {

namespace {

constexpr int64_t kMaxSize = int64_t(1) << 62;

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return (char)std::tolower(c); });
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace((unsigned char)s.front())) s.remove_prefix(1);
  while (!s.empty() && std::isspace((unsigned char)s.back())) s.remove_suffix(1);
  return s;
}

// The value of the line "key value..." in `text` (meminfo, memory.stat), or nullopt.
std::optional<int64_t> keyed_value(std::string_view text, std::string_view key) {
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string k;
    long long v = 0;
    if (fields >> k && (k == key || k == std::string(key) + ":") && fields >> v) return v;
  }
  return std::nullopt;
}

std::optional<int64_t> plain_number(std::string_view text) {
  text = trim(text);
  long long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int64_t parse_memory_size(std::string_view text, std::string_view flag) {
  const std::string_view t = trim(text);
  auto bad = [&](const char* why) -> Error {
    return Error(fmt::format("{}: '{}' {}; give bytes or a number with K, M, G or T (powers of 1024), e.g. 8G or "
                             "512M",
                             flag, text, why));
  };
  size_t i = 0;
  while (i < t.size() && (std::isdigit((unsigned char)t[i]) || t[i] == '.')) ++i;
  const std::string number(t.substr(0, i));
  const std::string unit = lower(trim(t.substr(i)));
  if (number.empty() || std::count(number.begin(), number.end(), '.') > 1 || number == ".")
    throw bad("is not a memory size");
  int shift = 0;
  if (unit.empty() || unit == "b") {
    shift = 0;
  } else {
    const std::string_view units = "kmgt";
    const size_t u = units.find(unit[0]);
    const std::string rest = unit.substr(1);
    if (u == std::string_view::npos || !(rest.empty() || rest == "b" || rest == "ib"))
      throw bad("has an unknown unit");
    shift = 10 * (int)(u + 1);
  }
  const long double v = std::stold(number) * (long double)(int64_t(1) << shift);
  if (v > (long double)kMaxSize) throw bad("is too large (the most is 4 EiB)");
  const int64_t bytes = (int64_t)v;
  if (bytes <= 0) throw bad("is less than one byte");
  return bytes;
}

std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)bytes;
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  if (u == 0) return fmt::format("{} B", bytes);
  const int decimals = v < 10 ? 2 : v < 100 ? 1 : 0;  // three significant digits
  return fmt::format("{:.{}f} {}", v, decimals, units[u]);
}

std::optional<int64_t> meminfo_available(std::string_view meminfo) {
  const auto kb = keyed_value(meminfo, "MemAvailable");
  if (!kb) return std::nullopt;
  return *kb * 1024;
}

std::optional<int64_t> cgroup_available(std::string_view limit, std::string_view usage, std::string_view stat) {
  const auto max = plain_number(limit);
  if (!max || *max >= (int64_t(1) << 60)) return std::nullopt;  // "max", or v1's "unlimited" (~2^63)
  const int64_t used = plain_number(usage).value_or(0);
  const int64_t reclaimable =  // v1 names the group's own count with its children total_inactive_file
      keyed_value(stat, "total_inactive_file").value_or(keyed_value(stat, "inactive_file").value_or(0));
  return std::max<int64_t>(0, *max - used + reclaimable);
}

MemoryLimit machine_limit() {
  MemoryLimit best;
  if (const auto avail = meminfo_available(read_file("/proc/meminfo")))
    best = {*avail, false, "the memory available (MemAvailable in /proc/meminfo)"};
  // The process's cgroup (v2 "0::/path", v1 "N:memory:/path"), at its path and at the mount's root (inside a
  // container the root is often the container's own group).
  std::vector<std::string> dirs;
  std::istringstream cg{read_file("/proc/self/cgroup")};
  for (std::string line; std::getline(cg, line);) {
    if (line.rfind("0::", 0) == 0) dirs.push_back("/sys/fs/cgroup" + line.substr(3));
    if (const size_t m = line.find(":memory:"); m != std::string::npos)
      dirs.push_back("/sys/fs/cgroup/memory" + line.substr(m + 8));
  }
  dirs.push_back("/sys/fs/cgroup");
  dirs.push_back("/sys/fs/cgroup/memory");
  for (std::string d : dirs) {
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    const bool v2 = !read_file(d + "/memory.max").empty();
    const std::string limit_file = d + (v2 ? "/memory.max" : "/memory.limit_in_bytes");
    const auto avail = cgroup_available(read_file(limit_file),
                                        read_file(d + (v2 ? "/memory.current" : "/memory.usage_in_bytes")),
                                        read_file(d + "/memory.stat"));
    if (avail && (best.bytes == 0 || *avail < best.bytes))
      best = {*avail, false, fmt::format("what the cgroup's limit leaves ({} less its usage)", limit_file)};
  }
  return best;
}

MemoryLimit memory_limit(const std::string& flag_text, std::string_view flag) {
  if (flag_text.empty()) return machine_limit();
  return {parse_memory_size(flag_text, flag), true, fmt::format("{} {}", flag, flag_text)};
}

}  // namespace llamba::runtime
