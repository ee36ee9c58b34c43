// Ports of pkg/apis/core/validation/validation.go (ValidatePodCreate,
// ValidateNode and the helpers they call), restricted to the fields the
// scheduler reads, and of component-helpers/scheduling/corev1/nodeaffinity
// (the parse errors of node selector terms). Each function names its
// upstream counterpart; the order of checks, paths and messages follow it.

#include "api/object_validation.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/quantity.h"
#include "api/validation.h"

namespace kestrel::api {
namespace {

using Errors = std::vector<std::string>;
template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;
using QuantityProto = ::k8s::io::apimachinery::pkg::api::resource::Quantity;
using QuantityMap = google::protobuf::Map<std::string, QuantityProto>;
namespace meta = ::k8s::io::apimachinery::pkg::apis::meta::v1;

// pkg/apis/core/validation's messages.
constexpr char kIsNegativeErrorMsg[] = "must be greater than or equal to 0";
constexpr char kIsNotIntegerErrorMsg[] = "must be an integer";
constexpr char kIsNotPositiveErrorMsg[] = "must be greater than zero";

constexpr char kNodeNameField[] = "metadata.name";

std::string Child(absl::string_view path, absl::string_view name) {
  return absl::StrCat(path, ".", name);
}
std::string Index(absl::string_view path, int i) { return absl::StrCat(path, "[", i, "]"); }
std::string Key(absl::string_view path, absl::string_view key) {
  return absl::StrCat(path, "[", key, "]");
}

// Go's %#v of a []string; an empty list reads as the nil slice it decodes to.
std::string SliceRepr(const Repeated<std::string>& values) {
  if (values.empty()) return "[]string(nil)";
  std::vector<std::string> quoted;
  for (const std::string& v : values) quoted.push_back(GoQuote(v));
  return absl::StrCat("[]string{", absl::StrJoin(quoted, ", "), "}");
}

// The entries of a proto map in key order: upstream walks Go maps in random
// order, Kestrel in a reproducible one.
template <typename Map>
std::vector<std::pair<std::string, typename Map::mapped_type>> Sorted(const Map& map) {
  std::vector<std::pair<std::string, typename Map::mapped_type>> out(map.begin(), map.end());
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// ---------------------------------------------------------------------------
// Resource names (pkg/apis/core/helper).

bool IsHugePageResourceName(absl::string_view name) {
  return absl::StartsWith(name, "hugepages-");
}

// Unprefixed names and names in the kubernetes.io/ namespace.
bool IsNativeResource(absl::string_view name) {
  return !absl::StrContains(name, '/') || absl::StrContains(name, "kubernetes.io/");
}

bool IsExtendedResourceName(absl::string_view name) {
  if (IsNativeResource(name) || absl::StartsWith(name, "requests.")) return false;
  return QualifiedNameErrors(absl::StrCat("requests.", name)).empty();
}

bool IsOvercommitAllowed(absl::string_view name) {
  return IsNativeResource(name) && !IsHugePageResourceName(name);
}

bool IsStandardResourceName(absl::string_view name) {
  static const auto* const kStandard = new absl::flat_hash_set<absl::string_view>{
      "cpu",
      "memory",
      "ephemeral-storage",
      "requests.cpu",
      "requests.memory",
      "requests.ephemeral-storage",
      "limits.cpu",
      "limits.memory",
      "limits.ephemeral-storage",
      "pods",
      "resourcequotas",
      "services",
      "replicationcontrollers",
      "secrets",
      "configmaps",
      "persistentvolumeclaims",
      "storage",
      "requests.storage",
      "services.nodeports",
      "services.loadbalancers",
  };
  return kStandard->contains(name) || absl::StartsWith(name, "hugepages-") ||
         absl::StartsWith(name, "requests.hugepages-");
}

bool IsStandardContainerResourceName(absl::string_view name) {
  return name == "cpu" || name == "memory" || name == "ephemeral-storage" ||
         IsHugePageResourceName(name);
}

bool IsIntegerResourceName(absl::string_view name) {
  static const auto* const kInteger = new absl::flat_hash_set<absl::string_view>{
      "pods",
      "resourcequotas",
      "services",
      "replicationcontrollers",
      "secrets",
      "configmaps",
      "persistentvolumeclaims",
      "services.nodeports",
      "services.loadbalancers",
  };
  return kInteger->contains(name) || IsExtendedResourceName(name);
}

// validateResourceName. A ResourceName prints without quotes: it is a
// fmt.Stringer.
void ValidateResourceName(absl::string_view name, absl::string_view path, Errors& errs) {
  const std::vector<std::string> qualified = QualifiedNameErrors(name);
  for (const std::string& msg : qualified) errs.push_back(InvalidError(path, name, msg));
  if (!qualified.empty()) return;
  if (!absl::StrContains(name, '/') && !IsStandardResourceName(name)) {
    errs.push_back(InvalidError(path, name, "must be a standard resource type or fully qualified"));
  }
}

// validateContainerResourceName.
void ValidateContainerResourceName(absl::string_view name, absl::string_view path, Errors& errs) {
  ValidateResourceName(name, path, errs);
  if (!absl::StrContains(name, '/')) {
    if (!IsStandardContainerResourceName(name)) {
      errs.push_back(InvalidError(path, name, "must be a standard resource for containers"));
    }
  } else if (!IsNativeResource(name) && !IsExtendedResourceName(name)) {
    errs.push_back(InvalidError(path, name, "doesn't follow extended resource name standard"));
  }
}

// A quantity as the API server decoded it; a value that does not parse is
// reported at `path` (the decoder refuses such files before this runs).
bool ParsedQuantity(const QuantityProto& q, absl::string_view path, Quantity* out, Errors& errs) {
  absl::StatusOr<Quantity> parsed = Quantity::Parse(q.string());
  if (!parsed.ok()) {
    errs.push_back(InvalidError(path, GoQuote(q.string()), parsed.status().message()));
    return false;
  }
  *out = *parsed;
  return true;
}

// ValidateResourceQuantityValue. The negative value prints quoted (upstream
// passes value.String()), the fractional one bare (it passes the Quantity, a
// fmt.Stringer).
void ValidateResourceQuantityValue(absl::string_view name, const Quantity& q,
                                   absl::string_view path, Errors& errs) {
  if (q.negative()) errs.push_back(InvalidError(path, GoQuote(q.String()), kIsNegativeErrorMsg));
  if (IsIntegerResourceName(name) && q.MilliValue() % 1000 != 0) {
    errs.push_back(InvalidError(path, q.String(), kIsNotIntegerErrorMsg));
  }
}

// validateResourceRequirements with validateContainerResourceName. The
// hugepage size divisibility check is left out: upstream waives it for pods
// that already had such values (AllowIndivisibleHugePagesValues).
void ValidateResourceRequirements(const QuantityMap& limits, const QuantityMap& requests,
                                  absl::string_view path, Errors& errs) {
  const std::string lim_path = Child(path, "limits");
  const std::string req_path = Child(path, "requests");
  bool lim_cpu_or_memory = false, req_cpu_or_memory = false;
  bool lim_hugepages = false, req_hugepages = false;
  for (const auto& [name, proto] : Sorted(limits)) {
    const std::string p = Key(lim_path, name);
    ValidateContainerResourceName(name, p, errs);
    Quantity q;
    if (ParsedQuantity(proto, p, &q, errs)) ValidateResourceQuantityValue(name, q, p, errs);
    if (IsHugePageResourceName(name)) lim_hugepages = true;
    if (name == "cpu" || name == "memory") lim_cpu_or_memory = true;
  }
  for (const auto& [name, proto] : Sorted(requests)) {
    const std::string p = Key(req_path, name);
    ValidateContainerResourceName(name, p, errs);
    Quantity q;
    const bool parsed = ParsedQuantity(proto, p, &q, errs);
    if (parsed) ValidateResourceQuantityValue(name, q, p, errs);
    auto limit = limits.find(name);
    if (limit != limits.end()) {
      Quantity lq;
      if (parsed && ParsedQuantity(limit->second, Key(lim_path, name), &lq, errs)) {
        if (q.Nanos() != lq.Nanos() && !IsOvercommitAllowed(name)) {
          errs.push_back(InvalidError(req_path, GoQuote(q.String()),
                                      absl::StrCat("must be equal to ", name, " limit of ",
                                                   lq.String())));
        } else if (q.Nanos() > lq.Nanos()) {
          errs.push_back(InvalidError(req_path, GoQuote(q.String()),
                                      absl::StrCat("must be less than or equal to ", name,
                                                   " limit of ", lq.String())));
        }
      }
    } else if (!IsOvercommitAllowed(name)) {
      errs.push_back(RequiredError(lim_path, "Limit must be set for non overcommitable resources"));
    }
    if (IsHugePageResourceName(name)) req_hugepages = true;
    if (name == "cpu" || name == "memory") req_cpu_or_memory = true;
  }
  if (!lim_cpu_or_memory && !req_cpu_or_memory && (req_hugepages || lim_hugepages)) {
    errs.push_back(ForbiddenError(path, "HugePages require cpu or memory"));
  }
}

// ---------------------------------------------------------------------------
// Containers.

// validateContainerPorts, for the host side the scheduler reads. An empty
// protocol is not refused: the API server defaults it to TCP first.
void ValidateContainerPorts(const Repeated<v1::ContainerPort>& ports, absl::string_view path,
                            Errors& errs) {
  for (int i = 0; i < ports.size(); ++i) {
    const v1::ContainerPort& port = ports[i];
    const std::string p = Index(path, i);
    if (port.hostport() != 0 && (port.hostport() < 1 || port.hostport() > 65535)) {
      errs.push_back(InvalidError(Child(p, "hostPort"), absl::StrCat(port.hostport()),
                                  InclusiveRangeError(1, 65535)));
    }
    const std::string& protocol = port.protocol();
    if (!protocol.empty() && protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
      errs.push_back(
          NotSupportedError(Child(p, "protocol"), GoQuote(protocol), {"SCTP", "TCP", "UDP"}));
    }
  }
}

// validateContainerCommon, for the fields the scheduler reads.
void ValidateContainerCommon(const v1::Container& c, absl::string_view path, Errors& errs) {
  ValidateContainerPorts(c.ports(), Child(path, "ports"), errs);
  ValidateResourceRequirements(c.resources().limits(), c.resources().requests(),
                               Child(path, "resources"), errs);
}

// AccumulateUniqueHostPorts: "<protocol>/<hostIP>/<port>" once per pod (or
// per init container).
void AccumulateUniqueHostPorts(const std::vector<const v1::Container*>& containers,
                               absl::string_view path, absl::flat_hash_set<std::string>& seen,
                               Errors& errs) {
  for (size_t ci = 0; ci < containers.size(); ++ci) {
    const Repeated<v1::ContainerPort>& ports = containers[ci]->ports();
    for (int pi = 0; pi < ports.size(); ++pi) {
      const v1::ContainerPort& port = ports[pi];
      if (port.hostport() == 0) continue;
      const std::string key = absl::StrCat(port.protocol().empty() ? "TCP" : port.protocol(), "/",
                                           port.hostip(), "/", port.hostport());
      if (!seen.insert(key).second) {
        errs.push_back(DuplicateError(
            Child(Index(Child(Index(path, static_cast<int>(ci)), "ports"), pi), "hostPort"),
            GoQuote(key)));
      }
    }
  }
}

// validateContainers.
void ValidateContainers(const Repeated<v1::Container>& containers, absl::string_view path,
                        Errors& errs) {
  std::vector<const v1::Container*> all;
  for (int i = 0; i < containers.size(); ++i) {
    const std::string p = Index(path, i);
    ValidateContainerCommon(containers[i], p, errs);
    if (containers[i].has_restartpolicy()) {
      errs.push_back(ForbiddenError(Child(p, "restartPolicy"), "may not be set for non-init containers"));
    }
    all.push_back(&containers[i]);
  }
  absl::flat_hash_set<std::string> seen;
  AccumulateUniqueHostPorts(all, path, seen, errs);
}

// validateInitContainers. Init containers run one at a time, so host ports
// are checked per container; upstream then reports them under index 0
// (it passes the one container as a list), and so does Kestrel.
void ValidateInitContainers(const Repeated<v1::Container>& containers, absl::string_view path,
                            Errors& errs) {
  for (int i = 0; i < containers.size(); ++i) {
    const v1::Container& c = containers[i];
    const std::string p = Index(path, i);
    ValidateContainerCommon(c, p, errs);
    if (c.has_restartpolicy() && c.restartpolicy() != "Always") {
      errs.push_back(NotSupportedError(Child(p, "restartPolicy"), GoQuote(c.restartpolicy()),
                                       {"Always"}));
    }
    absl::flat_hash_set<std::string> seen;
    AccumulateUniqueHostPorts({&c}, path, seen, errs);
  }
}

// ---------------------------------------------------------------------------
// Selectors and affinity.

// The checks of In, NotIn, Exists and DoesNotExist that label and node
// selector requirements share; false when `op` is none of them.
bool ValidateSetOperator(const std::string& op, int num_values, absl::string_view path,
                         Errors& errs) {
  if (op == "In" || op == "NotIn") {
    if (num_values == 0) {
      errs.push_back(RequiredError(Child(path, "values"),
                                   "must be specified when `operator` is 'In' or 'NotIn'"));
    }
    return true;
  }
  if (op == "Exists" || op == "DoesNotExist") {
    if (num_values != 0) {
      errs.push_back(ForbiddenError(
          Child(path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    }
    return true;
  }
  return false;
}

void InvalidOperator(const std::string& op, absl::string_view path, Errors& errs) {
  errs.push_back(InvalidError(Child(path, "operator"), GoQuote(op), "not a valid selector operator"));
}

// metav1validation.ValidateLabelSelectorRequirement. Values are not checked
// as label values (see the header).
void ValidateLabelSelectorRequirement(const meta::LabelSelectorRequirement& r,
                                      absl::string_view path, Errors& errs) {
  if (!ValidateSetOperator(r.operator_(), r.values_size(), path, errs)) {
    InvalidOperator(r.operator_(), path, errs);
  }
  ValidateLabelName(r.key(), Child(path, "key"), errs);
}

// metav1validation.ValidateLabelSelector.
void ValidateLabelSelector(const meta::LabelSelector& selector, absl::string_view path,
                           Errors& errs) {
  ValidateLabels(selector.matchlabels(), Child(path, "matchLabels"), errs);
  for (int i = 0; i < selector.matchexpressions_size(); ++i) {
    ValidateLabelSelectorRequirement(selector.matchexpressions(i),
                                     Index(Child(path, "matchExpressions"), i), errs);
  }
}

// ValidateNodeSelectorRequirement. Values are not checked as label values
// (see the header; the scheduler's parse errors cover them).
void ValidateNodeSelectorRequirement(const v1::NodeSelectorRequirement& r, absl::string_view path,
                                     Errors& errs) {
  const std::string& op = r.operator_();
  const bool set_operator = ValidateSetOperator(op, r.values_size(), path, errs);
  if (!set_operator && (op == "Gt" || op == "Lt")) {
    if (r.values_size() != 1) {
      errs.push_back(RequiredError(Child(path, "values"),
                                   "must be specified single value when `operator` is 'Lt' or 'Gt'"));
    }
  } else if (!set_operator) {
    InvalidOperator(op, path, errs);
  }
  ValidateLabelName(r.key(), Child(path, "key"), errs);
}

// ValidateNodeFieldSelectorRequirement: metadata.name only, one node name.
void ValidateNodeFieldSelectorRequirement(const v1::NodeSelectorRequirement& r,
                                          absl::string_view path, Errors& errs) {
  const std::string& op = r.operator_();
  if (op == "In" || op == "NotIn") {
    if (r.values_size() != 1) {
      errs.push_back(RequiredError(
          Child(path, "values"),
          "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    }
  } else {
    errs.push_back(InvalidError(Child(path, "operator"), GoQuote(op), "not a valid selector operator"));
  }
  if (r.key() != kNodeNameField) {
    errs.push_back(InvalidError(Child(path, "key"), GoQuote(r.key()), "not a valid field selector key"));
    return;
  }
  for (int i = 0; i < r.values_size(); ++i) {
    for (const std::string& msg : Dns1123SubdomainErrors(r.values(i))) {
      errs.push_back(InvalidError(Index(Child(path, "values"), i), GoQuote(r.values(i)), msg));
    }
  }
}

// ValidateNodeSelectorTerm.
void ValidateNodeSelectorTerm(const v1::NodeSelectorTerm& term, absl::string_view path,
                              Errors& errs) {
  for (int j = 0; j < term.matchexpressions_size(); ++j) {
    ValidateNodeSelectorRequirement(term.matchexpressions(j),
                                    Index(Child(path, "matchExpressions"), j), errs);
  }
  for (int j = 0; j < term.matchfields_size(); ++j) {
    ValidateNodeFieldSelectorRequirement(term.matchfields(j), Index(Child(path, "matchFields"), j),
                                         errs);
  }
}

// validateNodeAffinity: ValidateNodeSelector and ValidatePreferredSchedulingTerms.
void ValidateNodeAffinity(const v1::NodeAffinity& na, absl::string_view path, Errors& errs) {
  if (na.has_requiredduringschedulingignoredduringexecution()) {
    const std::string terms_path =
        Child(Child(path, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms");
    const v1::NodeSelector& selector = na.requiredduringschedulingignoredduringexecution();
    if (selector.nodeselectorterms().empty()) {
      errs.push_back(RequiredError(terms_path, "must have at least one node selector term"));
    }
    for (int i = 0; i < selector.nodeselectorterms_size(); ++i) {
      ValidateNodeSelectorTerm(selector.nodeselectorterms(i), Index(terms_path, i), errs);
    }
  }
  const std::string preferred_path = Child(path, "preferredDuringSchedulingIgnoredDuringExecution");
  for (int i = 0; i < na.preferredduringschedulingignoredduringexecution_size(); ++i) {
    const v1::PreferredSchedulingTerm& term = na.preferredduringschedulingignoredduringexecution(i);
    const std::string p = Index(preferred_path, i);
    if (term.weight() <= 0 || term.weight() > 100) {
      errs.push_back(
          InvalidError(Child(p, "weight"), absl::StrCat(term.weight()), "must be in the range 1-100"));
    }
    ValidateNodeSelectorTerm(term.preference(), Child(p, "preference"), errs);
  }
}

// validatePodAffinityTerm. matchLabelKeys and mismatchLabelKeys are not
// validated. The error for a bad namespace names "namespace", as upstream.
void ValidatePodAffinityTerm(const v1::PodAffinityTerm& term, absl::string_view path,
                             Errors& errs) {
  if (term.has_labelselector()) {
    ValidateLabelSelector(term.labelselector(), Child(path, "labelSelector"), errs);
  }
  if (term.has_namespaceselector()) {
    ValidateLabelSelector(term.namespaceselector(), Child(path, "namespaceSelector"), errs);
  }
  for (const std::string& ns : term.namespaces()) {
    for (const std::string& msg : Dns1123LabelErrors(ns)) {
      errs.push_back(InvalidError(Child(path, "namespace"), GoQuote(ns), msg));
    }
  }
  if (term.topologykey().empty()) {
    errs.push_back(RequiredError(Child(path, "topologyKey"), "can not be empty"));
  }
  ValidateLabelName(term.topologykey(), Child(path, "topologyKey"), errs);
}

// validatePodAffinity / validatePodAntiAffinity (same shape).
template <typename PodAffinity>
void ValidatePodAffinity(const PodAffinity& pa, absl::string_view path, Errors& errs) {
  const std::string required = Child(path, "requiredDuringSchedulingIgnoredDuringExecution");
  for (int i = 0; i < pa.requiredduringschedulingignoredduringexecution_size(); ++i) {
    ValidatePodAffinityTerm(pa.requiredduringschedulingignoredduringexecution(i),
                            Index(required, i), errs);
  }
  const std::string preferred = Child(path, "preferredDuringSchedulingIgnoredDuringExecution");
  for (int j = 0; j < pa.preferredduringschedulingignoredduringexecution_size(); ++j) {
    const v1::WeightedPodAffinityTerm& term = pa.preferredduringschedulingignoredduringexecution(j);
    const std::string p = Index(preferred, j);
    if (term.weight() <= 0 || term.weight() > 100) {
      errs.push_back(
          InvalidError(Child(p, "weight"), absl::StrCat(term.weight()), "must be in the range 1-100"));
    }
    ValidatePodAffinityTerm(term.podaffinityterm(), Child(p, "podAffinityTerm"), errs);
  }
}

// validateTaintEffect.
void ValidateTaintEffect(const std::string& effect, bool allow_empty, absl::string_view path,
                         Errors& errs) {
  if (!allow_empty && effect.empty()) {
    errs.push_back(RequiredError(path));
    return;
  }
  if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
    errs.push_back(NotSupportedError(path, GoQuote(effect),
                                     {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
  }
}

// Go's %#v of a core.Taint, as upstream's duplicate-taint error prints it.
// A set timeAdded is a pointer, which Go prints as an address; Kestrel
// cannot reproduce that and prints "(*v1.Time)(set)".
std::string TaintRepr(const v1::Taint& t) {
  return absl::StrCat("core.Taint{Key:", GoQuote(t.key()), ", Value:", GoQuote(t.value()),
                      ", Effect:", GoQuote(t.effect()), ", TimeAdded:(*v1.Time)(",
                      t.has_timeadded() ? "set" : "nil", ")}");
}

// validateTopologySpreadConstraints. matchLabelKeys is not validated.
void ValidateTopologySpreadConstraints(const Repeated<v1::TopologySpreadConstraint>& constraints,
                                       absl::string_view path, Errors& errs) {
  for (int i = 0; i < constraints.size(); ++i) {
    const v1::TopologySpreadConstraint& c = constraints[i];
    const std::string p = Index(path, i);
    if (c.maxskew() <= 0) {
      errs.push_back(
          InvalidError(Child(p, "maxSkew"), absl::StrCat(c.maxskew()), kIsNotPositiveErrorMsg));
    }
    if (c.topologykey().empty()) {
      errs.push_back(RequiredError(Child(p, "topologyKey"), "can not be empty"));
    }
    const std::string& when = c.whenunsatisfiable();
    if (when != "DoNotSchedule" && when != "ScheduleAnyway") {
      errs.push_back(NotSupportedError(Child(p, "whenUnsatisfiable"), GoQuote(when),
                                       {"DoNotSchedule", "ScheduleAnyway"}));
    }
    // The pair {topologyKey, whenUnsatisfiable} names one constraint.
    for (int j = i + 1; j < constraints.size(); ++j) {
      if (constraints[j].topologykey() == c.topologykey() &&
          constraints[j].whenunsatisfiable() == when) {
        errs.push_back(DuplicateError(Child(p, "{topologyKey, whenUnsatisfiable}"),
                                      GoQuote(absl::StrCat("{", c.topologykey(), ", ", when, "}"))));
        break;
      }
    }
    if (c.has_mindomains()) {
      const std::string md = Child(p, "minDomains");
      if (c.mindomains() <= 0) {
        errs.push_back(InvalidError(md, absl::StrCat(c.mindomains()), kIsNotPositiveErrorMsg));
      }
      if (when != "DoNotSchedule") {
        errs.push_back(InvalidError(
            md, absl::StrCat(c.mindomains()),
            absl::StrCat("can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ", when)));
      }
    }
    auto policy = [&](bool set, const std::string& value, absl::string_view name) {
      if (set && value != "Honor" && value != "Ignore") {
        errs.push_back(NotSupportedError(Child(p, name), GoQuote(value), {"Honor", "Ignore"}));
      }
    };
    policy(c.has_nodeaffinitypolicy(), c.nodeaffinitypolicy(), "nodeAffinityPolicy");
    policy(c.has_nodetaintspolicy(), c.nodetaintspolicy(), "nodeTaintsPolicy");
    if (c.has_labelselector()) {
      ValidateLabelSelector(c.labelselector(), Child(p, "labelSelector"), errs);
    }
  }
}

// ValidateObjectMeta with NameIsDNSSubdomain (pods and nodes). A pod
// without a namespace gets the caller's default, as kubectl gives it the
// context's; a node's namespace is cleared by the API server before
// validation, so neither is checked here.
void ValidateObjectMeta(const meta::ObjectMeta& m, bool namespaced, Errors& errs) {
  if (m.name().empty()) {
    errs.push_back(RequiredError("metadata.name", "name or generateName is required"));
  } else {
    for (const std::string& msg : Dns1123SubdomainErrors(m.name())) {
      errs.push_back(InvalidError("metadata.name", GoQuote(m.name()), msg));
    }
  }
  if (namespaced && !m.namespace_().empty()) {
    for (const std::string& msg : Dns1123LabelErrors(m.namespace_())) {
      errs.push_back(InvalidError("metadata.namespace", GoQuote(m.namespace_()), msg));
    }
  }
  ValidateLabels(m.labels(), "metadata.labels", errs);
}

// ---------------------------------------------------------------------------
// The scheduler's parse of a node selector term (component-helpers
// nodeaffinity and apimachinery labels.NewRequirement).

// labels.NewRequirement after nodeSelectorRequirementsAsSelector's operator
// switch.
void RequirementParseErrors(const v1::NodeSelectorRequirement& r, absl::string_view path,
                            Errors& errs) {
  const std::string& op = r.operator_();
  if (op != "In" && op != "NotIn" && op != "Exists" && op != "DoesNotExist" && op != "Gt" &&
      op != "Lt") {
    errs.push_back(NotSupportedError(Child(path, "operator"), GoQuote(op),
                                     {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}));
    return;
  }
  const std::vector<std::string> key_errs = QualifiedNameErrors(r.key());
  if (!key_errs.empty()) {
    errs.push_back(InvalidError(Child(path, "key"), GoQuote(r.key()), absl::StrJoin(key_errs, "; ")));
  }
  const std::string values_path = Child(path, "values");
  if (op == "In" || op == "NotIn") {
    if (r.values().empty()) {
      errs.push_back(InvalidError(values_path, SliceRepr(r.values()),
                                  "for 'in', 'notin' operators, values set can't be empty"));
    }
  } else if (op == "Exists" || op == "DoesNotExist") {
    if (!r.values().empty()) {
      errs.push_back(InvalidError(values_path, SliceRepr(r.values()),
                                  "values set must be empty for exists and does not exist"));
    }
  } else {
    if (r.values_size() != 1) {
      errs.push_back(InvalidError(values_path, SliceRepr(r.values()),
                                  "for 'Gt', 'Lt' operators, exactly one value is required"));
    }
    for (int i = 0; i < r.values_size(); ++i) {
      int64_t unused;
      if (!ParseGoInt64(r.values(i), &unused)) {
        errs.push_back(InvalidError(Index(values_path, i), GoQuote(r.values(i)),
                                    "for 'Gt', 'Lt' operators, the value must be an integer"));
      }
    }
  }
  for (int i = 0; i < r.values_size(); ++i) {
    const std::vector<std::string> value_errs = LabelValueErrors(r.values(i));
    if (!value_errs.empty()) {
      errs.push_back(InvalidError(Key(Index(values_path, i), r.key()), GoQuote(r.values(i)),
                                  absl::StrJoin(value_errs, "; ")));
    }
  }
}

// nodeSelectorRequirementsAsFieldSelector, one requirement.
void FieldRequirementParseErrors(const v1::NodeSelectorRequirement& r, absl::string_view path,
                                 Errors& errs) {
  if (r.operator_() != "In" && r.operator_() != "NotIn") {
    errs.push_back(NotSupportedError(Child(path, "operator"), GoQuote(r.operator_()), {"In", "NotIn"}));
  } else if (r.values_size() != 1) {
    errs.push_back(InvalidError(Child(path, "values"), SliceRepr(r.values()), "must have one element"));
  }
}

}  // namespace

void NodeSelectorTermParseErrors(const v1::NodeSelectorTerm& term, absl::string_view path,
                                 std::vector<std::string>& errs) {
  for (int j = 0; j < term.matchexpressions_size(); ++j) {
    RequirementParseErrors(term.matchexpressions(j), Index(Child(path, "matchExpressions"), j),
                           errs);
  }
  for (int j = 0; j < term.matchfields_size(); ++j) {
    FieldRequirementParseErrors(term.matchfields(j), Index(Child(path, "matchFields"), j), errs);
  }
}

void ValidateTolerations(const Repeated<v1::Toleration>& tolerations, absl::string_view path,
                         std::vector<std::string>& errs) {
  for (int i = 0; i < tolerations.size(); ++i) {
    const v1::Toleration& t = tolerations[i];
    const std::string p = Index(path, i);
    if (!t.key().empty()) ValidateLabelName(t.key(), Child(p, "key"), errs);
    // An empty key with Exists means "every taint".
    if (t.key().empty() && t.operator_() != "Exists") {
      errs.push_back(InvalidError(Child(p, "operator"), GoQuote(t.operator_()),
                                  "operator must be Exists when `key` is empty, which means "
                                  "\"match all values and all keys\""));
    }
    if (t.has_tolerationseconds() && t.effect() != "NoExecute") {
      errs.push_back(InvalidError(Child(p, "effect"), GoQuote(t.effect()),
                                  "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    // Upstream reports the value's problems under "operator", joined by ";".
    if (t.operator_().empty() || t.operator_() == "Equal") {
      const std::vector<std::string> value_errs = LabelValueErrors(t.value());
      if (!value_errs.empty()) {
        errs.push_back(
            InvalidError(Child(p, "operator"), GoQuote(t.value()), absl::StrJoin(value_errs, ";")));
      }
    } else if (t.operator_() == "Exists") {
      if (!t.value().empty()) {
        errs.push_back(InvalidError(Child(p, "operator"), GoQuote(t.value()),
                                    "value must be empty when `operator` is 'Exists'"));
      }
    } else {
      errs.push_back(
          NotSupportedError(Child(p, "operator"), GoQuote(t.operator_()), {"Equal", "Exists"}));
    }
    if (!t.effect().empty()) ValidateTaintEffect(t.effect(), true, Child(p, "effect"), errs);
  }
}

void ValidateNodeTaints(const Repeated<v1::Taint>& taints, absl::string_view path,
                        std::vector<std::string>& errs) {
  absl::flat_hash_set<std::pair<std::string, std::string>> seen;  // (effect, key)
  for (int i = 0; i < taints.size(); ++i) {
    const v1::Taint& t = taints[i];
    const std::string p = Index(path, i);
    ValidateLabelName(t.key(), Child(p, "key"), errs);
    const std::vector<std::string> value_errs = LabelValueErrors(t.value());
    if (!value_errs.empty()) {
      errs.push_back(InvalidError(Child(p, "value"), GoQuote(t.value()), absl::StrJoin(value_errs, ";")));
    }
    ValidateTaintEffect(t.effect(), false, Child(p, "effect"), errs);
    if (!seen.insert({t.effect(), t.key()}).second) {
      errs.push_back(
          DuplicateError(p, TaintRepr(t), "taints must be unique by key and effect pair"));
    }
  }
}

void ValidateAffinity(const v1::Affinity& affinity, absl::string_view path,
                      std::vector<std::string>& errs) {
  if (affinity.has_nodeaffinity()) {
    ValidateNodeAffinity(affinity.nodeaffinity(), Child(path, "nodeAffinity"), errs);
  }
  if (affinity.has_podaffinity()) {
    ValidatePodAffinity(affinity.podaffinity(), Child(path, "podAffinity"), errs);
  }
  if (affinity.has_podantiaffinity()) {
    ValidatePodAffinity(affinity.podantiaffinity(), Child(path, "podAntiAffinity"), errs);
  }
}

std::vector<std::string> ValidatePod(const v1::Pod& pod) {
  Errors errs;
  ValidateObjectMeta(pod.metadata(), /*namespaced=*/true, errs);
  const v1::PodSpec& spec = pod.spec();
  ValidateContainers(spec.containers(), "spec.containers", errs);
  ValidateInitContainers(spec.initcontainers(), "spec.initContainers", errs);
  ValidateLabels(spec.nodeselector(), "spec.nodeSelector", errs);
  if (spec.has_affinity()) ValidateAffinity(spec.affinity(), "spec.affinity", errs);
  ValidateTopologySpreadConstraints(spec.topologyspreadconstraints(),
                                    "spec.topologySpreadConstraints", errs);
  if (!spec.nodename().empty()) {
    for (const std::string& msg : Dns1123SubdomainErrors(spec.nodename())) {
      errs.push_back(InvalidError("spec.nodeName", GoQuote(spec.nodename()), msg));
    }
  }
  ValidateTolerations(spec.tolerations(), "spec.tolerations", errs);
  if (!spec.priorityclassname().empty()) {
    for (const std::string& msg : Dns1123SubdomainErrors(spec.priorityclassname())) {
      errs.push_back(InvalidError("spec.priorityClassName", GoQuote(spec.priorityclassname()), msg));
    }
  }
  if (spec.has_preemptionpolicy()) {
    const std::string& policy = spec.preemptionpolicy();
    if (policy.empty()) {
      errs.push_back(RequiredError("spec.preemptionPolicy"));
    } else if (policy != "PreemptLowerPriority" && policy != "Never") {
      errs.push_back(NotSupportedError("spec.preemptionPolicy", GoQuote(policy),
                                       {"PreemptLowerPriority", "Never"}));
    }
  }
  // validateOverhead: the overhead is checked as a container's limits.
  ValidateResourceRequirements(spec.overhead(), QuantityMap(), "spec.overhead", errs);
  return errs;
}

std::vector<std::string> ValidatePodInstance(const v1::Pod& pod) {
  Errors errs;
  ValidateObjectMeta(pod.metadata(), /*namespaced=*/true, errs);
  if (!pod.spec().nodename().empty()) {
    for (const std::string& msg : Dns1123SubdomainErrors(pod.spec().nodename())) {
      errs.push_back(InvalidError("spec.nodeName", GoQuote(pod.spec().nodename()), msg));
    }
  }
  return errs;
}

std::vector<std::string> ValidateNode(const v1::Node& node) {
  Errors errs;
  ValidateObjectMeta(node.metadata(), /*namespaced=*/false, errs);
  // Upstream reports taints under "metadata.taints" (it passes the metadata
  // path); Kestrel names the field they are in.
  ValidateNodeTaints(node.spec().taints(), "spec.taints", errs);
  // ValidateNodeResources, for what the scheduler reads.
  for (const auto& [name, proto] : Sorted(node.status().allocatable())) {
    const std::string p = Child("status.allocatable", name);
    Quantity q;
    if (ParsedQuantity(proto, p, &q, errs)) ValidateResourceQuantityValue(name, q, p, errs);
  }
  return errs;
}

}  // namespace kestrel::api
