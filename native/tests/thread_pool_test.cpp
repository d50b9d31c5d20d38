// The process-wide pool: every task runs exactly once for any (tasks, parallelism), exceptions reach
// the caller after all tasks finish, and several callers at once (as JS threads and libuv threads
// do) all complete.
#include <atomic>
#include <stdexcept>
#include <thread>

#include "../kernels/thread_pool.h"
#include "check.h"

TEST_CASE("thread pool: each task exactly once") {
  CHECK(rb::hardware_threads() >= 1);
  for (size_t par : {size_t(1), size_t(2), size_t(3), size_t(8)})
    for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(7), size_t(1000)}) {
      std::vector<std::atomic<int>> hits(n);
      rb::parallel_for(n, par, [&](size_t t) { hits[t].fetch_add(1); });
      bool once = true;
      for (auto& h : hits) once &= h.load() == 1;
      CHECK(once);
    }
}

TEST_CASE("thread pool: the first exception is rethrown after every task ran") {
  std::atomic<int> ran{0};
  bool caught = false;
  try {
    rb::parallel_for(64, 4, [&](size_t t) {
      ran.fetch_add(1);
      if (t % 10 == 3) throw std::runtime_error("task failed");
    });
  } catch (const std::runtime_error&) {
    caught = true;
  }
  CHECK(caught);
  CHECK_EQ(ran.load(), 64);
  // The pool is still usable afterwards.
  std::atomic<int> after{0};
  rb::parallel_for(10, 4, [&](size_t) { after.fetch_add(1); });
  CHECK_EQ(after.load(), 10);
}

TEST_CASE("thread pool: concurrent callers and nested calls all finish") {
  std::atomic<long> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 6; ++c)
    callers.emplace_back([&] {
      for (int round = 0; round < 200; ++round)
        rb::parallel_for(9, 3, [&](size_t t) {
          // A task submitting work of its own: the caller takes part, so this cannot deadlock.
          if (t == 0) rb::parallel_for(4, 2, [&](size_t) { total.fetch_add(1); });
          total.fetch_add(1);
        });
    });
  for (auto& t : callers) t.join();
  CHECK_EQ(total.load(), 6L * 200 * (9 + 4));
}
