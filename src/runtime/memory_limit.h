// How much memory a command may use: `--max-memory SIZE` when given, else what the machine has available
// (MemAvailable in /proc/meminfo, or what the process's cgroup leaves if that is less). Used with
// runtime/memory_budget.h. Thread safety: pure functions, apart from machine_limit() reading /proc and /sys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llamba::runtime {

// "8G", "512M", "1.5g", "64KiB", "100MB", "123456" (bytes) -> bytes; K/M/G/T are powers of 1024 with or without
// a trailing "B" or "iB". Throws llamba::Error naming `flag` for anything else, for 0 and for sizes past 2^62.
int64_t parse_memory_size(std::string_view text, std::string_view flag);
// Bytes as people read them: "512 B", "1.50 KiB", "92.1 MiB", "1.66 GiB".
std::string format_bytes(int64_t bytes);

struct MemoryLimit {
  int64_t bytes = 0;
  bool from_flag = false;  // --max-memory; else the machine's available memory
  std::string source;      // what `bytes` is, for messages: "--max-memory 8G", "MemAvailable (/proc/meminfo)"
};

// The --max-memory limit (flag_text as given, `flag` its name for errors), or machine_limit() when empty.
MemoryLimit memory_limit(const std::string& flag_text, std::string_view flag = "--max-memory");
// The smaller of MemAvailable and the cgroup's remaining memory; bytes = 0 when neither can be read (no limit).
MemoryLimit machine_limit();

// The parts of machine_limit(), on the files' text, for tests. MemAvailable in bytes, or nullopt.
std::optional<int64_t> meminfo_available(std::string_view meminfo);
// A cgroup's remaining memory: limit − usage + its inactive file pages (the kernel reclaims those first);
// nullopt when the limit is "max" or absent. v2: memory.max, memory.current, memory.stat's inactive_file;
// v1: memory.limit_in_bytes, memory.usage_in_bytes, memory.stat's total_inactive_file.
std::optional<int64_t> cgroup_available(std::string_view limit, std::string_view usage, std::string_view stat);

}  // namespace llamba::runtime
