// Exact top-K selection: a fixed-capacity min-heap of (score, index) whose root is the current worst
// kept entry. Order is score descending, ties broken by lower index, so results never depend on scan
// order or thread count. NaN scores never enter (the candidate filters compare with >=).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace rb {

struct Scored {
  float score;
  int32_t index;
};

// True when a ranks strictly before b.
inline bool ranks_before(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

class TopKHeap {
 public:
  TopKHeap() = default;
  explicit TopKHeap(size_t k) { reset(k); }

  void reset(size_t k) {
    k_ = k;
    size_ = 0;
    data_.resize(k);
  }

  // Scores below this can never enter; candidates at or above it must be offered.
  float threshold() const { return size_ < k_ ? -std::numeric_limits<float>::infinity() : data_[0].score; }

  void offer(float score, int32_t index) {
    if (k_ == 0 || score != score) return;
    const Scored e{score, index};
    if (size_ < k_) {
      size_t i = size_++;
      while (i > 0) {  // sift up: parents must rank after children
        const size_t p = (i - 1) / 2;
        if (!ranks_before(data_[p], e)) break;
        data_[i] = data_[p];
        i = p;
      }
      data_[i] = e;
      return;
    }
    if (!ranks_before(e, data_[0])) return;
    size_t i = 0;
    for (;;) {  // sift down from the root
      const size_t l = 2 * i + 1;
      if (l >= size_) break;
      size_t w = l;  // the child that ranks last
      if (l + 1 < size_ && ranks_before(data_[l], data_[l + 1])) w = l + 1;
      if (!ranks_before(e, data_[w])) break;
      data_[i] = data_[w];
      i = w;
    }
    data_[i] = e;
  }

  size_t size() const { return size_; }
  const Scored* begin() const { return data_.data(); }
  const Scored* end() const { return data_.data() + size_; }

  // Writes the kept entries best first; returns how many.
  size_t drain_sorted(int32_t* indices, float* scores) {
    std::sort(data_.begin(), data_.begin() + size_, ranks_before);
    for (size_t i = 0; i < size_; ++i) {
      indices[i] = data_[i].index;
      scores[i] = data_[i].score;
    }
    const size_t n = size_;
    size_ = 0;
    return n;
  }

 private:
  size_t k_ = 0, size_ = 0;
  std::vector<Scored> data_;
};

// Items that may not be returned: a per-query exclusion list and a global block list, both sorted
// ascending. Checked only for items that already beat the heap threshold, so its cost is paid by
// the few candidates, not by every scored row.
struct Exclusions {
  const int32_t* query = nullptr;
  size_t query_len = 0;
  const int32_t* global = nullptr;
  size_t global_len = 0;

  bool excludes(int32_t item) const {
    return (query_len && std::binary_search(query, query + query_len, item)) ||
           (global_len && std::binary_search(global, global + global_len, item));
  }
};

}  // namespace rb
