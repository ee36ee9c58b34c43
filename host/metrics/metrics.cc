#include "host/metrics/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "prometheus/text_serializer.h"

namespace kestrel::host {
namespace {

using prometheus::Labels;

// pkg/scheduler/metrics/metrics.go, with component-base's stability prefix.
constexpr char kScheduleAttemptsHelp[] =
    "[STABLE] Number of attempts to schedule pods, by the result. 'unschedulable' means a pod "
    "could not be scheduled, while 'error' means an internal scheduler problem.";
constexpr char kAttemptDurationHelp[] =
    "[STABLE] Scheduling attempt latency in seconds (scheduling algorithm + binding)";
// "an d" is upstream's spelling.
constexpr char kSliDurationHelp[] =
    "[BETA] E2e latency for a pod being scheduled, from the time the pod enters the scheduling "
    "queue an d might involve multiple scheduling attempts.";
constexpr char kPodSchedulingAttemptsHelp[] =
    "[STABLE] Number of attempts to successfully schedule a pod.";
constexpr char kPendingPodsHelp[] =
    "[STABLE] Number of pending pods, by the queue type. 'active' means number of pods in "
    "activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods "
    "in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the "
    "number of unschedulable pods that the scheduler never attempted to schedule because they "
    "are gated.";
constexpr char kQueueIncomingPodsHelp[] =
    "[STABLE] Number of pods added to scheduling queues by event and queue type.";
constexpr char kPreemptionAttemptsHelp[] =
    "[STABLE] Total preemption attempts in the cluster till now";
constexpr char kPreemptionVictimsHelp[] = "[STABLE] Number of selected preemption victims";
constexpr char kExtensionPointDurationHelp[] =
    "[STABLE] Latency for running all plugins of a specific extension point.";
constexpr char kUnschedulablePodsHelp[] =
    "[ALPHA] The number of unschedulable pods broken down by plugin name. A pod will increment "
    "the gauge for all plugins that caused it to not schedule and so this metric have meaning "
    "only when broken down by plugin.";

// Buckets, as upstream declares them.
const std::vector<double>& AttemptDurationBuckets() {
  static const auto* b = new std::vector<double>(ExponentialBuckets(0.001, 2, 15));
  return *b;
}
// From 10ms, the last bucket [~88m, Inf).
const std::vector<double>& SliDurationBuckets() {
  static const auto* b = new std::vector<double>(ExponentialBuckets(0.01, 2, 20));
  return *b;
}
const std::vector<double>& PodSchedulingAttemptsBuckets() {
  static const auto* b = new std::vector<double>(ExponentialBuckets(1, 2, 5));
  return *b;
}
// More than 64 victims is rare: [64, +Inf) is one bucket.
const std::vector<double>& PreemptionVictimsBuckets() {
  static const auto* b = new std::vector<double>(ExponentialBuckets(1, 2, 7));
  return *b;
}
// From 0.1ms, the last bucket [~200ms, Inf).
const std::vector<double>& ExtensionPointBuckets() {
  static const auto* b = new std::vector<double>(ExponentialBuckets(0.0001, 2, 12));
  return *b;
}

template <typename T>
prometheus::Family<T>& Build(prometheus::detail::Builder<T> builder, const char* name,
                             const char* help, prometheus::Registry& registry) {
  return builder.Name(name).Help(help).Register(registry);
}

// --- /proc/self, read as client_golang's process collector (procfs) does.

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The fields of /proc/self/stat after "(comm)", which may hold spaces:
// fields[0] is the state (field 3 in proc(5)).
std::vector<std::string> StatFields() {
  const std::optional<std::string> stat = ReadFile("/proc/self/stat");
  if (!stat.has_value()) return {};
  const size_t close = stat->rfind(')');
  if (close == std::string::npos) return {};
  return absl::StrSplit(stat->substr(close + 1), ' ', absl::SkipWhitespace());
}

// The field numbered `n` in proc(5) (n >= 3).
std::optional<double> StatField(const std::vector<std::string>& fields, size_t n) {
  double value = 0;
  if (n < 3 || n - 3 >= fields.size() || !absl::SimpleAtod(fields[n - 3], &value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> BootTimeSeconds() {
  const std::optional<std::string> stat = ReadFile("/proc/stat");
  if (!stat.has_value()) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      double value = 0;
      if (absl::SimpleAtod(line, &value)) return value;
    }
  }
  return std::nullopt;
}

std::optional<double> OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  // The directory's own descriptor was open while it was read.
  return count - 1;
}

// The soft limit of /proc/self/limits' line `name`; "unlimited" is the
// largest uint64, as procfs reports it.
std::optional<double> SoftLimit(absl::string_view name) {
  const std::optional<std::string> limits = ReadFile("/proc/self/limits");
  if (!limits.has_value()) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*limits, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (words.empty()) return std::nullopt;
    if (words[0] == "unlimited") {
      return static_cast<double>(std::numeric_limits<uint64_t>::max());
    }
    double value = 0;
    if (absl::SimpleAtod(words[0], &value)) return value;
    return std::nullopt;
  }
  return std::nullopt;
}

void AddValue(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
              prometheus::MetricType type, std::optional<double> value) {
  if (!value.has_value()) return;
  prometheus::MetricFamily family{name, help, type, {}};
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = *value;
  } else {
    metric.gauge.value = *value;
  }
  family.metric.push_back(std::move(metric));
  out.push_back(std::move(family));
}

}  // namespace

absl::string_view AttemptResultName(AttemptResult result) {
  switch (result) {
    case AttemptResult::kScheduled:
      return "scheduled";
    case AttemptResult::kUnschedulable:
      return "unschedulable";
    case AttemptResult::kError:
      return "error";
  }
  return "error";
}

absl::string_view PendingQueueName(PendingQueue queue) {
  switch (queue) {
    case PendingQueue::kActive:
      return "active";
    case PendingQueue::kBackoff:
      return "backoff";
    case PendingQueue::kUnschedulable:
      return "unschedulable";
    case PendingQueue::kGated:
      return "gated";
  }
  return "active";
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> buckets;
  buckets.reserve(count);
  for (int i = 0; i < count; ++i) {
    buckets.push_back(start);
    start *= factor;
  }
  return buckets;
}

SchedulerMetrics::SchedulerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      schedule_attempts_(Build(prometheus::BuildCounter(), "scheduler_schedule_attempts_total",
                               kScheduleAttemptsHelp, *registry_)),
      attempt_duration_(Build(prometheus::BuildHistogram(),
                              "scheduler_scheduling_attempt_duration_seconds",
                              kAttemptDurationHelp, *registry_)),
      sli_duration_(Build(prometheus::BuildHistogram(),
                          "scheduler_pod_scheduling_sli_duration_seconds", kSliDurationHelp,
                          *registry_)),
      pod_scheduling_attempts_(Build(prometheus::BuildHistogram(),
                                     "scheduler_pod_scheduling_attempts",
                                     kPodSchedulingAttemptsHelp, *registry_)),
      pending_pods_(Build(prometheus::BuildGauge(), "scheduler_pending_pods", kPendingPodsHelp,
                          *registry_)),
      queue_incoming_pods_(Build(prometheus::BuildCounter(), "scheduler_queue_incoming_pods_total",
                                 kQueueIncomingPodsHelp, *registry_)),
      preemption_attempts_(Build(prometheus::BuildCounter(), "scheduler_preemption_attempts_total",
                                 kPreemptionAttemptsHelp, *registry_)),
      preemption_victims_(Build(prometheus::BuildHistogram(), "scheduler_preemption_victims",
                                kPreemptionVictimsHelp, *registry_)),
      extension_point_duration_(Build(prometheus::BuildHistogram(),
                                      "scheduler_framework_extension_point_duration_seconds",
                                      kExtensionPointDurationHelp, *registry_)),
      unschedulable_pods_(Build(prometheus::BuildGauge(), "scheduler_unschedulable_pods",
                                kUnschedulablePodsHelp, *registry_)) {
  // Metrics without labels exist from the start, at zero, as upstream's
  // plain Counter and Histogram do; vectors appear with their first child.
  preemption_attempts_.Add({});
  preemption_victims_.Add({}, PreemptionVictimsBuckets());
  pod_scheduling_attempts_.Add({}, PodSchedulingAttemptsBuckets());
}

void SchedulerMetrics::ObserveAttempt(AttemptResult result, absl::string_view profile,
                                      double seconds) {
  const Labels labels = {{"result", std::string(AttemptResultName(result))},
                         {"profile", std::string(profile)}};
  attempt_duration_.Add(labels, AttemptDurationBuckets()).Observe(seconds);
  schedule_attempts_.Add(labels).Increment();
}

void SchedulerMetrics::ObservePodScheduled(int attempts, double sli_seconds) {
  sli_duration_.Add({{"attempts", std::to_string(attempts)}}, SliDurationBuckets())
      .Observe(sli_seconds);
  pod_scheduling_attempts_.Add({}, PodSchedulingAttemptsBuckets()).Observe(attempts);
}

void SchedulerMetrics::SetPendingPods(PendingQueue queue, double pods) {
  pending_pods_.Add({{"queue", std::string(PendingQueueName(queue))}}).Set(pods);
}

void SchedulerMetrics::AddQueueIncomingPods(absl::string_view queue, absl::string_view event,
                                            int pods) {
  queue_incoming_pods_.Add({{"queue", std::string(queue)}, {"event", std::string(event)}})
      .Increment(pods);
}

void SchedulerMetrics::ObservePreemption(int victims) {
  preemption_attempts_.Add({}).Increment();
  preemption_victims_.Add({}, PreemptionVictimsBuckets()).Observe(victims);
}

void SchedulerMetrics::ObserveExtensionPoint(absl::string_view extension_point,
                                             absl::string_view status, absl::string_view profile,
                                             double seconds) {
  extension_point_duration_
      .Add({{"extension_point", std::string(extension_point)},
            {"status", std::string(status)},
            {"profile", std::string(profile)}},
           ExtensionPointBuckets())
      .Observe(seconds);
}

void SchedulerMetrics::SetUnschedulablePods(absl::string_view plugin, absl::string_view profile,
                                            double pods) {
  unschedulable_pods_.Add({{"plugin", std::string(plugin)}, {"profile", std::string(profile)}})
      .Set(pods);
}

std::string SchedulerMetrics::Exposition() const {
  std::vector<prometheus::MetricFamily> families = ProcessMetrics();
  for (prometheus::MetricFamily& family : registry_->Collect()) {
    // A vector with no child yet is not shown, as client_golang's Gather
    // leaves it out.
    if (!family.metric.empty()) families.push_back(std::move(family));
  }
  // client_golang's Gather sorts families by name.
  std::sort(families.begin(), families.end(),
            [](const prometheus::MetricFamily& a, const prometheus::MetricFamily& b) {
              return a.name < b.name;
            });
  return prometheus::TextSerializer().Serialize(families);
}

std::vector<prometheus::MetricFamily> ProcessMetrics() {
  std::vector<prometheus::MetricFamily> out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const std::vector<std::string> stat = StatFields();
  std::optional<double> cpu;
  if (const auto utime = StatField(stat, 14), stime = StatField(stat, 15);
      utime.has_value() && stime.has_value() && ticks > 0) {
    cpu = (*utime + *stime) / ticks;
  }
  std::optional<double> start;
  if (const auto since_boot = StatField(stat, 22), boot = BootTimeSeconds();
      since_boot.has_value() && boot.has_value() && ticks > 0) {
    start = *boot + *since_boot / ticks;
  }
  std::optional<double> rss = StatField(stat, 24);
  if (rss.has_value()) *rss *= page;
  using prometheus::MetricType;
  AddValue(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
           MetricType::Counter, cpu);
  AddValue(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
           OpenFds());
  AddValue(out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
           SoftLimit("Max open files"));
  AddValue(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
           MetricType::Gauge, StatField(stat, 23));
  AddValue(out, "process_virtual_memory_max_bytes",
           "Maximum amount of virtual memory available in bytes.", MetricType::Gauge,
           SoftLimit("Max address space"));
  AddValue(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
           MetricType::Gauge, rss);
  AddValue(out, "process_start_time_seconds",
           "Start time of the process since unix epoch in seconds.", MetricType::Gauge, start);
  return out;
}

}  // namespace kestrel::host
