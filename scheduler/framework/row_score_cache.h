// File: row_score_cache.h
//
// RowScoreCache keeps a plugin's per-row scores between cycles. A score that
// depends only on a row's contents and on a few numbers of the pod (its
// key) is still right in the next cycle if neither changed; between two
// cycles only the rows of the nodes that changed (usually one: the node the
// last pod went to) need computing again. The cache is checked per row
// against the table's (epoch, generation), so it can never serve a score
// for contents it was not computed from.
//
// Example (in a ScorePlugin):
//   PreScore:   cache_.Begin(&snapshot.table(), {pod.non_zero_milli_cpu, pod.non_zero_memory});
//   ScoreRows:  cache_.Score(table, rows, out, [&](uint32_t r) { return Compute(r); });
//
// Begin runs on the scheduling thread; Score may run on many threads at
// once for disjoint sets of rows.

#ifndef KESTREL_SCHEDULER_FRAMEWORK_ROW_SCORE_CACHE_H_
#define KESTREL_SCHEDULER_FRAMEWORK_ROW_SCORE_CACHE_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "scheduler/framework/node_table.h"

namespace kestrel::framework {

class RowScoreCache {
 public:
  // Begin()
  //
  // Starts a cycle over `table` (nullptr: none, nothing is cached) for a pod
  // whose scores depend on `key`: a different key or table forgets every
  // cached score.
  void Begin(const NodeTable* table, absl::Span<const int64_t> key) {
    const bool same_key =
        key_.size() == key.size() && std::equal(key.begin(), key.end(), key_.begin());
    if (table == nullptr) {
      epoch_ = 0;  // no table has epoch 0: Score computes everything
    } else if (!same_key || epoch_ != table->epoch) {
      epoch_ = table->epoch;
      generation_.assign(table->size(), 0);
      score_.resize(table->size());
    } else if (generation_.size() != table->size()) {
      generation_.resize(table->size(), 0);
      score_.resize(table->size());
    }
    key_.assign(key.begin(), key.end());
  }

  // Score()
  //
  // out[i] = compute(rows[i]), from the cache where row rows[i] has not
  // changed since it was computed for the current key. Rows of generation 0
  // (NodeInfos no cache ever touched) are always computed.
  template <typename Compute>
  void Score(const NodeTable& table, absl::Span<const uint32_t> rows, int64_t* out,
             Compute compute) {
    if (epoch_ != table.epoch) {
      for (size_t i = 0; i < rows.size(); ++i) out[i] = compute(rows[i]);
      return;
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const uint32_t r = rows[i];
      const uint64_t g = table.generation[r];
      if (g == 0 || generation_[r] != g) {
        score_[r] = compute(r);
        generation_[r] = g;
      }
      out[i] = score_[r];
    }
  }

 private:
  std::vector<int64_t> key_;
  uint64_t epoch_ = 0;
  std::vector<uint64_t> generation_;
  std::vector<int64_t> score_;
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_ROW_SCORE_CACHE_H_
