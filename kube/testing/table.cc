#include "kube/testing/table.h"

#include <functional>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kube/testing/json_util.h"

namespace kestrel::kube::testing {
namespace {

struct Column {
  const char* name;
  const char* type;  // "string", "integer", "boolean"
  int priority;      // 1: shown by kubectl only with -o wide
  const char* description;
  const char* format = "";  // "name" for the object's name
};

using Cells = std::function<json(const json& object, absl::Time now)>;

struct Printer {
  const char* kind;
  std::vector<Column> columns;
  Cells cells;  // one JSON array, a cell per column
};

constexpr char kNameDoc[] =
    "Name must be unique within a namespace. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
constexpr char kAgeDoc[] =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created.";

Column NameColumn() { return {"Name", "string", 0, kNameDoc, "name"}; }
Column AgeColumn() { return {"Age", "string", 0, kAgeDoc}; }

const json& Path(const json& object, std::initializer_list<const char*> keys) {
  const json* at = &object;
  for (const char* key : keys) at = &Member(*at, key);
  return *at;
}

std::string StrAt(const json& object, std::initializer_list<const char*> keys) {
  return Str(Path(object, keys));
}

std::string OrNone(std::string s, const char* none = "<none>") { return s.empty() ? none : s; }

// translateTimestampSince: "<unknown>" without a time.
std::string Since(const std::string& timestamp, absl::Time now) {
  std::optional<absl::Time> t = ParseRfc3339(timestamp);
  if (!t.has_value()) return "<unknown>";
  return HumanDuration(now - *t);
}

std::string Age(const json& object, absl::Time now) {
  return Since(Meta(object, "creationTimestamp"), now);
}

// An IntOrString as intstr's String(): the number or the string.
std::string IntOrString(const json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return Str(v);
}

// printPod: the READY, STATUS and RESTARTS cells, and the wide ones.
json PodCells(const json& pod, absl::Time now) {
  const json& spec = Member(pod, "spec");
  const json& status = Member(pod, "status");
  const json& containers = Member(spec, "containers");
  const int64_t total = containers.is_array() ? static_cast<int64_t>(containers.size()) : 0;
  int64_t ready = 0;
  int64_t restarts = 0;
  std::string reason = Str(Member(status, "phase"));
  if (!Str(Member(status, "reason")).empty()) reason = Str(Member(status, "reason"));
  const json& conditions = Member(status, "conditions");
  if (conditions.is_array()) {
    for (const json& c : conditions) {
      if (Str(Member(c, "type")) == "PodScheduled" &&
          Str(Member(c, "reason")) == "SchedulingGated") {
        reason = "SchedulingGated";
      }
    }
  }

  // A terminated state's reason, or its signal or exit code.
  const auto terminated_reason = [](const json& terminated, const std::string& prefix) {
    if (!Str(Member(terminated, "reason")).empty()) {
      return prefix + Str(Member(terminated, "reason"));
    }
    if (Int(Member(terminated, "signal")) != 0) {
      return absl::StrCat(prefix, "Signal:", Int(Member(terminated, "signal")));
    }
    return absl::StrCat(prefix, "ExitCode:", Int(Member(terminated, "exitCode")));
  };

  bool initializing = false;
  const json& init_statuses = Member(status, "initContainerStatuses");
  const json& init_containers = Member(spec, "initContainers");
  if (init_statuses.is_array()) {
    for (size_t i = 0; i < init_statuses.size(); ++i) {
      const json& s = init_statuses[i];
      restarts += Int(Member(s, "restartCount"));
      const json& state = Member(s, "state");
      const json& terminated = Member(state, "terminated");
      const json& waiting = Member(state, "waiting");
      if (terminated.is_object() && Int(Member(terminated, "exitCode")) == 0) continue;
      if (terminated.is_object()) {
        reason = terminated_reason(terminated, "Init:");
      } else if (waiting.is_object() && !Str(Member(waiting, "reason")).empty() &&
                 Str(Member(waiting, "reason")) != "PodInitializing") {
        reason = "Init:" + Str(Member(waiting, "reason"));
      } else {
        reason =
            absl::StrCat("Init:", i, "/", init_containers.is_array() ? init_containers.size() : 0);
      }
      initializing = true;
      break;
    }
  }
  if (!initializing) {
    restarts = 0;
    bool running = false;
    const json& statuses = Member(status, "containerStatuses");
    if (statuses.is_array()) {
      for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
        const json& s = *it;
        restarts += Int(Member(s, "restartCount"));
        const json& state = Member(s, "state");
        const json& waiting = Member(state, "waiting");
        const json& terminated = Member(state, "terminated");
        if (!Str(Member(waiting, "reason")).empty()) {
          reason = Str(Member(waiting, "reason"));
        } else if (terminated.is_object()) {
          reason = terminated_reason(terminated, "");
        } else if (Member(s, "ready") == json(true) && Member(state, "running").is_object()) {
          running = true;
          ++ready;
        }
      }
    }
    // Some containers have completed, the others still run.
    if (reason == "Completed" && running) {
      reason = "NotReady";
      if (conditions.is_array()) {
        for (const json& c : conditions) {
          if (Str(Member(c, "type")) == "Ready" && Str(Member(c, "status")) == "True") {
            reason = "Running";
          }
        }
      }
    }
  }
  if (!Meta(pod, "deletionTimestamp").empty()) {
    reason = Str(Member(status, "reason")) == "NodeLost" ? "Unknown" : "Terminating";
  }

  const json& gates = Member(spec, "readinessGates");
  std::string readiness_gates = "<none>";
  if (gates.is_array() && !gates.empty()) {
    int64_t true_gates = 0;
    for (const json& gate : gates) {
      const std::string type = Str(Member(gate, "conditionType"));
      if (!conditions.is_array()) continue;
      for (const json& c : conditions) {
        if (Str(Member(c, "type")) == type && Str(Member(c, "status")) == "True") ++true_gates;
      }
    }
    readiness_gates = absl::StrCat(true_gates, "/", gates.size());
  }
  return json::array({Meta(pod, "name"), absl::StrCat(ready, "/", total), reason,
                      std::to_string(restarts), Age(pod, now), OrNone(Str(Member(status, "podIP"))),
                      OrNone(Str(Member(spec, "nodeName"))),
                      OrNone(Str(Member(status, "nominatedNodeName"))), readiness_gates});
}

// findNodeRoles: node-role.kubernetes.io/<role> keys and kubernetes.io/role values.
std::string NodeRoles(const json& node) {
  std::set<std::string> roles;
  const json& labels = Member(Member(node, "metadata"), "labels");
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      constexpr absl::string_view kPrefix = "node-role.kubernetes.io/";
      if (absl::StartsWith(it.key(), kPrefix)) {
        if (it.key().size() > kPrefix.size()) roles.insert(it.key().substr(kPrefix.size()));
      } else if (it.key() == "kubernetes.io/role" && !Str(*it).empty()) {
        roles.insert(Str(*it));
      }
    }
  }
  return OrNone(absl::StrJoin(roles, ","));
}

std::string NodeAddress(const json& node, const std::string& type) {
  const json& addresses = Path(node, {"status", "addresses"});
  if (addresses.is_array()) {
    for (const json& a : addresses) {
      if (Str(Member(a, "type")) == type) return Str(Member(a, "address"));
    }
  }
  return "<none>";
}

json NodeCells(const json& node, absl::Time now) {
  std::vector<std::string> status;
  const json& conditions = Path(node, {"status", "conditions"});
  if (conditions.is_array()) {
    for (const json& c : conditions) {
      if (Str(Member(c, "type")) != "Ready") continue;
      status = {Str(Member(c, "status")) == "True" ? "Ready" : "NotReady"};
    }
  }
  if (status.empty()) status.push_back("Unknown");
  if (Path(node, {"spec", "unschedulable"}) == json(true)) status.push_back("SchedulingDisabled");
  const json& info = Path(node, {"status", "nodeInfo"});
  return json::array({Meta(node, "name"), absl::StrJoin(status, ","), NodeRoles(node),
                      Age(node, now), Str(Member(info, "kubeletVersion")),
                      NodeAddress(node, "InternalIP"), NodeAddress(node, "ExternalIP"),
                      OrNone(Str(Member(info, "osImage")), "<unknown>"),
                      OrNone(Str(Member(info, "kernelVersion")), "<unknown>"),
                      OrNone(Str(Member(info, "containerRuntimeVersion")), "<unknown>")});
}

// printEvent, on the stored core/v1 form.
json EventCells(const json& event, absl::Time now) {
  std::string last = StrAt(event, {"series", "lastObservedTime"});
  if (last.empty()) last = Str(Member(event, "lastTimestamp"));
  if (last.empty()) last = Str(Member(event, "eventTime"));
  std::string first = Str(Member(event, "firstTimestamp"));
  if (first.empty()) first = Str(Member(event, "eventTime"));
  const json& involved = Member(event, "involvedObject");
  std::string source = StrAt(event, {"source", "component"});
  if (source.empty()) source = Str(Member(event, "reportingComponent"));
  const std::string host = StrAt(event, {"source", "host"});
  if (!host.empty()) source = absl::StrCat(source, ", ", host);
  int64_t count = Int(Member(event, "count"));
  if (const json& series = Member(event, "series"); series.is_object()) {
    count = Int(Member(series, "count"));
  }
  return json::array({Since(last, now), Str(Member(event, "type")), Str(Member(event, "reason")),
                      absl::StrCat(absl::AsciiStrToLower(Str(Member(involved, "kind"))), "/",
                                   Str(Member(involved, "name"))),
                      Str(Member(involved, "fieldPath")), source, Str(Member(event, "message")),
                      Since(first, now), count, Meta(event, "name")});
}

const std::vector<Printer>& Printers() {
  static const auto* printers = new std::vector<Printer>{
      {"Pod",
       {NameColumn(),
        {"Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."},
        {"Status", "string", 0, "The aggregate status of the containers in this pod."},
        {"Restarts", "string", 0,
         "The number of times the containers in this pod have been restarted."},
        AgeColumn(),
        {"IP", "string", 1, "podIP address allocated to the pod."},
        {"Node", "string", 1, "The name of the node the pod is bound to."},
        {"Nominated Node", "string", 1,
         "nominatedNodeName is set when this pod preempts other pods on the node."},
        {"Readiness Gates", "string", 1, "If specified, all readiness gates will be evaluated."}},
       &PodCells},
      {"Node",
       {NameColumn(),
        {"Status", "string", 0, "The status of the node"},
        {"Roles", "string", 0, "The roles of the node"},
        AgeColumn(),
        {"Version", "string", 0, "Kubelet Version reported by the node."},
        {"Internal-IP", "string", 1, "List of addresses reachable to the node."},
        {"External-IP", "string", 1, "List of addresses reachable to the node."},
        {"OS-Image", "string", 1, "OS Image reported by the node."},
        {"Kernel-Version", "string", 1, "Kernel Version reported by the node."},
        {"Container-Runtime", "string", 1, "ContainerRuntime Version reported by the node."}},
       &NodeCells},
      {"Namespace",
       {NameColumn(), {"Status", "string", 0, "The status of the namespace"}, AgeColumn()},
       [](const json& ns, absl::Time now) {
         return json::array({Meta(ns, "name"), StrAt(ns, {"status", "phase"}), Age(ns, now)});
       }},
      {"Event",
       {{"Last Seen", "string", 0, "The last time the event was observed."},
        {"Type", "string", 0, "Type of this event (Normal, Warning)."},
        {"Reason", "string", 0, "The reason for the transition into the object's current status."},
        {"Object", "string", 0, "The object that this event is about."},
        {"Subobject", "string", 1, "The subobject that this event is about."},
        {"Source", "string", 1, "The component reporting this event."},
        {"Message", "string", 0, "A human-readable description of the status of this operation."},
        {"First Seen", "string", 1, "The time at which the event was first recorded."},
        {"Count", "integer", 1, "The number of times this event has occurred."},
        {"Name", "string", 1, kNameDoc, "name"}},
       &EventCells},
      {"PodDisruptionBudget",
       {NameColumn(),
        {"Min Available", "string", 0, "The minimum number of pods that must be available."},
        {"Max Unavailable", "string", 0, "The maximum number of pods that may be unavailable."},
        {"Allowed Disruptions", "integer", 0,
         "Calculated number of pods that may be disrupted at this time."},
        AgeColumn()},
       [](const json& pdb, absl::Time now) {
         const json& spec = Member(pdb, "spec");
         const auto or_na = [](const json& v) {
           return v.is_null() ? std::string("N/A") : IntOrString(v);
         };
         return json::array({Meta(pdb, "name"), or_na(Member(spec, "minAvailable")),
                             or_na(Member(spec, "maxUnavailable")),
                             Int(Path(pdb, {"status", "disruptionsAllowed"})), Age(pdb, now)});
       }},
      {"PriorityClass",
       {NameColumn(),
        {"Value", "integer", 0, "The value of this priority class."},
        {"Global-Default", "boolean", 0,
         "globalDefault specifies whether this PriorityClass should be considered as the "
         "default priority."},
        AgeColumn(),
        {"PreemptionPolicy", "string", 0, "The policy for preempting pods with lower priority."}},
       [](const json& pc, absl::Time now) {
         std::string policy = Str(Member(pc, "preemptionPolicy"));
         return json::array({Meta(pc, "name"), Int(Member(pc, "value")),
                             Member(pc, "globalDefault") == json(true), Age(pc, now),
                             policy.empty() ? "PreemptLowerPriority" : policy});
       }},
      {"Lease",
       {NameColumn(), {"Holder", "string", 0, "The holder of the lease."}, AgeColumn()},
       [](const json& lease, absl::Time now) {
         return json::array(
             {Meta(lease, "name"), StrAt(lease, {"spec", "holderIdentity"}), Age(lease, now)});
       }},
  };
  return *printers;
}

// printObjectMeta: what kinds without a printer show.
const Printer& DefaultPrinter() {
  static const auto* printer =
      new Printer{"", {NameColumn(), AgeColumn()}, [](const json& object, absl::Time now) {
                    return json::array({Meta(object, "name"), Age(object, now)});
                  }};
  return *printer;
}

const Printer& PrinterFor(absl::string_view kind) {
  for (const Printer& p : Printers()) {
    if (kind == p.kind) return p;
  }
  return DefaultPrinter();
}

// The row's object, as asTable leaves it.
json RowObject(const json& api, IncludeObject include, absl::string_view table_api_version) {
  switch (include) {
    case IncludeObject::kNone:
      return nullptr;
    case IncludeObject::kObject:
      return api;
    case IncludeObject::kMetadata:
      break;
  }
  json partial = json::object();
  partial["kind"] = "PartialObjectMetadata";
  partial["apiVersion"] = std::string(table_api_version);
  partial["metadata"] = Member(api, "metadata");
  return partial;
}

}  // namespace

absl::StatusOr<IncludeObject> ParseIncludeObject(absl::string_view value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "Object") return IncludeObject::kObject;
  if (value == "None") return IncludeObject::kNone;
  // ValidateTableOptions, as transformResponseObject words it.
  return absl::InvalidArgumentError(
      absl::StrCat("Unable to convert to Table as requested: includeObject: Unsupported value: \"",
                   value, "\": supported values: \"Metadata\", \"None\", \"Object\""));
}

json ToTable(absl::string_view table_api_version, absl::string_view kind,
             const std::vector<TableItem>& items, IncludeObject include, absl::Time now,
             bool headers) {
  const Printer& printer = PrinterFor(kind);
  json columns = json::array();
  for (const Column& c : printer.columns) {
    columns.push_back({{"name", c.name},
                       {"type", c.type},
                       {"format", c.format},
                       {"description", c.description},
                       {"priority", c.priority}});
  }
  json rows = json::array();
  for (const TableItem& item : items) {
    json row = json::object();
    row["cells"] = printer.cells(*item.stored, now);
    row["object"] = RowObject(*item.api, include, table_api_version);
    if (row["object"].is_null()) row.erase("object");
    rows.push_back(std::move(row));
  }
  json table = json::object();
  table["kind"] = "Table";
  table["apiVersion"] = std::string(table_api_version);
  table["metadata"] = json::object();
  // Without headers the column definitions are left out (nil in Go);
  // kubectl reuses the last ones it printed.
  table["columnDefinitions"] = headers ? std::move(columns) : json();
  table["rows"] = std::move(rows);
  return table;
}

std::string HumanDuration(absl::Duration d) {
  // Deviations under two seconds count as now: clocks differ a little.
  const int64_t seconds = absl::ToInt64Seconds(d);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return absl::StrCat(seconds, "s");
  const int64_t minutes = seconds / 60;
  if (minutes < 10) {
    const int64_t s = seconds % 60;
    return s == 0 ? absl::StrCat(minutes, "m") : absl::StrCat(minutes, "m", s, "s");
  }
  if (minutes < 60 * 3) return absl::StrCat(minutes, "m");
  const int64_t hours = minutes / 60;
  if (hours < 8) {
    const int64_t m = minutes % 60;
    return m == 0 ? absl::StrCat(hours, "h") : absl::StrCat(hours, "h", m, "m");
  }
  if (hours < 48) return absl::StrCat(hours, "h");
  if (hours < 24 * 8) {
    const int64_t h = hours % 24;
    return h == 0 ? absl::StrCat(hours / 24, "d") : absl::StrCat(hours / 24, "d", h, "h");
  }
  if (hours < 24 * 365 * 2) return absl::StrCat(hours / 24, "d");
  if (hours < 24 * 365 * 8) {
    const int64_t dy = (hours / 24) % 365;
    return dy == 0 ? absl::StrCat(hours / 24 / 365, "y")
                   : absl::StrCat(hours / 24 / 365, "y", dy, "d");
  }
  return absl::StrCat(hours / 24 / 365, "y");
}

}  // namespace kestrel::kube::testing
