#include "sim/html_report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

namespace kestrel::sim {
namespace {

using nlohmann::json;

// The page template (sim/html_report.html, wrapped by the BUILD's genrule
// into a raw string literal).
constexpr char kPage[] =
#include "sim/html_report_page.inc"
    ;
// Where the template takes the data.
constexpr char kDataMarker[] = "/*KESTREL_DATA*/";

constexpr char kPodTemplateHash[] = "pod-template-hash";
constexpr const char* kAppLabels[] = {"app", "app.kubernetes.io/name", "k8s-app"};
constexpr char kNoGroup[] = "(none)";

// Strings that repeat (plugins, reasons, messages, workloads) are sent once;
// the data refers to them by index.
class Strings {
 public:
  int Id(const std::string& s) {
    auto [it, inserted] = ids_.try_emplace(s, static_cast<int>(list_.size()));
    if (inserted) list_.push_back(s);
    return it->second;
  }
  json ToJson() const { return list_; }

 private:
  absl::flat_hash_map<std::string, int> ids_;
  std::vector<std::string> list_;
};

double Seconds(absl::Duration d) {
  return std::round(absl::ToDoubleSeconds(d) * 1000) / 1000;
}

int64_t Mebibytes(int64_t bytes) { return (bytes + (1 << 19)) >> 20; }

// The value of label `key`; nullopt when absent (an empty value is "").
std::optional<std::string> LabelValue(const model::Labels& labels,
                                      const model::Interner& names, absl::string_view key) {
  const model::Id id = names.Find(key);
  if (id == model::kNoId) return std::nullopt;
  const model::Label* l = labels.Find(id);
  if (l == nullptr) return std::nullopt;
  return l->value == model::kNoId ? std::string() : std::string(names.Name(l->value));
}

json RecordJson(size_t index, const ExplainSummary& r, Strings& strings,
                const absl::flat_hash_map<std::string, int>& node_index) {
  json out = {{"pod", index}, {"feasible", r.feasible}};
  if (r.pre_filter_rejection.has_value()) {
    out["preFilter"] = {strings.Id(r.pre_filter_rejection->plugin),
                        strings.Id(r.pre_filter_rejection->message)};
  }
  if (r.excluded > 0) out["excluded"] = {r.excluded, strings.Id(r.excluded_reason)};
  json filters = json::array();
  for (const ExplainSummary::Filter& f : r.filters) {
    json reasons = json::array();
    for (const auto& [reason, n] : f.reasons) reasons.push_back({strings.Id(reason), n});
    // [plugin, skipped, rejected nodes, [[reason, nodes]...], other nodes]
    filters.push_back({strings.Id(f.plugin), f.skipped ? 1 : 0, f.rejected, std::move(reasons),
                       f.other});
  }
  out["filters"] = std::move(filters);
  json plugins = json::array();
  for (const std::string& p : r.score_plugins) plugins.push_back(strings.Id(p));
  out["scorePlugins"] = std::move(plugins);
  if (!r.score_error.empty()) out["scoreError"] = r.score_error;
  json top = json::array();
  for (const ExplainSummary::Scored& s : r.top) {
    json scores = json::array();
    for (const std::optional<int64_t>& v : s.scores) {
      scores.push_back(v.has_value() ? json(*v) : json(nullptr));
    }
    auto it = node_index.find(s.node);
    top.push_back({it == node_index.end() ? -1 : it->second, s.total, std::move(scores)});
  }
  out["top"] = std::move(top);
  out["bestTies"] = r.best_ties;
  return out;
}

json UsageJson(const std::vector<ReportRecorder::NodeUsage>& usage) {
  json cpu = json::array(), mem = json::array(), pods = json::array();
  for (const ReportRecorder::NodeUsage& u : usage) {
    cpu.push_back(u.milli_cpu);
    mem.push_back(Mebibytes(u.memory));
    pods.push_back(u.pods);
  }
  return {{"cpu", std::move(cpu)}, {"mem", std::move(mem)}, {"pods", std::move(pods)}};
}

}  // namespace

ReportRecorder::ReportRecorder(const HtmlReportOptions& options, size_t num_pending)
    : options_(options) {
  if (options_.sampled_records > 0) {
    stride_ = std::max<size_t>(
        1, (num_pending + options_.sampled_records - 1) / options_.sampled_records);
  }
}

std::vector<ReportRecorder::NodeUsage> ReportRecorder::Usage(Host& host) const {
  host.scheduler().UpdateSnapshot();
  const cache::Snapshot& snapshot = host.scheduler().snapshot();
  std::vector<NodeUsage> out;
  out.reserve(host.nodes().size());
  for (const model::NodePtr& node : host.nodes()) {
    NodeUsage u;
    if (const framework::NodeInfo* info = snapshot.Get(node->name); info != nullptr) {
      u.milli_cpu = info->requested().milli_cpu;
      u.memory = info->requested().memory;
      u.pods = static_cast<int>(info->pods().size());
    }
    out.push_back(u);
  }
  return out;
}

void ReportRecorder::Record(Host& host, size_t index, const model::Pod& pod) {
  absl::StatusOr<ExplainSummary> summary = SummarizePod(host, pod, options_.top_nodes);
  if (!summary.ok()) {
    explain_errors_[index] = std::string(summary.status().message());
    return;
  }
  records_[index] = *std::move(summary);
}

void ReportRecorder::Started(Host& host) { before_ = Usage(host); }

void ReportRecorder::BeforeFirstAttempt(Host& host, size_t index, const model::PodPtr& pod) {
  if (options_.sampled_records > 0 && index % stride_ == 0) Record(host, index, *pod);
}

void ReportRecorder::AfterFirstAttempt(Host& host, size_t index, const model::PodPtr& pod,
                                       const Placement& placement) {
  if (!placement.node.empty()) return;
  if (records_.count(index) > 0 || explain_errors_.count(index) > 0) {
    ++unschedulable_explained_;  // sampled before the attempt
    return;
  }
  if (unschedulable_explained_ >= options_.max_unschedulable_records) return;
  ++unschedulable_explained_;
  // Nothing was placed, so the cluster is as the pod's cycle saw it, but
  // for the victims a preemption deleted.
  Record(host, index, *pod);
}

void ReportRecorder::Finished(Host& host) { after_ = Usage(host); }

std::string WorkloadOf(const model::Pod& pod, const model::Interner& names) {
  for (const model::OwnerRef& owner : pod.owners) {
    if (!owner.controller) continue;
    if (owner.kind == "ReplicaSet") {
      const std::optional<std::string> hash = LabelValue(pod.labels, names, kPodTemplateHash);
      if (hash.has_value() && !hash->empty() &&
          absl::EndsWith(owner.name, absl::StrCat("-", *hash))) {
        return absl::StrCat("Deployment ", pod.ns, "/",
                            owner.name.substr(0, owner.name.size() - hash->size() - 1));
      }
    }
    return absl::StrCat(owner.kind, " ", pod.ns, "/", owner.name);
  }
  for (const char* key : kAppLabels) {
    if (const std::optional<std::string> v = LabelValue(pod.labels, names, key); v.has_value()) {
      return absl::StrCat(key, "=", *v, " in ", pod.ns);
    }
  }
  return "";
}

std::string HtmlReportData(const Cluster& cluster, const Report& report,
                           const ReportRecorder& recorder, const HtmlReportOptions& options) {
  Strings strings;
  const model::Interner& names = *cluster.names;

  // Nodes, in cluster order, with their group.
  absl::flat_hash_map<std::string, int> node_index;
  json node_names = json::array(), node_groups = json::array(), cpu = json::array(),
       mem = json::array();
  std::map<std::string, int> group_ids;  // sorted by name
  std::vector<std::string> node_group_names;
  for (const model::NodePtr& n : cluster.nodes) {
    node_index.emplace(n->name, static_cast<int>(node_index.size()));
    node_names.push_back(n->name);
    const std::optional<std::string> g = LabelValue(n->labels, names, options.group_by);
    node_group_names.push_back(g.has_value() ? *g : kNoGroup);
    group_ids.emplace(node_group_names.back(), 0);
    cpu.push_back(n->allocatable.milli_cpu);
    mem.push_back(Mebibytes(n->allocatable.memory));
  }
  json groups = json::array();
  for (auto& [name, id] : group_ids) {
    id = static_cast<int>(groups.size());
    groups.push_back(name);
  }
  for (const std::string& g : node_group_names) node_groups.push_back(group_ids[g]);
  auto node_id = [&](const std::string& name) {
    auto it = node_index.find(name);
    return it == node_index.end() ? -1 : it->second;
  };

  // Workloads of every pod the report shows: pending pods by placement,
  // bound pods for the spread they started with.
  absl::flat_hash_map<std::string, const model::Pod*> pending_by_key;
  for (const model::PodPtr& p : cluster.pending_pods) pending_by_key.emplace(p->Key(), p.get());
  std::map<std::string, int> workload_ids;
  json workloads = json::array();
  auto workload_id = [&](const model::Pod& pod) {
    std::string w = WorkloadOf(pod, names);
    if (w.empty()) return -1;
    auto [it, inserted] = workload_ids.try_emplace(w, static_cast<int>(workloads.size()));
    if (inserted) workloads.push_back(w);
    return it->second;
  };

  // Placements, as SimulateJson has them.
  json pod_names = json::array(), pod_nodes = json::array(), pod_workloads = json::array(),
       pod_messages = json::array(), pod_at = json::array(), nominated = json::array(),
       victims = json::array();
  std::map<std::pair<std::string, std::string>, std::pair<int, int64_t>> reasons;
  for (size_t i = 0; i < report.placements.size(); ++i) {
    const Placement& p = report.placements[i];
    pod_names.push_back(p.pod);
    pod_nodes.push_back(node_id(p.node));
    auto pod = pending_by_key.find(p.pod);
    pod_workloads.push_back(pod == pending_by_key.end() ? -1 : workload_id(*pod->second));
    pod_messages.push_back(p.node.empty() ? strings.Id(p.message) : -1);
    pod_at.push_back(Seconds(p.at));
    if (!p.nominated_node.empty()) nominated.push_back({i, p.nominated_node});
    if (!p.victims.empty()) victims.push_back({i, p.victims});
    if (!p.node.empty()) continue;
    for (const scheduler::ReasonCount& r : p.fit_reasons) {
      auto& [pods, nodes] = reasons[{r.plugin, r.reason}];
      ++pods;
      nodes += r.nodes;
    }
  }
  // Most pods first, then by plugin and reason.
  std::vector<std::pair<std::pair<std::string, std::string>, std::pair<int, int64_t>>> sorted(
      reasons.begin(), reasons.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.first > b.second.first;
  });
  json fit_reasons = json::array();
  for (const auto& [key, counts] : sorted) {
    // [plugin, reason, pods, nodes summed over those pods]
    fit_reasons.push_back(
        {strings.Id(key.first), strings.Id(key.second), counts.first, counts.second});
  }

  json existing_workloads = json::array(), existing_nodes = json::array();
  for (const model::PodPtr& p : cluster.bound_pods) {
    const int w = workload_id(*p);
    const int n = node_id(p->node_name);
    if (w < 0 || n < 0) continue;
    existing_workloads.push_back(w);
    existing_nodes.push_back(n);
  }

  json events = json::array();
  for (const SimEvent& e : report.events) {
    // [at seconds, object, type, reason, message]
    events.push_back({Seconds(e.at), strings.Id(e.event.object), strings.Id(e.event.type),
                      strings.Id(e.event.reason), strings.Id(e.event.message)});
  }

  json records = json::array();
  for (const auto& [index, record] : recorder.records()) {
    records.push_back(RecordJson(index, record, strings, node_index));
  }
  json explain_errors = json::array();
  for (const auto& [index, error] : recorder.explain_errors()) {
    explain_errors.push_back({index, error});
  }

  json summary = {{"nodes", report.nodes},
                  {"existingPods", report.existing_pods},
                  {"podsToPlace", report.placements.size()},
                  {"scheduled", report.scheduled},
                  {"unschedulable", report.unschedulable},
                  {"preempted", report.preempted},
                  {"evicted", report.evicted},
                  {"onUnknownNodes", report.pods_on_unknown_nodes}};
  if (options.with_timing) {
    summary["seconds"] = std::round(report.seconds * 1000) / 1000;
    summary["podsPerSecond"] = std::round(report.pods_per_second);
  }

  json out = {
      {"version", 1},
      {"summary", std::move(summary)},
      {"groupBy", options.group_by},
      {"groups", std::move(groups)},
      {"nodes",
       {{"name", std::move(node_names)},
        {"group", std::move(node_groups)},
        {"cpu", std::move(cpu)},
        {"mem", std::move(mem)},
        {"before", UsageJson(recorder.before())},
        {"after", UsageJson(recorder.after())}}},
      {"pods",
       {{"name", std::move(pod_names)},
        {"node", std::move(pod_nodes)},
        {"workload", std::move(pod_workloads)},
        {"message", std::move(pod_messages)},
        {"at", std::move(pod_at)},
        {"nominated", std::move(nominated)},
        {"victims", std::move(victims)}}},
      {"existing", {{"workload", std::move(existing_workloads)}, {"node", std::move(existing_nodes)}}},
      {"workloads", std::move(workloads)},
      {"fitReasons", std::move(fit_reasons)},
      {"events", std::move(events)},
      {"records", std::move(records)},
      {"explainErrors", std::move(explain_errors)},
      {"sampling",
       {{"stride", options.sampled_records > 0 ? recorder.stride() : 0},
        {"unschedulableExplained", recorder.unschedulable_explained()},
        {"maxUnschedulable", options.max_unschedulable_records},
        {"topNodes", options.top_nodes}}},
  };
  // Last, so that every string above is interned.
  out["strings"] = strings.ToJson();
  return out.dump();
}

std::string HtmlReport(const Cluster& cluster, const Report& report,
                       const ReportRecorder& recorder, const HtmlReportOptions& options) {
  // In a <script> element "</script" or "<!--" would end or change it; "<"
  // only occurs inside JSON strings, where \u003c reads the same.
  const std::string data = absl::StrReplaceAll(
      HtmlReportData(cluster, report, recorder, options), {{"<", "\\u003c"}});
  const std::string page = kPage;
  const size_t at = page.find(kDataMarker);
  if (at == std::string::npos) return page;  // the template's test catches this
  return absl::StrCat(page.substr(0, at), data, page.substr(at + sizeof(kDataMarker) - 1));
}

absl::Status WriteHtmlReport(const std::string& path, const Cluster& cluster,
                             const Report& report, const ReportRecorder& recorder,
                             const HtmlReportOptions& options) {
  const std::string page = HtmlReport(cluster, report, recorder, options);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out.write(page.data(), static_cast<std::streamsize>(page.size()));
  out.close();
  if (!out) {
    return absl::FailedPreconditionError(
        absl::StrCat("--report: cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace kestrel::sim
