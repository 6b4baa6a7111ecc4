// A mapped file that another process truncates: reading a lost page ends the process with a message naming the
// file and exit status 74 (core/mapped_files.h), while a SIGBUS outside our mappings keeps its usual action.
// Each case runs in a forked child, whose stderr and exit status the parent checks.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/mapped_files.h"
#include "test_util.h"

namespace llamba {
namespace {

constexpr size_t kFileBytes = 256 * 1024;

std::string write_file(const std::string& name) {
  const std::string path = test::temp_path(name).string();
  std::ofstream out(path, std::ios::binary);
  const std::vector<char> bytes(kFileBytes, 'x');
  out.write(bytes.data(), (std::streamsize)bytes.size());
  return path;
}

struct ChildResult {
  int status = 0;  // as waitpid gives it
  std::string err;
};

// Runs `body` in a child whose stderr goes to a pipe. `body` gets two pipe ends: it writes one byte to `ready`
// when it has mapped its file, then waits for one byte on `go`, which the parent sends after `between` (the
// other process's truncation). The child exits 0 if `body` returns.
ChildResult run_child(const std::function<void(int ready, int go)>& body, const std::function<void()>& between) {
  int err_pipe[2], ready_pipe[2], go_pipe[2];
  EXPECT_EQ(pipe(err_pipe), 0);
  EXPECT_EQ(pipe(ready_pipe), 0);
  EXPECT_EQ(pipe(go_pipe), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(err_pipe[1], STDERR_FILENO);
    close(err_pipe[0]);
    body(ready_pipe[1], go_pipe[0]);
    _exit(0);
  }
  close(err_pipe[1]);
  close(ready_pipe[1]);
  close(go_pipe[0]);
  char c = 0;
  if (read(ready_pipe[0], &c, 1) == 1) {
    between();
    EXPECT_EQ(write(go_pipe[1], "g", 1), 1);
  }
  ChildResult r;
  char buf[4096];
  for (ssize_t n; (n = read(err_pipe[0], buf, sizeof(buf))) > 0;) r.err.append(buf, (size_t)n);
  EXPECT_EQ(waitpid(pid, &r.status, 0), pid);
  close(err_pipe[0]);
  close(ready_pipe[0]);
  close(go_pipe[1]);
  return r;
}

void signal_ready_and_wait(int ready, int go) {
  char c = 0;
  if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1) _exit(3);
}

// Reads one byte at `offset` through a volatile pointer, so the access happens.
int touch(const uint8_t* data, size_t offset) { return *static_cast<const volatile uint8_t*>(data + offset); }

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// A SIGBUS that is not a truncated mapping of ours must end the child as it would without our handler: killed by
// SIGBUS, or under a sanitizer with that sanitizer's report. Never our exit status or message.
void expect_not_ours(const ChildResult& r) {
  EXPECT_FALSE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == core::kExitMappedFileTruncated) << r.err;
  EXPECT_FALSE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << "the child survived: " << r.err;
  EXPECT_EQ(r.err.find("truncated while mapped"), std::string::npos) << r.err;
#ifndef LLAMBA_SANITIZED
  EXPECT_TRUE(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGBUS) << describe(r.status) << "\n" << r.err;
#endif
}

TEST(MappedFiles, TruncationByAnotherProcessEndsWithAMessageNamingTheFile) {
  const std::string path = write_file("truncated.bin");
  const ChildResult r = run_child(
      [&](int ready, int go) {
        const auto buf = core::Buffer::map_file(path);
        if (touch(buf->data(), 0) != 'x') _exit(4);  // pages before the truncation read normally
        signal_ready_and_wait(ready, go);
        touch(buf->data(), 131072);  // past the new end: the handler exits the child
      },
      [&] { ASSERT_EQ(truncate(path.c_str(), 4096), 0); });
  ASSERT_TRUE(WIFEXITED(r.status)) << describe(r.status) << "\n" << r.err;
  EXPECT_EQ(WEXITSTATUS(r.status), core::kExitMappedFileTruncated) << r.err;
  EXPECT_NE(r.err.find("llamba: error: " + path + ": file was truncated while mapped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("a read at byte 131072 of the 262144 bytes mapped"), std::string::npos) << r.err;
}

TEST(MappedFiles, PagesBeforeTheNewEndStillRead) {
  const std::string path = write_file("shortened.bin");
  const ChildResult r = run_child(
      [&](int ready, int go) {
        const auto buf = core::Buffer::map_file(path);
        signal_ready_and_wait(ready, go);
        if (touch(buf->data(), 8191) != 'x') _exit(4);  // the last byte that is still in the file
      },
      [&] { ASSERT_EQ(truncate(path.c_str(), 8192), 0); });
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << describe(r.status) << "\n" << r.err;
}

TEST(MappedFiles, ASigbusOutsideOurMappingsKeepsItsUsualAction) {
  const std::string ours = write_file("ours.bin"), other = write_file("other.bin");
  // A mapping made without Buffer (unregistered), truncated while our handler is installed.
  ChildResult r = run_child(
      [&](int ready, int go) {
        const auto buf = core::Buffer::map_file(ours);  // installs the handler
        const int fd = open(other.c_str(), O_RDONLY);
        void* p = mmap(nullptr, kFileBytes, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) _exit(5);
        signal_ready_and_wait(ready, go);
        touch(static_cast<const uint8_t*>(p), 131072);
      },
      [&] { ASSERT_EQ(truncate(other.c_str(), 0), 0); });
  expect_not_ours(r);
  // A mapping that was registered and then released: its range is forgotten.
  const std::string released = write_file("released.bin");
  r = run_child(
      [&](int ready, int go) {
        const auto keep = core::Buffer::map_file(ours);
        const int fd = open(released.c_str(), O_RDONLY);
        void* p = mmap(nullptr, kFileBytes, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED || !core::register_mapping(p, kFileBytes, released)) _exit(5);
        core::unregister_mapping(p);
        signal_ready_and_wait(ready, go);
        touch(static_cast<const uint8_t*>(p), 131072);
      },
      [&] { ASSERT_EQ(truncate(released.c_str(), 0), 0); });
  expect_not_ours(r);
  // SIGBUS sent by a signal, not a fault: the handler must raise it again rather than swallow it.
  r = run_child(
      [&](int ready, int go) {
        const auto buf = core::Buffer::map_file(ours);
        signal_ready_and_wait(ready, go);
        raise(SIGBUS);
      },
      [] {});
  expect_not_ours(r);
}

TEST(MappedFiles, TheRegistryRefusesWhenFullAndReusesFreedSlots) {
  // Fake ranges (never touched): the registry only compares addresses.
  std::vector<uintptr_t> taken;
  for (uintptr_t a = 0x100000; taken.size() < 1000; a += 0x10000) {
    if (!core::register_mapping(reinterpret_cast<void*>(a), 4096, "fake")) break;
    taken.push_back(a);
  }
  EXPECT_GE(taken.size(), 200u);  // room for every model, state and shard file a run keeps open
  EXPECT_LT(taken.size(), 1000u);
  const void* one_more = reinterpret_cast<void*>(0x7f0000000000);
  EXPECT_FALSE(core::register_mapping(one_more, 4096, "fake"));
  core::unregister_mapping(reinterpret_cast<void*>(taken.back()));
  EXPECT_TRUE(core::register_mapping(one_more, 4096, "fake"));
  core::unregister_mapping(one_more);
  for (size_t i = 0; i + 1 < taken.size(); ++i) core::unregister_mapping(reinterpret_cast<void*>(taken[i]));
  EXPECT_FALSE(core::register_mapping(nullptr, 4096, "fake"));
}

}  // namespace
}  // namespace llamba
