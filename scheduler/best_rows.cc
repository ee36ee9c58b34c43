#include "scheduler/best_rows.h"

namespace kestrel::scheduler {

BestRows::Top BestRows::Merge(const Top& a, const Top& b) {
  if (a.value > b.value) return a;
  if (b.value > a.value) return b;
  return {a.value, a.count + b.count};
}

void BestRows::Reset(size_t n) {
  n_ = n;
  leaves_ = 1;
  while (leaves_ < n) leaves_ *= 2;
  // A kNone leaf counts once, so that Merge keeps counts of kNone rows
  // consistent; top().count is reported as 0 for kNone below.
  tree_.assign(2 * leaves_, Top{kNone, 0});
  for (size_t i = 0; i < n; ++i) tree_[leaves_ + i] = Top{kNone, 1};
  Rebuild();
}

void BestRows::Rebuild() {
  for (size_t i = leaves_ - 1; i >= 1; --i) tree_[i] = Merge(tree_[2 * i], tree_[2 * i + 1]);
}

void BestRows::Set(size_t row, int64_t value) {
  size_t i = leaves_ + row;
  tree_[i] = Top{value, 1};
  for (i /= 2; i >= 1; i /= 2) tree_[i] = Merge(tree_[2 * i], tree_[2 * i + 1]);
}

uint32_t BestRows::CountTop(size_t begin, size_t end) const {
  const int64_t best = tree_[1].value;
  uint32_t count = 0;
  // Bottom-up over the canonical cover of [begin, end).
  for (size_t lo = begin + leaves_, hi = end + leaves_; lo < hi; lo /= 2, hi /= 2) {
    if (lo & 1) {
      if (tree_[lo].value == best) count += tree_[lo].count;
      ++lo;
    }
    if (hi & 1) {
      --hi;
      if (tree_[hi].value == best) count += tree_[hi].count;
    }
  }
  return count;
}

uint32_t BestRows::KthTopIn(size_t begin, size_t end, uint32_t k) const {
  const int64_t best = tree_[1].value;
  // Walk the canonical cover of [begin, end) left to right; descend into
  // the subtree that holds the k-th.
  // At most two nodes a level: the left ones in order, the right ones
  // in reverse.
  size_t left[130], right[65];
  size_t num_left = 0, num_right = 0;
  for (size_t lo = begin + leaves_, hi = end + leaves_; lo < hi; lo /= 2, hi /= 2) {
    if (lo & 1) left[num_left++] = lo++;
    if (hi & 1) right[num_right++] = --hi;
  }
  while (num_right > 0) left[num_left++] = right[--num_right];
  for (size_t i = 0; i < num_left; ++i) {
    size_t node = left[i];
    if (tree_[node].value != best) continue;
    if (k >= tree_[node].count) {
      k -= tree_[node].count;
      continue;
    }
    while (node < leaves_) {
      const Top& l = tree_[2 * node];
      if (l.value == best && k < l.count) {
        node = 2 * node;
      } else {
        if (l.value == best) k -= l.count;
        node = 2 * node + 1;
      }
    }
    return static_cast<uint32_t>(node - leaves_);
  }
  return static_cast<uint32_t>(begin);  // unreachable when k < the count
}

uint32_t BestRows::KthBest(size_t from, uint32_t k) const {
  const uint32_t after = CountTop(from, n_);
  if (k < after) return KthTopIn(from, n_, k);
  return KthTopIn(0, from, k - after);
}

}  // namespace kestrel::scheduler
