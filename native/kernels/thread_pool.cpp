#include "thread_pool.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>
#include <algorithm>

namespace rb {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  for (int i = 0; i < 32; ++i) __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

struct Job {
  const std::function<void(size_t)>* fn;
  std::mutex error_mu;
  std::exception_ptr error;  // first exception thrown by a task; rethrown on the caller
  size_t ntasks;
  size_t max_helpers;
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::atomic<size_t> helpers{0};  // workers that joined (never exceeds max_helpers)
  std::atomic<size_t> active{0};   // workers still touching this Job
};

// Claims and runs tasks until none are left. A throwing task is recorded (the first exception
// wins) and still counts as done, so the join below never waits forever and never unwinds early.
void drain(Job& job) {
  for (;;) {
    const size_t t = job.next.fetch_add(1, std::memory_order_relaxed);
    if (t >= job.ntasks) return;
    try {
      (*job.fn)(t);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.error_mu);
      if (!job.error) job.error = std::current_exception();
    }
    job.done.fetch_add(1, std::memory_order_acq_rel);
  }
}

class Pool {
 public:
  void submit_and_run(Job& job) {
    if (job.max_helpers > 0) {
      ensure_workers(job.max_helpers);
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(&job);
        generation_.fetch_add(1, std::memory_order_release);
      }
      if (job.max_helpers == 1)
        cv_.notify_one();
      else
        cv_.notify_all();
    }
    drain(job);
    if (job.max_helpers > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = queue_.begin(); it != queue_.end(); ++it)
        if (*it == &job) {
          queue_.erase(it);
          break;
        }
    }
    // No worker can join now; wait for the ones that did to finish their tasks.
    for (unsigned spins = 0;
         job.done.load(std::memory_order_acquire) < job.ntasks || job.active.load(std::memory_order_acquire) != 0;
         ++spins) {
      if (spins > 64) std::this_thread::yield();
    }
  }

 private:
  void ensure_workers(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    while (workers_ < n) {
      std::thread(&Pool::worker_loop, this).detach();
      ++workers_;
    }
  }

  // Takes a job that still wants helpers, under mu_; drops jobs whose tasks are all claimed.
  Job* take_locked() {
    while (!queue_.empty()) {
      Job* job = queue_.front();
      if (job->next.load(std::memory_order_relaxed) >= job->ntasks) {
        queue_.pop_front();
        continue;
      }
      const size_t h = job->helpers.fetch_add(1, std::memory_order_relaxed) + 1;
      job->active.fetch_add(1, std::memory_order_acq_rel);
      if (h >= job->max_helpers) queue_.pop_front();
      return job;
    }
    return nullptr;
  }

  void worker_loop() {
    for (;;) {
      Job* job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        job = take_locked();
        if (!job) {
          // Spin briefly (unlocked) for new work, then sleep until some arrives.
          const uint64_t seen = generation_.load(std::memory_order_acquire);
          lock.unlock();
          const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
          while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < spin_until) {
            cpu_relax();
          }
          lock.lock();
          cv_.wait(lock, [&] { return !queue_.empty(); });
          job = take_locked();
        }
      }
      if (!job) continue;
      drain(*job);
      job->active.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> queue_;
  std::atomic<uint64_t> generation_{0};
  size_t workers_ = 0;
};

// Never destroyed: detached workers may still be parked on it while the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

size_t hardware_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<size_t>(n);
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

void parallel_for(size_t ntasks, size_t parallelism, const std::function<void(size_t)>& fn) {
  if (ntasks == 0) return;
  if (parallelism <= 1 || ntasks == 1) {
    for (size_t t = 0; t < ntasks; ++t) fn(t);  // on the caller: exceptions propagate directly
    return;
  }
  Job job;
  job.fn = &fn;
  job.ntasks = ntasks;
  job.max_helpers = std::min(parallelism, ntasks) - 1;
  pool().submit_and_run(job);  // returns only after every task ran and no helper touches job
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace rb
