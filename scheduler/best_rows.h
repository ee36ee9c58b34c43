// File: best_rows.h
//
// BestRows keeps one total per node-table row and answers, in O(log n),
// which total is the highest, how many rows have it, and which is the k-th
// of those rows counting from a given row onwards (wrapping around). It is
// a segment tree of (max, count of max). The scheduler uses it to pick the
// best node of a cycle after recomputing only the rows that changed since
// the last cycle of a pod of the same template.
//
// A row that is not feasible holds kNone, which is below every total.
//
// Example:
//   BestRows best;
//   best.Reset(n);                        // every row kNone
//   best.Set(r, total);                   // as rows are (re)computed
//   BestRows::Top top = best.top();       // top.count rows have top.value
//   uint32_t r = best.KthBest(from, k);   // k < top.count

#ifndef KESTREL_SCHEDULER_BEST_ROWS_H_
#define KESTREL_SCHEDULER_BEST_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace kestrel::scheduler {

class BestRows {
 public:
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::min();

  struct Top {
    int64_t value = kNone;
    uint32_t count = 0;  // rows holding `value`; 0 when every row is kNone
  };

  // n rows, every one kNone.
  void Reset(size_t n);
  size_t size() const { return n_; }

  void Set(size_t row, int64_t value);
  // Many rows at once: Assign each (the answers are stale meanwhile), then
  // Rebuild once; O(n) in all, where Set on every row is O(n log n).
  void Assign(size_t row, int64_t value) { tree_[leaves_ + row] = Top{value, 1}; }
  void Rebuild();
  int64_t Get(size_t row) const { return tree_[leaves_ + row].value; }

  // The highest value and how many rows hold it.
  Top top() const {
    return tree_[1].value == kNone ? Top{kNone, 0} : tree_[1];
  }

  // KthBest()
  //
  // Of the rows holding top().value, in the order from, from + 1, ...,
  // n - 1, 0, ..., from - 1: the k-th (0-based). Requires k < top().count.
  uint32_t KthBest(size_t from, uint32_t k) const;

 private:
  static Top Merge(const Top& a, const Top& b);
  // How many rows in [begin, end) hold `value` (the tree's top value).
  uint32_t CountTop(size_t begin, size_t end) const;
  // The k-th row in [begin, end) holding the top value (k < its count).
  uint32_t KthTopIn(size_t begin, size_t end, uint32_t k) const;

  size_t n_ = 0;
  size_t leaves_ = 1;      // a power of two >= n_; leaf i is tree_[leaves_ + i]
  std::vector<Top> tree_;  // tree_[1] is the root
};

}  // namespace kestrel::scheduler

#endif  // KESTREL_SCHEDULER_BEST_ROWS_H_
