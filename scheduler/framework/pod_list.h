// File: pod_list.h
//
// PodList holds the pods of one node for NodeInfo. Its pods sit in chunks of
// kChunk that copies of the list share, copy-on-write: the cache's NodeInfo
// and the snapshot's copy of it share every chunk until one of them changes,
// and a change copies only the chunk it touches. Copying a NodeInfo so costs
// one reference per chunk, not one per pod, which matters for a node that
// holds thousands of pods (the node every SchedulingDaemonset pod asks for):
// the snapshot copies a changed node every cycle.
//
// Example:
//   PodList pods;
//   pods.push_back(pod);
//   PodList copy = pods;                  // shares the chunk
//   copy.push_back(other);                // copies it first
//   for (const model::PodPtr& p : pods) ...
//
// Not thread-safe for writes; copies may be read from many threads.

#ifndef KESTREL_SCHEDULER_FRAMEWORK_POD_LIST_H_
#define KESTREL_SCHEDULER_FRAMEWORK_POD_LIST_H_

#include <cstddef>
#include <iterator>
#include <memory>
#include <vector>

#include "model/objects.h"

namespace kestrel::framework {

class PodList {
 public:
  static constexpr size_t kChunk = 128;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = model::PodPtr;
    using difference_type = std::ptrdiff_t;
    using pointer = const model::PodPtr*;
    using reference = const model::PodPtr&;

    const_iterator() = default;
    reference operator*() const { return (*list_)[index_]; }
    pointer operator->() const { return &(*list_)[index_]; }
    const_iterator& operator++() {
      ++index_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++index_;
      return old;
    }
    bool operator==(const const_iterator& o) const { return index_ == o.index_; }
    bool operator!=(const const_iterator& o) const { return index_ != o.index_; }

   private:
    friend class PodList;
    const_iterator(const PodList* list, size_t index) : list_(list), index_(index) {}
    const PodList* list_ = nullptr;
    size_t index_ = 0;
  };

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const model::PodPtr& operator[](size_t i) const { return (*chunks_[i / kChunk])[i % kChunk]; }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size_); }

  void push_back(model::PodPtr pod) {
    if (size_ % kChunk == 0) {
      chunks_.push_back(std::make_shared<Chunk>());
      chunks_.back()->reserve(size_ == 0 ? 8 : kChunk);
    }
    Mutable(chunks_.size() - 1).push_back(std::move(pod));
    ++size_;
  }

  // Puts the last pod in place of pod `i` and drops the last: the order of
  // a node's pods means nothing.
  void SwapRemove(size_t i) {
    const size_t last = size_ - 1;
    if (i != last) {
      model::PodPtr moved = (*this)[last];
      Mutable(i / kChunk)[i % kChunk] = std::move(moved);
    }
    Chunk& tail = Mutable(last / kChunk);
    tail.pop_back();
    if (tail.empty()) chunks_.pop_back();
    --size_;
  }

 private:
  using Chunk = std::vector<model::PodPtr>;

  // Chunk `c`, copied first when another list shares it.
  Chunk& Mutable(size_t c) {
    std::shared_ptr<Chunk>& chunk = chunks_[c];
    if (chunk.use_count() > 1) {
      auto copy = std::make_shared<Chunk>();
      copy->reserve(chunk->capacity());
      copy->assign(chunk->begin(), chunk->end());
      chunk = std::move(copy);
    }
    return *chunk;
  }

  std::vector<std::shared_ptr<Chunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_POD_LIST_H_
