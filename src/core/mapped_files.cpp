// The registry of file mappings and the SIGBUS handler that names a truncated file.
#include "core/mapped_files.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace llamba::core {

namespace {

// A fixed table, so that the handler never meets a lock or a freed pointer. Each slot is a seqlock: `seq` is odd
// while one writer (who made it odd by compare-exchange) changes the slot, and the handler accepts what it read
// only if `seq` was the same even value before and after. Every field is atomic, so no read races a write; fields
// are stored with release and loaded with acquire, so a reader that sees a new field also sees `seq` odd (this
// needs no fences, which ThreadSanitizer does not model).
constexpr int kSlots = 256;
constexpr size_t kPathChars = 240;

struct Slot {
  std::atomic<uint64_t> seq{0};
  std::atomic<uintptr_t> begin{0};  // 0: free
  std::atomic<size_t> size{0};
  std::atomic<char> path[kPathChars];
};

Slot g_slots[kSlots];
struct sigaction g_previous;  // SIGBUS's action before ours, restored for faults that are not ours
std::once_flag g_install_once;

// Makes the slot's seq odd if it is even (the caller then owns the slot); returns the even value it was.
bool lock_slot(Slot& s, uint64_t& was) {
  was = s.seq.load(std::memory_order_relaxed);
  return was % 2 == 0 && s.seq.compare_exchange_strong(was, was + 1, std::memory_order_acquire);
}
void unlock_slot(Slot& s, uint64_t was) { s.seq.store(was + 2, std::memory_order_release); }

// Async-signal-safe text building: no allocation, no locale, no stdio.
struct Message {
  char buf[512];
  size_t n = 0;
  void add(const char* s) {
    while (*s && n < sizeof(buf)) buf[n++] = *s++;
  }
  void add(uint64_t v) {
    char d[24];
    int k = 0;
    do d[k++] = char('0' + v % 10), v /= 10;
    while (v > 0);
    while (k > 0 && n < sizeof(buf)) buf[n++] = d[--k];
  }
};

// Finds the registered mapping holding `addr`; copies its path into `path`.
bool find_mapping(uintptr_t addr, char (&path)[kPathChars + 1], uintptr_t& begin, size_t& size) {
  for (Slot& s : g_slots) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      const uint64_t before = s.seq.load(std::memory_order_acquire);
      if (before % 2 != 0) continue;  // a writer is in the middle of it
      begin = s.begin.load(std::memory_order_acquire);
      size = s.size.load(std::memory_order_acquire);
      if (begin == 0 || addr < begin || addr - begin >= size) break;
      size_t i = 0;
      for (; i < kPathChars; ++i)
        if ((path[i] = s.path[i].load(std::memory_order_acquire)) == 0) break;
      path[i] = 0;
      if (s.seq.load(std::memory_order_relaxed) == before) return true;
    }
  }
  return false;
}

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  char path[kPathChars + 1];
  uintptr_t begin = 0;
  size_t size = 0;
  // BUS_ADRERR is what a page past the end of the file gives; other codes (a memory error, a misaligned access)
  // and signals sent by kill() are not a truncated file even inside a mapping.
  if (info->si_code == BUS_ADRERR && find_mapping(addr, path, begin, size)) {
    Message m;
    m.add("llamba: error: ");
    m.add(path);
    m.add(": file was truncated while mapped (a read at byte ");
    m.add((uint64_t)(addr - begin));
    m.add(" of the ");
    m.add((uint64_t)size);
    m.add(" bytes mapped found no data: another process shortened the file in place); cannot continue\n");
    for (size_t done = 0; done < m.n;) {
      const ssize_t w = ::write(STDERR_FILENO, m.buf + done, m.n - done);
      if (w <= 0) break;
      done += (size_t)w;
    }
    ::_exit(kExitMappedFileTruncated);
  }
  // Not ours: put the earlier action back. A fault repeats when the handler returns and meets it; a signal sent
  // by kill() does not repeat, so it is raised again (blocked until we return).
  ::sigaction(SIGBUS, &g_previous, nullptr);
  if (info->si_code <= 0) ::raise(sig);
  (void)context;
}

void install_handler() {
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, &g_previous);
}

}  // namespace

bool register_mapping(const void* data, size_t size, const std::string& path) {
  if (data == nullptr || size == 0) return false;
  std::call_once(g_install_once, install_handler);
  // Keep the end of a long path: the file name is what the reader needs.
  const size_t skip = path.size() > kPathChars - 1 ? path.size() - (kPathChars - 1) : 0;
  for (Slot& s : g_slots) {
    uint64_t was = 0;
    if (s.begin.load(std::memory_order_relaxed) != 0 || !lock_slot(s, was)) continue;
    if (s.begin.load(std::memory_order_relaxed) != 0) {  // taken between the check and the lock
      unlock_slot(s, was);
      continue;
    }
    size_t i = 0;
    for (; skip + i < path.size(); ++i) s.path[i].store(path[skip + i], std::memory_order_release);
    s.path[i].store(0, std::memory_order_release);
    s.size.store(size, std::memory_order_release);
    s.begin.store(reinterpret_cast<uintptr_t>(data), std::memory_order_release);
    unlock_slot(s, was);
    return true;
  }
  return false;
}

void unregister_mapping(const void* data) {
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
  if (begin == 0) return;
  for (Slot& s : g_slots) {
    uint64_t was = 0;
    if (s.begin.load(std::memory_order_relaxed) != begin) continue;
    while (!lock_slot(s, was)) {
    }
    if (s.begin.load(std::memory_order_relaxed) == begin) {
      s.begin.store(0, std::memory_order_release);
      s.size.store(0, std::memory_order_release);
      unlock_slot(s, was);
      return;
    }
    unlock_slot(s, was);
  }
}

}  // namespace llamba::core
