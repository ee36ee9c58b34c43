// File: parallel.h
//
// Parallelizer runs a function over [0, n) in chunks on a fixed pool of
// threads, the caller's thread included. Work is split into contiguous chunks
// and results are written by index, so outputs never depend on the number of
// threads.
//
// Example:
//   Parallelizer p(/*threads=*/2);
//   p.For(nodes.size(), [&](size_t begin, size_t end) {
//     for (size_t i = begin; i < end; ++i) verdict[i] = Check(nodes[i]);
//   });

#ifndef KESTREL_SCHEDULER_FRAMEWORK_PARALLEL_H_
#define KESTREL_SCHEDULER_FRAMEWORK_PARALLEL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kestrel::framework {

class Parallelizer {
 public:
  // `threads` <= 1 runs everything on the caller's thread.
  explicit Parallelizer(int threads);
  ~Parallelizer();
  Parallelizer(const Parallelizer&) = delete;
  Parallelizer& operator=(const Parallelizer&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // For()
  //
  // Calls fn(begin, end) over disjoint chunks covering [0, n) and returns when
  // all are done. Jobs of fewer than `min_parallel` items run on the caller
  // alone: handing chunks to another core costs a few microseconds, so cheap
  // per-item work needs many items to gain from it. Not reentrant: one For at
  // a time per Parallelizer.
  void For(size_t n, const std::function<void(size_t, size_t)>& fn,
           size_t min_parallel = kDefaultMinParallel);

  // About what a scheduler's per-node plugins do for a thousand nodes.
  static constexpr size_t kDefaultMinParallel = 1024;

 private:
  // One For() call. Workers that wake late hold a job whose chunks are all
  // claimed and leave it untouched, so the caller never waits for a thread
  // that was not needed.
  //
  // Each thread owns one contiguous range of the items and works through it
  // first, so from one job to the next the same thread touches the same
  // output slots and their cache lines stay in its core; a thread that is
  // done steals chunks from the others' ranges.
  struct Range {
    alignas(64) std::atomic<size_t> next{0};
    size_t end = 0;
  };
  struct Job {
    const std::function<void(size_t, size_t)>* fn;
    size_t chunk;
    std::vector<Range> ranges;  // one per thread, the caller's first
    alignas(64) std::atomic<size_t> remaining{0};  // items not finished yet
  };

  void WorkerLoop(int home);
  // Runs chunks of `job`, those of range `home` first, until none is left.
  void RunChunks(Job& job, int home);

  std::vector<std::thread> workers_;
  // Mirrors epoch_ for workers that spin a little before they block: a
  // scheduler calls For a few times per pod, and a blocked thread wakes too
  // late to help with jobs of tens of microseconds.
  // On a cache line of their own: idle workers read them in a loop, and a
  // neighbour written by the caller would bounce between cores.
  alignas(64) std::atomic<uint64_t> published_epoch_{0};
  std::atomic<bool> stopping_{false};
  char padding_[64 - sizeof(std::atomic<uint64_t>) - sizeof(std::atomic<bool>)];
  // A std::mutex, not an absl::Mutex: Debian's Abseil is not built for
  // ThreadSanitizer, which then cannot see an absl::Mutex order the
  // threads, while it intercepts the pthread calls of std::mutex and
  // std::condition_variable (`bazel test --config=tsan`, see .bazelrc).
  std::mutex mu_;
  std::condition_variable job_posted_;    // epoch_ or stop_ changed
  std::condition_variable job_finished_;  // a job's last chunk is done
  // Guarded by mu_.
  uint64_t epoch_ = 0;
  bool stop_ = false;
  std::shared_ptr<Job> job_;
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_PARALLEL_H_
