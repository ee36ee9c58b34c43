#include "host/metrics/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kestrel::host {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, prefix)) out.emplace_back(line);
  }
  return out;
}

// The `le` values of `name`'s buckets for the series whose other labels are
// `labels` ("" for none, else `profile="p",result="r",`).
std::vector<std::string> LeValues(const std::string& text, const std::string& name,
                                  const std::string& labels) {
  std::vector<std::string> out;
  const std::string prefix = absl::StrCat(name, "_bucket{", labels, "le=\"");
  for (const std::string& line : LinesStartingWith(text, prefix)) {
    const std::string rest = line.substr(prefix.size());
    out.push_back(rest.substr(0, rest.find('"')));
  }
  return out;
}

SchedulerMetrics& Observed() {
  static SchedulerMetrics* m = [] {
    auto* m = new SchedulerMetrics();
    m->ObserveAttempt(AttemptResult::kScheduled, "default-scheduler", 0.003);
    m->ObserveAttempt(AttemptResult::kScheduled, "default-scheduler", 0.005);
    m->ObserveAttempt(AttemptResult::kUnschedulable, "default-scheduler", 0.02);
    m->ObservePodScheduled(2, 0.5);
    m->SetPendingPods(PendingQueue::kActive, 3);
    m->SetPendingPods(PendingQueue::kGated, 1);
    m->AddQueueIncomingPods("active", "PodAdd", 4);
    m->ObservePreemption(3);
    m->ObserveExtensionPoint("Filter", "Success", "default-scheduler", 0.0002);
    m->SetUnschedulablePods("NodeResourcesFit", "default-scheduler", 2);
    return m;
  }();
  return *m;
}

// Upstream's buckets, written out as kube-scheduler's /metrics prints them.
TEST(SchedulerMetricsTest, BucketBoundariesAreUpstreams) {
  struct Case {
    std::string name;
    std::string labels;
    std::string les;
  };
  const std::vector<Case> cases = {
      {"scheduler_scheduling_attempt_duration_seconds",
       "profile=\"default-scheduler\",result=\"scheduled\",",
       "0.001 0.002 0.004 0.008 0.016 0.032 0.064 0.128 0.256 0.512 1.024 2.048 4.096 8.192 "
       "16.384 +Inf"},
      {"scheduler_pod_scheduling_sli_duration_seconds", "attempts=\"2\",",
       "0.01 0.02 0.04 0.08 0.16 0.32 0.64 1.28 2.56 5.12 10.24 20.48 40.96 81.92 163.84 327.68 "
       "655.36 1310.72 2621.44 5242.88 +Inf"},
      {"scheduler_pod_scheduling_attempts", "", "1 2 4 8 16 +Inf"},
      {"scheduler_preemption_victims", "", "1 2 4 8 16 32 64 +Inf"},
      {"scheduler_framework_extension_point_duration_seconds",
       "extension_point=\"Filter\",profile=\"default-scheduler\",status=\"Success\",",
       "0.0001 0.0002 0.0004 0.0008 0.0016 0.0032 0.0064 0.0128 0.0256 0.0512 0.1024 0.2048 "
       "+Inf"},
  };
  const std::string text = Observed().Exposition();
  for (const Case& c : cases) {
    EXPECT_EQ(absl::StrJoin(LeValues(text, c.name, c.labels), " "), c.les) << c.name;
  }
}

TEST(SchedulerMetricsTest, NamesTypesHelpAndSeries) {
  const std::string text = Observed().Exposition();
  const std::vector<std::string> lines = {
      "# HELP scheduler_schedule_attempts_total [STABLE] Number of attempts to schedule pods, by "
      "the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an "
      "internal scheduler problem.",
      "# TYPE scheduler_schedule_attempts_total counter",
      "scheduler_schedule_attempts_total{profile=\"default-scheduler\",result=\"scheduled\"} 2",
      "scheduler_schedule_attempts_total{profile=\"default-scheduler\",result=\"unschedulable\"} "
      "1",
      "# HELP scheduler_scheduling_attempt_duration_seconds [STABLE] Scheduling attempt latency "
      "in seconds (scheduling algorithm + binding)",
      "# TYPE scheduler_scheduling_attempt_duration_seconds histogram",
      "scheduler_scheduling_attempt_duration_seconds_bucket{profile=\"default-scheduler\","
      "result=\"scheduled\",le=\"0.004\"} 1",
      "scheduler_scheduling_attempt_duration_seconds_bucket{profile=\"default-scheduler\","
      "result=\"scheduled\",le=\"0.008\"} 2",
      "scheduler_scheduling_attempt_duration_seconds_count{profile=\"default-scheduler\","
      "result=\"scheduled\"} 2",
      "# HELP scheduler_pod_scheduling_sli_duration_seconds [BETA] E2e latency for a pod being "
      "scheduled, from the time the pod enters the scheduling queue an d might involve multiple "
      "scheduling attempts.",
      "# TYPE scheduler_pod_scheduling_sli_duration_seconds histogram",
      "scheduler_pod_scheduling_sli_duration_seconds_count{attempts=\"2\"} 1",
      "# HELP scheduler_pod_scheduling_attempts [STABLE] Number of attempts to successfully "
      "schedule a pod.",
      "scheduler_pod_scheduling_attempts_bucket{le=\"2\"} 1",
      "# HELP scheduler_pending_pods [STABLE] Number of pending pods, by the queue type. 'active' "
      "means number of pods in activeQ; 'backoff' means number of pods in backoffQ; "
      "'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to "
      "schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never "
      "attempted to schedule because they are gated.",
      "# TYPE scheduler_pending_pods gauge",
      "scheduler_pending_pods{queue=\"active\"} 3",
      "scheduler_pending_pods{queue=\"gated\"} 1",
      "# HELP scheduler_queue_incoming_pods_total [STABLE] Number of pods added to scheduling "
      "queues by event and queue type.",
      "scheduler_queue_incoming_pods_total{event=\"PodAdd\",queue=\"active\"} 4",
      "# HELP scheduler_preemption_attempts_total [STABLE] Total preemption attempts in the "
      "cluster till now",
      "# TYPE scheduler_preemption_attempts_total counter",
      "scheduler_preemption_attempts_total 1",
      "# HELP scheduler_preemption_victims [STABLE] Number of selected preemption victims",
      "scheduler_preemption_victims_bucket{le=\"2\"} 0",
      "scheduler_preemption_victims_bucket{le=\"4\"} 1",
      "scheduler_preemption_victims_sum 3",
      "# HELP scheduler_framework_extension_point_duration_seconds [STABLE] Latency for running "
      "all plugins of a specific extension point.",
      "# HELP scheduler_unschedulable_pods [ALPHA] The number of unschedulable pods broken down by "
      "plugin name. A pod will increment the gauge for all plugins that caused it to not schedule "
      "and so this metric have meaning only when broken down by plugin.",
      "# TYPE scheduler_unschedulable_pods gauge",
      "scheduler_unschedulable_pods{plugin=\"NodeResourcesFit\",profile=\"default-scheduler\"} 2",
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
      "# TYPE process_cpu_seconds_total counter",
      "# HELP process_resident_memory_bytes Resident memory size in bytes.",
      "# TYPE process_resident_memory_bytes gauge",
      "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
      "# HELP process_open_fds Number of open file descriptors.",
      "# HELP process_max_fds Maximum number of open file descriptors.",
  };
  const std::vector<std::string> all = absl::StrSplit(text, '\n');
  for (const std::string& line : lines) {
    EXPECT_THAT(all, ::testing::Contains(line)) << text;
  }
}

// A vector with no series yet is left out, as client_golang's Gather does;
// plain counters and histograms are there at zero.
TEST(SchedulerMetricsTest, EmptyVectorsAreLeftOut) {
  SchedulerMetrics fresh;
  const std::string text = fresh.Exposition();
  EXPECT_THAT(text, Not(HasSubstr("scheduler_schedule_attempts_total")));
  EXPECT_THAT(text, Not(HasSubstr("scheduler_pending_pods")));
  EXPECT_THAT(text, HasSubstr("\nscheduler_preemption_attempts_total 0\n"));
  EXPECT_THAT(text, HasSubstr("\nscheduler_pod_scheduling_attempts_count 0\n"));
}

// Families come sorted by name, process metrics included, as Gather sorts.
TEST(SchedulerMetricsTest, FamiliesSortedByName) {
  const std::vector<std::string> types = LinesStartingWith(Observed().Exposition(), "# TYPE ");
  ASSERT_GT(types.size(), 10u);
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_EQ(types.front(), "# TYPE process_cpu_seconds_total counter");
}

TEST(SchedulerMetricsTest, ProcessMetricsReadProc) {
  double rss = -1, start = -1, fds = -1;
  for (const prometheus::MetricFamily& f : ProcessMetrics()) {
    if (f.name == "process_resident_memory_bytes") rss = f.metric[0].gauge.value;
    if (f.name == "process_start_time_seconds") start = f.metric[0].gauge.value;
    if (f.name == "process_open_fds") fds = f.metric[0].gauge.value;
  }
  EXPECT_GT(rss, 1 << 20);
  // After 2020-01-01 and not in the future.
  EXPECT_GT(start, 1577836800.0);
  EXPECT_LE(start, static_cast<double>(time(nullptr)) + 1);
  EXPECT_GE(fds, 3);  // stdin, stdout, stderr
}

TEST(SchedulerMetricsTest, ConcurrentObservationsAllCount) {
  SchedulerMetrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 1000; ++i) m.ObserveAttempt(AttemptResult::kError, "p", 0.001);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(m.Exposition(),
              HasSubstr("\nscheduler_schedule_attempts_total{profile=\"p\",result=\"error\"} 4000\n"));
}

}  // namespace
}  // namespace kestrel::host
