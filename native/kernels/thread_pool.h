// A small process-wide pool for data-parallel kernel work. The caller always takes part, so a call
// makes progress even when every worker is busy with another caller (several JS threads and libuv
// threads may submit at once). Workers spin briefly before sleeping so back-to-back single queries
// do not pay a futex wake-up each time.
#pragma once
#include <cstddef>
#include <functional>

namespace rb {

// Runs fn(task) for every task in [0, ntasks) on at most `parallelism` threads (the caller
// included), and returns when all tasks are done. Tasks are claimed dynamically. If tasks throw, the
// first exception is rethrown on the caller after every task has finished.
void parallel_for(size_t ntasks, size_t parallelism, const std::function<void(size_t)>& fn);

// Hardware threads available to this process (at least 1).
size_t hardware_threads();

}  // namespace rb
