// File: html_report.h
//
// `kestrel simulate --report=FILE.html`: one self-contained HTML page to look
// at a simulation. No network: inline CSS, a little vanilla JavaScript that
// draws inline SVG, and all data embedded once as JSON in
// `<script type="application/json" id="kestrel-data">` (tests read it). The
// page shows the summary, why pods did not fit (the FitError reasons by
// plugin, and the pods with their messages), a utilization map of every node
// grouped by zone or any node label, before and after the run, the spread of
// each workload over groups and nodes, preemptions and rescheduler actions on
// the virtual-time line, and a per-pod drill-down (`FILE.html#pod=NS/NAME`
// opens one).
//
// The drill-down's explain records cost a full explain each (every filter on
// every node, every score on every feasible node), so they are kept for the
// unschedulable pods (up to a bound) and an even sample of the others, each
// against the cluster as it was when that pod was scheduled; the page says
// which.
//
// Example:
//   HtmlReportOptions opts;
//   ReportRecorder recorder(opts, cluster.pending_pods.size());
//   SimOptions sim;
//   sim.observer = &recorder;
//   ASSIGN_OR_RETURN(Report r, Simulate(cluster, config, sim));
//   std::string page = HtmlReport(cluster, r, recorder, opts);

#ifndef KESTREL_SIM_HTML_REPORT_H_
#define KESTREL_SIM_HTML_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sim/cluster.h"
#include "sim/explain.h"
#include "sim/simulator.h"

namespace kestrel::sim {

struct HtmlReportOptions {
  // The node label the utilization map and the spread table group by;
  // nodes without it form the group "(none)".
  std::string group_by = "topology.kubernetes.io/zone";
  // Explain records: every unschedulable pod, up to this many (the first in
  // scheduling order)...
  size_t max_unschedulable_records = 200;
  // ...and about this many pods in all, every k-th in scheduling order.
  // About 1.5 ms a pod at 5,000 nodes (SummarizePod).
  size_t sampled_records = 200;
  // Nodes listed per record, best total first.
  size_t top_nodes = 10;
  // Wall time and throughput in the summary (golden tests turn them off).
  bool with_timing = true;
};

// What the report needs to see during the run: pass it as
// SimOptions::observer. Not thread-safe: it runs on the scheduling thread.
class ReportRecorder : public Observer {
 public:
  // `num_pending`: how many pods the run will place (the sampling stride).
  ReportRecorder(const HtmlReportOptions& options, size_t num_pending);

  void Started(Host& host) override;
  void BeforeFirstAttempt(Host& host, size_t index, const model::PodPtr& pod) override;
  void AfterFirstAttempt(Host& host, size_t index, const model::PodPtr& pod,
                         const Placement& placement) override;
  void Finished(Host& host) override;

  // Requests on one node, as the cache counts them.
  struct NodeUsage {
    int64_t milli_cpu = 0;
    int64_t memory = 0;  // bytes
    int pods = 0;
  };
  // In cluster node order.
  const std::vector<NodeUsage>& before() const { return before_; }
  const std::vector<NodeUsage>& after() const { return after_; }
  // Explain records by index in Report::placements. A pod whose explain
  // failed has none, and its error in `explain_errors`.
  const std::map<size_t, ExplainSummary>& records() const { return records_; }
  const std::map<size_t, std::string>& explain_errors() const { return explain_errors_; }
  size_t stride() const { return stride_; }
  // Unschedulable pods (after their first attempt) with a record.
  size_t unschedulable_explained() const { return unschedulable_explained_; }

 private:
  std::vector<NodeUsage> Usage(Host& host) const;
  void Record(Host& host, size_t index, const model::Pod& pod);

  HtmlReportOptions options_;
  size_t stride_ = 1;
  size_t unschedulable_explained_ = 0;
  std::vector<NodeUsage> before_, after_;
  std::map<size_t, ExplainSummary> records_;
  std::map<size_t, std::string> explain_errors_;
};

// WorkloadOf()
//
// The workload a pod belongs to, as the report groups pods: its controller
// ownerReference ("ReplicaSet default/web-1"); a ReplicaSet that a
// Deployment made (the pod has a pod-template-hash label and the
// ReplicaSet's name ends in "-<hash>") as its Deployment ("Deployment
// default/web"). Pods without a controller fall back to their app,
// app.kubernetes.io/name or k8s-app label ("app=web in default"); empty
// when none applies.
std::string WorkloadOf(const model::Pod& pod, const model::Interner& names);

// HtmlReportData()
//
// The JSON the page embeds (compact: arrays, interned strings, rounded
// numbers). Placements, messages, counts and events are those of
// SimulateJson(report).
std::string HtmlReportData(const Cluster& cluster, const Report& report,
                           const ReportRecorder& recorder, const HtmlReportOptions& options);

// HtmlReport()
//
// The whole page: HtmlReportData embedded in the page template.
std::string HtmlReport(const Cluster& cluster, const Report& report,
                       const ReportRecorder& recorder, const HtmlReportOptions& options);

// WriteHtmlReport()
//
// HtmlReport written to `path`; the error names the file.
absl::Status WriteHtmlReport(const std::string& path, const Cluster& cluster,
                             const Report& report, const ReportRecorder& recorder,
                             const HtmlReportOptions& options);

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_HTML_REPORT_H_
