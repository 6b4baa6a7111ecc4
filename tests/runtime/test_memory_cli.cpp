// --max-memory through the real CLI: every command that loads a model and creates sequences refuses, before
// allocating, with what it needs part by part and the limit; a bad size names the flag; and the estimate bounds
// the peak resident memory of the real process (wait4's ru_maxrss) from above, within the stated bound: it exceeds
// the peak by at most the fixed allowance plus a quarter of what it counts.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bench/memory_need.h"
#include "cli_util.h"
#include "eval/memory_need.h"
#include "io/gguf.h"
#include "runtime/memory_budget.h"
#include "tokenizer/tokenizer.h"

namespace llamba {
namespace {

struct Measured {
  int code = -1;
  int64_t peak_bytes = 0;  // the child's largest resident set
  std::string out;
};

// Runs `llamba args...` as a child and takes its peak RSS from wait4.
Measured run_measured(const std::vector<std::string>& args) {
  const std::string bin = test::llamba_bin(), log = test::temp_path("measured.log").string();
  std::vector<std::string> full = {bin};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  Measured m;
  int status = 0;
  rusage ru{};
  EXPECT_EQ(wait4(pid, &status, 0, &ru), pid);
  m.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m.peak_bytes = (int64_t)ru.ru_maxrss * 1024;
  std::stringstream ss;
  ss << std::ifstream(log).rdbuf();
  m.out = ss.str();
  return m;
}

class MemoryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test::default_model_path();
    if (path_.empty()) GTEST_SKIP() << "default model not installed: run scripts/setup.sh";
    if (test::llamba_bin().empty()) GTEST_SKIP() << "the llamba binary is not built";
    file_ = std::make_unique<io::GgufFile>(io::GgufFile::open(path_));
    model_ = models::load_model(*file_);
  }
  // The stated bound: the estimate is at least the process's peak, and above it by at most the fixed allowance
  // plus 25 % of what it counts.
  void expect_bounds(const Measured& r, const runtime::MemoryNeed& need, const std::string& what) {
    ASSERT_EQ(r.code, 0) << r.out;
    std::printf("%s: peak RSS %.1f MiB, estimate %.1f MiB (%s)\n", what.c_str(), r.peak_bytes / 1048576.0,
                need.total() / 1048576.0, need.breakdown().c_str());
    EXPECT_LE(r.peak_bytes, need.total()) << what << ": " << need.breakdown();
    EXPECT_LE(need.total() - r.peak_bytes, need.fixed + need.known() / 4) << what << ": " << need.breakdown();
  }
  std::string text_file(int sentences) {
    const std::string p = test::temp_path("memory_text.txt").string();
    std::ofstream out(p);
    for (int i = 0; i < sentences; ++i)
      out << "The river runs past the old mill, and the miller counts " << i << " sacks of grain before dawn.\n";
    return p;
  }
  std::string path_;
  std::unique_ptr<io::GgufFile> file_;
  std::unique_ptr<models::Model> model_;
};

TEST_F(MemoryCli, EveryCommandRefusesWithWhatItNeedsAndTheLimit) {
  const std::string m = "-m " + path_ + " ";
  const std::string text = text_file(50);
  const std::pair<std::string, std::string> cmds[] = {
      {"run " + m + "-p hello -n 8 --max-memory 50M", "llamba run needs "},
      {"bench " + m + "-p 64 -n 4 -r 1 -q --max-memory 50M", "llamba bench needs "},
      {"eval perplexity " + m + "-f " + text + " -c 64 -q --max-memory 50M", "llamba eval perplexity needs "},
      {"serve " + m + "--port 0 --max-memory 50M", "llamba serve needs "}};
  for (const auto& [args, head] : cmds) {
    const test::CliResult r = test::run_llamba(args);
    EXPECT_EQ(r.code, 1) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("llamba: error: " + head), std::string::npos) << r.out;
    for (const char* part : {"of memory: weights ", " + KV cache ", " + scratch ", "allowance",
                             "; --max-memory 50M is 50.0 MiB\n---> HINT: "})
      EXPECT_NE(r.out.find(part), std::string::npos) << part << " in:\n" << r.out;
  }
  EXPECT_NE(test::run_llamba("serve " + m + "--port 0 --max-memory 50M").out.find(" + state cache 256 MiB"),
            std::string::npos);
}

TEST_F(MemoryCli, ABadSizeNamesTheFlag) {
  for (const char* bad : {"12Q", "lots", "0"}) {
    const test::CliResult r = test::run_llamba("run -m " + path_ + " -p hi -n 1 --max-memory " + bad);
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find(std::string("llamba: error: --max-memory: '") + bad + "'"), std::string::npos) << r.out;
  }
}

TEST_F(MemoryCli, TheEstimateBoundsTheProcessPeak) {
#ifdef LLAMBA_SANITIZED
  GTEST_SKIP() << "a sanitizer's shadow memory and redzones are not in the estimate";
#endif
  // run: a 100-token prompt and 150 generated tokens, the KV cache growing to 256 rows.
  std::string prompt;
  for (int i = 0; i < 12; ++i) prompt += "The river runs past the old mill. ";
  const auto tok = tokenizer::Tokenizer::from_gguf(*file_);
  const int64_t n_prompt = (int64_t)tok->encode(prompt, tok->add_bos_default(), false).size();
  Measured r = run_measured({"run", "-m", path_, "-p", prompt, "-n", "150", "--temp", "0", "--ignore-eos", "-t",
                             "2", "--max-memory", "4G"});
  expect_bounds(r, runtime::estimate_memory(*model_, runtime::generation_workload(*model_, 0, n_prompt, 150)),
                "run");
  // bench: 4 sequences prefilling 200 tokens after a depth of 300.
  bench::Spec spec;
  spec.prefill = {200}, spec.decode = {}, spec.depths = {300}, spec.seqs = {4}, spec.threads = {2}, spec.reps = 1;
  r = run_measured({"bench", "-m", path_, "-p", "200", "-n", "0", "-d", "300", "-b", "4", "-t", "2", "-r", "1",
                    "-q", "--max-memory", "4G"});
  expect_bounds(r, bench::memory_need(*model_, spec), "bench");
  // eval perplexity: 4 chunks of 256 tokens in one batch, logits of every scored position.
  r = run_measured({"eval", "perplexity", "-m", path_, "-f", text_file(80), "-c", "256", "--chunks", "4", "-b",
                    "4", "-t", "2", "-q", "--max-memory", "4G"});
  expect_bounds(r, eval::scoring_memory_need(*model_, nullptr, 4, 256, 128), "eval perplexity");
}

}  // namespace
}  // namespace llamba
