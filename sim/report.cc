#include "sim/report.h"

#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace kestrel::sim {

using nlohmann::json;

namespace {

json PlacementJson(const Placement& p) {
  json entry = {{"pod", p.pod}};
  if (p.node.empty()) {
    entry["node"] = nullptr;
    entry["message"] = p.message;
    if (!p.nominated_node.empty()) entry["nominatedNode"] = p.nominated_node;
  } else {
    entry["node"] = p.node;
  }
  if (!p.victims.empty()) entry["victims"] = p.victims;
  return entry;
}

}  // namespace

std::string SimulateJson(const Report& report, bool with_timing) {
  json placements = json::array();
  for (const Placement& p : report.placements) {
    json entry = PlacementJson(p);
    if (p.at != absl::ZeroDuration()) entry["at"] = absl::FormatDuration(p.at);
    placements.push_back(std::move(entry));
  }
  json events = json::array();
  for (const SimEvent& e : report.events) {
    events.push_back({{"at", absl::FormatDuration(e.at)},
                      {"object", e.event.object},
                      {"type", e.event.type},
                      {"reason", e.event.reason},
                      {"message", e.event.message}});
  }
  json summary = {{"scheduled", report.scheduled},
                  {"unschedulable", report.unschedulable},
                  {"preempted", report.preempted},
                  {"evicted", report.evicted}};
  // Only when there are any, as the text's Cluster line.
  if (report.pods_on_unknown_nodes > 0) summary["onUnknownNodes"] = report.pods_on_unknown_nodes;
  if (with_timing) {
    summary["seconds"] = report.seconds;
    summary["podsPerSecond"] = report.pods_per_second;
  }
  json out = {{"placements", std::move(placements)},
              {"events", std::move(events)},
              {"summary", std::move(summary)}};
  // Added only when the input had workloads: older outputs are unchanged.
  if (!report.workloads.empty()) {
    json workloads = json::array();
    for (const WorkloadExpansion& w : report.workloads) {
      json entry = {{"kind", w.kind},         {"namespace", w.ns},
                    {"name", w.name},         {"wanted", w.wanted},
                    {"created", w.created},   {"present", w.present}};
      if (!w.note.empty()) entry["note"] = w.note;
      workloads.push_back(std::move(entry));
    }
    out["workloads"] = std::move(workloads);
  }
  return out.dump(2) + "\n";
}

std::string SimulateText(const Report& report, bool placements, bool with_timing) {
  std::string out;
  std::map<std::string, int> reasons;
  for (const Placement& p : report.placements) {
    if (p.node.empty()) ++reasons[p.message];
    if (!placements) continue;
    if (p.node.empty()) {
      absl::StrAppend(&out, p.pod, "  unschedulable");
      if (!p.nominated_node.empty()) absl::StrAppend(&out, " (nominated to ", p.nominated_node, ")");
      absl::StrAppend(&out, ": ", p.message);
    } else {
      absl::StrAppend(&out, p.pod, "  -> ", p.node);
    }
    if (p.at != absl::ZeroDuration()) absl::StrAppend(&out, "  at +", absl::FormatDuration(p.at));
    if (!p.victims.empty()) {
      absl::StrAppend(&out, "  evicting ", absl::StrJoin(p.victims, ", "));
    }
    absl::StrAppend(&out, "\n");
  }
  if (placements && !report.placements.empty()) absl::StrAppend(&out, "\n");
  absl::StrAppend(&out, "Cluster:        ", report.nodes, " nodes, ", report.existing_pods,
                  " pods already running");
  if (report.pods_on_unknown_nodes > 0) {
    absl::StrAppend(&out, ", ", report.pods_on_unknown_nodes, " on unknown nodes");
  }
  absl::StrAppend(&out, "\n");
  absl::StrAppend(&out, "Pods to place:  ", report.placements.size(), "\n");
  absl::StrAppend(&out, "Scheduled:      ", report.scheduled, "\n");
  absl::StrAppend(&out, "Unschedulable:  ", report.unschedulable, "\n");
  absl::StrAppend(&out, "Preempted:      ", report.preempted, "\n");
  absl::StrAppend(&out, "Evicted:        ", report.evicted, "\n");
  if (!report.workloads.empty()) {
    absl::StrAppend(&out, "Workloads:\n");
    for (const WorkloadExpansion& w : report.workloads) {
      absl::StrAppend(&out, "  ", w.Summary(), "\n");
    }
  }
  if (!reasons.empty()) {
    // Most common first, then by text.
    std::vector<std::pair<int, std::string>> sorted;
    for (const auto& [msg, n] : reasons) sorted.push_back({-n, msg});
    std::sort(sorted.begin(), sorted.end());
    absl::StrAppend(&out, "Reasons:\n");
    for (const auto& [neg, msg] : sorted) {
      absl::StrAppend(&out, absl::StrFormat("  %6d x %s\n", -neg, msg));
    }
  }
  if (!report.events.empty()) {
    absl::StrAppend(&out, "Rescheduler:\n");
    for (const SimEvent& e : report.events) {
      absl::StrAppend(&out, "  +", absl::FormatDuration(e.at), "  ", e.event.object, "  ",
                      e.event.type, " ", e.event.reason, ": ", e.event.message, "\n");
    }
  }
  if (with_timing) {
    absl::StrAppend(&out, absl::StrFormat("Wall time:      %.3f s\n", report.seconds));
    absl::StrAppend(&out, absl::StrFormat("Throughput:     %.0f pods/s\n", report.pods_per_second));
  }
  return out;
}

namespace {

// Bytes as an exact binary quantity where one fits ("1Gi", "200Mi"), else
// the plain number: the value is never rounded.
std::string FormatBytes(int64_t bytes) {
  static constexpr const char* kSuffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  if (bytes == 0) return "0";
  int64_t v = bytes;
  const char* suffix = "";
  for (const char* s : kSuffixes) {
    if (v % 1024 != 0) break;
    v /= 1024;
    suffix = s;
  }
  return absl::StrCat(v, suffix);
}

std::string FormatScalar(const std::string& name, int64_t value) {
  // hugepages-<size> are bytes; extended resources are counts.
  if (absl::StartsWith(name, "hugepages-")) return FormatBytes(value);
  return absl::StrCat(value);
}

}  // namespace

std::string ExplainJson(const Explanation& e) {
  // Upstream framework.Resource's field names; cpu in millicores, the rest in
  // bytes or counts, so tools read exact integers.
  const EffectiveRequests& r = e.requests;
  json scalar = json::object();
  for (const auto& [name, value] : r.scalar) scalar[name] = value;
  json requests = {{"milliCPU", r.milli_cpu},
                   {"memory", r.memory},
                   {"ephemeralStorage", r.ephemeral_storage},
                   {"scalarResources", std::move(scalar)}};
  json non_zero = {{"milliCPU", r.non_zero_milli_cpu}, {"memory", r.non_zero_memory}};
  json nodes = json::object();
  for (const NodeExplanation& n : e.nodes) {
    json filters = json::object();
    for (const auto& [plugin, verdict] : n.filters) filters[plugin] = verdict;
    // `scores` stays a map of integers; plugins skipped at PreScore are
    // listed apart.
    json scores = json::object();
    for (const auto& [plugin, score] : n.scores) scores[plugin] = score;
    nodes[n.node] = {{"feasible", n.feasible},
                     {"filters", std::move(filters)},
                     {"scores", std::move(scores)},
                     {"skipped", n.skipped_scores},
                     {"total", n.total}};
    if (!n.excluded.empty()) nodes[n.node]["excluded"] = n.excluded;
  }
  json out = {{"pod", e.pod},
              {"requests", std::move(requests)},
              {"nonZeroRequests", std::move(non_zero)},
              {"nodes", std::move(nodes)}};
  if (e.pre_filter_rejection.has_value()) {
    json rejection = {{"message", e.pre_filter_rejection->message}};
    if (!e.pre_filter_rejection->plugin.empty()) {
      rejection["plugin"] = e.pre_filter_rejection->plugin;
    }
    out["preFilterRejection"] = std::move(rejection);
  }
  if (!e.score_error.empty()) out["scoreError"] = e.score_error;
  out["selected"] = e.selected.empty() ? json(nullptr) : json(e.selected);
  if (e.selected.empty()) out["message"] = e.message;
  return out.dump(2) + "\n";
}

std::string ExplainText(const Explanation& e) {
  std::string out = absl::StrCat("Pod ", e.pod, "\n");
  const EffectiveRequests& r = e.requests;
  absl::StrAppend(&out, "Requests: cpu ", r.milli_cpu, "m, memory ", FormatBytes(r.memory),
                  ", ephemeral-storage ", FormatBytes(r.ephemeral_storage));
  for (const auto& [name, value] : r.scalar) {
    absl::StrAppend(&out, ", ", name, " ", FormatScalar(name, value));
  }
  absl::StrAppend(&out, "\nNon-zero requests (scoring): cpu ", r.non_zero_milli_cpu,
                  "m, memory ", FormatBytes(r.non_zero_memory), "\n");
  if (e.pre_filter_rejection.has_value()) {
    absl::StrAppend(&out, "PreFilter",
                    e.pre_filter_rejection->plugin.empty()
                        ? ""
                        : absl::StrCat(" ", e.pre_filter_rejection->plugin),
                    " rejected the pod: ", e.pre_filter_rejection->message, "\n");
  }
  for (const NodeExplanation& n : e.nodes) {
    absl::StrAppend(&out, "\nNode ", n.node, ": ", n.feasible ? "feasible" : "infeasible",
                    n.excluded.empty() ? "" : absl::StrCat(" (left out by PreFilter: ", n.excluded, ")"),
                    "\n");
    for (const auto& [plugin, verdict] : n.filters) {
      absl::StrAppend(&out, "  filter ", plugin, ": ", verdict, "\n");
    }
    if (!n.feasible || !e.score_error.empty()) continue;
    // In profile order, each plugin with its score or "skipped".
    for (const std::string& plugin : e.score_plugins) {
      for (const auto& [name, score] : n.scores) {
        if (name == plugin) absl::StrAppend(&out, "  score  ", plugin, ": ", score, "\n");
      }
      for (const std::string& name : n.skipped_scores) {
        if (name == plugin) absl::StrAppend(&out, "  score  ", plugin, ": ", kSkipped, "\n");
      }
    }
    absl::StrAppend(&out, "  total  ", n.total, "\n");
  }
  if (!e.score_error.empty()) absl::StrAppend(&out, "\nScoring failed: ", e.score_error, "\n");
  if (e.selected.empty()) {
    absl::StrAppend(&out, "\nSelected: none: ", e.message, "\n");
  } else {
    absl::StrAppend(&out, "\nSelected: ", e.selected, "\n");
  }
  return out;
}


std::string PlaceJson(const std::vector<Placement>& placements) {
  json list = json::array();
  int scheduled = 0;
  for (const Placement& p : placements) {
    list.push_back(PlacementJson(p));
    scheduled += !p.node.empty();
  }
  json out = {{"placements", std::move(list)},
              {"summary",
               {{"scheduled", scheduled},
                {"unschedulable", static_cast<int>(placements.size()) - scheduled}}}};
  return out.dump(2) + "\n";
}

std::string PlaceText(const std::vector<Placement>& placements) {
  std::string out;
  int scheduled = 0;
  for (const Placement& p : placements) {
    if (p.node.empty()) {
      absl::StrAppend(&out, p.pod, "  unschedulable");
      if (!p.nominated_node.empty()) absl::StrAppend(&out, " (nominated to ", p.nominated_node, ")");
      absl::StrAppend(&out, ": ", p.message);
    } else {
      ++scheduled;
      absl::StrAppend(&out, p.pod, "  -> ", p.node);
    }
    if (!p.victims.empty()) absl::StrAppend(&out, "  evicting ", absl::StrJoin(p.victims, ", "));
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "\nScheduled:      ", scheduled, "\n");
  absl::StrAppend(&out, "Unschedulable:  ", placements.size() - scheduled, "\n");
  return out;
}

std::string CapacityJson(const CapacityResult& result) {
  // An ordered object: nodes in cluster order.
  nlohmann::ordered_json per_node = nlohmann::ordered_json::object();
  for (const auto& [node, count] : result.per_node) per_node[node] = count;
  nlohmann::ordered_json out = {
      {"count", result.count},
      {"perNode", std::move(per_node)},
      {"stoppedBy", result.stopped_by.empty() ? nlohmann::ordered_json(nullptr)
                                              : nlohmann::ordered_json(result.stopped_by)}};
  return out.dump(2) + "\n";
}

std::string CapacityText(const CapacityResult& result) {
  std::string out = absl::StrCat("Count:       ", result.count, "\n");
  if (!result.per_node.empty()) absl::StrAppend(&out, "Per node:\n");
  for (const auto& [node, count] : result.per_node) {
    absl::StrAppend(&out, absl::StrFormat("  %6d  %s\n", count, node));
  }
  absl::StrAppend(&out, "Stopped by:  ",
                  result.stopped_by.empty() ? "the limit" : result.stopped_by, "\n");
  return out;
}

namespace {

nlohmann::ordered_json UnplacedJson(const std::vector<Unplaced>& pods) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Unplaced& u : pods) out.push_back({{"pod", u.pod}, {"message", u.message}});
  return out;
}

}  // namespace

std::string ScaleUpJson(const ScaleUpResult& result) {
  nlohmann::ordered_json fit = nlohmann::ordered_json::array();
  for (const Placement& p : result.fit_existing) fit.push_back({{"pod", p.pod}, {"node", p.node}});
  nlohmann::ordered_json templates = nlohmann::ordered_json::array();
  for (const TemplateScaleUp& t : result.templates) {
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (const NewNode& n : t.nodes) nodes.push_back({{"name", n.name}, {"pods", n.pods}});
    templates.push_back({{"name", t.name},
                         {"nodesNeeded", t.nodes_needed},
                         {"maxCountReached", t.max_count_reached},
                         {"nodes", std::move(nodes)},
                         {"unplaced", UnplacedJson(t.unplaced)}});
  }
  nlohmann::ordered_json out = {{"fitExisting", std::move(fit)},
                                {"templates", std::move(templates)},
                                {"noTemplate", UnplacedJson(result.no_template)}};
  return out.dump(2) + "\n";
}

std::string ScaleUpText(const ScaleUpResult& result) {
  std::string out = absl::StrCat("Fit existing nodes: ", result.fit_existing.size(), "\n");
  for (const Placement& p : result.fit_existing)
    absl::StrAppend(&out, "  ", p.pod, "  -> ", p.node, "\n");
  for (const TemplateScaleUp& t : result.templates) {
    absl::StrAppend(&out, "\nTemplate ", t.name, ": ", t.nodes_needed,
                    t.nodes_needed == 1 ? " node" : " nodes",
                    t.max_count_reached ? " (max count reached)" : "", "\n");
    for (const NewNode& n : t.nodes) {
      absl::StrAppend(&out, "  ", n.name, ": ",
                      n.pods.empty() ? "(no pods)" : absl::StrJoin(n.pods, ", "), "\n");
    }
    for (const Unplaced& u : t.unplaced) {
      absl::StrAppend(&out, "  unplaced ", u.pod, ": ", u.message, "\n");
    }
  }
  absl::StrAppend(&out, "\nFit no template: ", result.no_template.size(), "\n");
  for (const Unplaced& u : result.no_template) {
    absl::StrAppend(&out, "  ", u.pod, ": ", u.message, "\n");
  }
  return out;
}

std::string DrainJson(const std::vector<NodeDrain>& nodes) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const NodeDrain& n : nodes) {
    nlohmann::ordered_json pods = nlohmann::ordered_json::array();
    for (const DrainedPod& p : n.pods) {
      nlohmann::ordered_json entry = {{"pod", p.pod},
                                      {"action", std::string(ActionName(p.action))}};
      if (!p.node.empty()) entry["node"] = p.node;
      if (!p.reason.empty()) entry["reason"] = p.reason;
      pods.push_back(std::move(entry));
    }
    list.push_back({{"node", n.node}, {"drainable", n.drainable}, {"pods", std::move(pods)}});
  }
  nlohmann::ordered_json out = {{"nodes", std::move(list)}};
  return out.dump(2) + "\n";
}

std::string DrainText(const std::vector<NodeDrain>& nodes) {
  std::string out;
  for (const NodeDrain& n : nodes) {
    absl::StrAppend(&out, n.node, n.drainable ? ": drainable" : ": not drainable", "\n");
    for (const DrainedPod& p : n.pods) {
      absl::StrAppend(&out, "  ", p.pod, "  ", ActionName(p.action));
      if (!p.node.empty()) absl::StrAppend(&out, " -> ", p.node);
      if (!p.reason.empty()) absl::StrAppend(&out, ": ", p.reason);
      absl::StrAppend(&out, "\n");
    }
  }
  return out;
}

}  // namespace kestrel::sim
