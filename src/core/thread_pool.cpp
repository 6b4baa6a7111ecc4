// ThreadPool: generation-counted start signal, countdown for completion; waiters spin a little, then sleep.
#include "core/thread_pool.h"

#include <algorithm>

namespace llamba::core {

namespace {

// Waiters poll before they sleep: first a few microseconds of pause loops (the gap between two parallel loops of
// one decode step), then a while of sched_yield, which costs nothing on an idle core but hands the core over
// when the machine is oversubscribed (parallel test runs), so that spinning never starves the thread it awaits.
constexpr int kPauseIterations = 1 << 8;
constexpr int kYieldIterations = 1 << 6;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls `done` as above; true as soon as it holds, false when the caller should sleep.
template <class Pred>
bool spin_until(Pred done) {
  for (int i = 0; i < kPauseIterations; ++i) {
    if (done()) return true;
    cpu_relax();
  }
  for (int i = 0; i < kYieldIterations; ++i) {
    if (done()) return true;
    std::this_thread::yield();
  }
  return false;
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = std::max(1u, std::thread::hardware_concurrency());
  n_threads_ = n_threads;
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    const FunctionRef<void(int)>* job;
    spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
    {
      std::unique_lock<std::mutex> lk(mu_);
      start_cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    (*job)(index);
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

void ThreadPool::run(FunctionRef<void(int)> per_thread) {
  {
    std::unique_lock<std::mutex> lk(mu_);
    if (busy_ || workers_.empty()) {  // nested or single-threaded: run inline
      lk.unlock();
      for (int i = 0; i < n_threads_; ++i) per_thread(i);
      return;
    }
    busy_ = true;
    job_ = &per_thread;
    pending_ = (int)workers_.size();
    ++generation_;
  }
  start_cv_.notify_all();
  per_thread(0);
  spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; });
  std::unique_lock<std::mutex> lk(mu_);
  done_cv_.wait(lk, [&] { return pending_ == 0; });
  busy_ = false;
  job_ = nullptr;
}

void ThreadPool::parallel_for(int64_t n, FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  const int64_t parts = std::min<int64_t>(n, n_threads_);
  if (parts == 1) {
    fn(0, n);
    return;
  }
  run([&](int t) {
    if (t >= parts) return;
    const int64_t begin = n * t / parts, end = n * (t + 1) / parts;
    if (begin < end) fn(begin, end);
  });
}

void ThreadPool::run_tasks(int64_t n_tasks, FunctionRef<void(int64_t)> fn) {
  if (n_tasks <= 0) return;
  if (n_tasks == 1 || n_threads_ == 1) {
    for (int64_t i = 0; i < n_tasks; ++i) fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  run([&](int) {
    for (int64_t i = next.fetch_add(1); i < n_tasks; i = next.fetch_add(1)) fn(i);
  });
}

}  // namespace llamba::core
