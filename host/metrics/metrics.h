// File: metrics.h
//
// SchedulerMetrics holds kube-scheduler's Prometheus metrics under upstream's
// names, types, labels, help strings and buckets (pkg/scheduler/metrics:
// metrics.go and profile_metrics.go), plus the process metrics the Go client
// exports, and renders them in the Prometheus text format for /metrics.
//
// Help strings carry component-base's stability prefix ("[STABLE] ...",
// "[BETA] ...", "[ALPHA] ...") as kube-scheduler's /metrics shows them.
// Metric storage and rendering are prometheus-cpp's core library (Registry,
// TextSerializer); the process metrics are read from /proc at each
// rendering, as client_golang's process collector does.
//
// Example:
//   SchedulerMetrics metrics;
//   metrics.ObserveAttempt(AttemptResult::kScheduled, "default-scheduler", 0.004);
//   metrics.SetPendingPods(PendingQueue::kActive, 12);
//   std::string text = metrics.Exposition();
//
// Thread-safe: every method may be called from any thread at any time.

#ifndef KESTREL_HOST_METRICS_METRICS_H_
#define KESTREL_HOST_METRICS_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace kestrel::host {

// The `result` label of scheduler_schedule_attempts_total and
// scheduler_scheduling_attempt_duration_seconds.
enum class AttemptResult { kScheduled, kUnschedulable, kError };

// The `queue` label of scheduler_pending_pods.
enum class PendingQueue { kActive, kBackoff, kUnschedulable, kGated };

// The label values upstream uses: "scheduled", "unschedulable", "error";
// "active", "backoff", "unschedulable", "gated".
absl::string_view AttemptResultName(AttemptResult result);
absl::string_view PendingQueueName(PendingQueue queue);

// Upstream's ExponentialBuckets(start, factor, count): start, start*factor,
// ... (count values), each computed from the previous one as Go does, so the
// `le` labels print the same.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

class SchedulerMetrics {
 public:
  SchedulerMetrics();
  SchedulerMetrics(const SchedulerMetrics&) = delete;
  SchedulerMetrics& operator=(const SchedulerMetrics&) = delete;

  // ObserveAttempt()
  //
  // One scheduling attempt of a pod under `profile` (the schedulerName) that
  // took `seconds` (algorithm and binding): counts it in
  // scheduler_schedule_attempts_total and observes it in
  // scheduler_scheduling_attempt_duration_seconds (upstream's
  // PodScheduled / PodUnschedulable / PodScheduleError).
  void ObserveAttempt(AttemptResult result, absl::string_view profile, double seconds);

  // ObservePodScheduled()
  //
  // A pod bound after `attempts` attempts, `sli_seconds` after it entered the
  // queue: scheduler_pod_scheduling_sli_duration_seconds{attempts} and
  // scheduler_pod_scheduling_attempts.
  void ObservePodScheduled(int attempts, double sli_seconds);

  // SetPendingPods()
  //
  // scheduler_pending_pods{queue}: the pods in one of the queue's parts.
  void SetPendingPods(PendingQueue queue, double pods);

  // AddQueueIncomingPods()
  //
  // scheduler_queue_incoming_pods_total{queue,event}: `pods` pods moved into
  // `queue` ("active", "backoff", "unschedulable") by `event`
  // ("PodAdd", "ScheduleAttemptFailure", "NodeAdd", ...).
  void AddQueueIncomingPods(absl::string_view queue, absl::string_view event, int pods = 1);

  // ObservePreemption()
  //
  // One preemption attempt (scheduler_preemption_attempts_total) that chose
  // `victims` victims (scheduler_preemption_victims).
  void ObservePreemption(int victims);

  // ObserveExtensionPoint()
  //
  // scheduler_framework_extension_point_duration_seconds: running every
  // plugin of `extension_point` ("PreFilter", "Filter", "Score", ...)
  // ended with `status` (the framework Code's name: "Success",
  // "Unschedulable", ...) after `seconds`.
  void ObserveExtensionPoint(absl::string_view extension_point, absl::string_view status,
                             absl::string_view profile, double seconds);

  // SetUnschedulablePods()
  //
  // scheduler_unschedulable_pods{plugin,profile}: pods that `plugin` keeps
  // from scheduling now.
  void SetUnschedulablePods(absl::string_view plugin, absl::string_view profile, double pods);

  // Exposition()
  //
  // Every metric in the Prometheus text format (version 0.0.4), the
  // process metrics first, then the scheduler's in name order.
  std::string Exposition() const;

  // The content type of Exposition().
  static constexpr absl::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& schedule_attempts_;
  prometheus::Family<prometheus::Histogram>& attempt_duration_;
  prometheus::Family<prometheus::Histogram>& sli_duration_;
  prometheus::Family<prometheus::Histogram>& pod_scheduling_attempts_;
  prometheus::Family<prometheus::Gauge>& pending_pods_;
  prometheus::Family<prometheus::Counter>& queue_incoming_pods_;
  prometheus::Family<prometheus::Counter>& preemption_attempts_;
  prometheus::Family<prometheus::Histogram>& preemption_victims_;
  prometheus::Family<prometheus::Histogram>& extension_point_duration_;
  prometheus::Family<prometheus::Gauge>& unschedulable_pods_;
};

// ProcessMetrics()
//
// The process collector's families as client_golang exports them on Linux:
// process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_virtual_memory_bytes, process_resident_memory_bytes and
// process_start_time_seconds, read from /proc/self. A value /proc does not
// give is left out, never made up.
std::vector<prometheus::MetricFamily> ProcessMetrics();

}  // namespace kestrel::host

#endif  // KESTREL_HOST_METRICS_METRICS_H_
