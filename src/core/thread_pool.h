// A fixed pool of worker threads that runs one parallel loop at a time; the calling thread takes part.
// Ops take a ThreadPool& and split rows or heads; models never spawn threads.
// Thread safety: `parallel_for` must not be called concurrently on one pool, nor from inside its own tasks
// (a nested call runs serially on the calling thread instead of deadlocking).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "core/function_ref.h"

namespace llamba::core {

class ThreadPool {
 public:
  // `n_threads` <= 0 means one per hardware thread.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // The loops take the callable by reference and never allocate.
  // Calls fn(begin, end) over a partition of [0, n) into at most size() contiguous ranges, and waits.
  void parallel_for(int64_t n, FunctionRef<void(int64_t begin, int64_t end)> fn);
  // Calls fn(task) for every task in [0, n_tasks), handing tasks out dynamically, and waits.
  void run_tasks(int64_t n_tasks, FunctionRef<void(int64_t task)> fn);

 private:
  void worker(int index);
  void run(FunctionRef<void(int)> per_thread);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const FunctionRef<void(int)>* job_ = nullptr;
  // Written under mu_ (so condition-variable waits never miss a change) but atomic, so that waiters can spin on
  // them briefly before sleeping: decode runs hundreds of short parallel loops per token, and a futex wake-up per
  // loop costs as much as the loop.
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;
  bool busy_ = false;
};

}  // namespace llamba::core
