// The memory-read ceiling probe: sums a buffer with four independent AVX2 accumulators (enough
// loads in flight to saturate memory from one core). Built with -mavx2 for this file only.
#pragma once
#include <cstddef>

namespace rb_bench {
float stream_read(const float* data, size_t n);
}
