#include "predicates/testing/upstream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "gtest/gtest.h"

namespace kestrel::testing::upstream {
namespace {

using Pair = std::pair<std::string, std::string>;  // topology key, value
using Code = Verdict::Code;

constexpr char kLabelHostname[] = "kubernetes.io/hostname";
constexpr char kLabelTopologyZone[] = "topology.kubernetes.io/zone";

// ---- Objects ---------------------------------------------------------------

// A pod created without a namespace lands in "default".
std::string NamespaceOf(const v1::Pod& pod) {
  return pod.metadata().namespace_().empty() ? "default" : pod.metadata().namespace_();
}

const LabelMap& NoLabels() {
  static const LabelMap* empty = new LabelMap();
  return *empty;
}

// GetNamespaceLabelsSnapshot: a namespace without a Namespace object has no
// labels.
const LabelMap& NamespaceLabels(const Cluster& cluster, const std::string& ns) {
  auto it = cluster.namespaces.find(ns);
  return it == cluster.namespaces.end() ? NoLabels() : it->second;
}

const v1::Node* FindNode(const Cluster& cluster, const std::string& name) {
  for (const v1::Node& n : cluster.nodes) {
    if (n.metadata().name() == name) return &n;
  }
  return nullptr;
}

// NodeInfo.Pods: every pod bound to the node, terminating or not.
std::vector<const v1::Pod*> PodsOn(const Cluster& cluster, const std::string& node) {
  std::vector<const v1::Pod*> out;
  for (const v1::Pod& p : cluster.pods) {
    if (p.spec().nodename() == node) out.push_back(&p);
  }
  return out;
}

bool Has(const LabelMap& labels, const std::string& key) { return labels.count(key) > 0; }

// labels.Set.Get: "" for a missing key.
std::string Get(const LabelMap& labels, const std::string& key) {
  auto it = labels.find(key);
  return it == labels.end() ? "" : it->second;
}

// ---- Selectors (apimachinery labels, component-helpers nodeaffinity) -------

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& values,
              const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// strconv.ParseInt(s, 10, 64).
std::optional<int64_t> ParseInt64(const std::string& s) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i == s.size()) return std::nullopt;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (limit - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

// labels.Requirement.Matches for the operators both selector kinds share,
// and Gt/Lt, which only node selectors have.
bool RequirementMatches(const std::string& key, const std::string& op,
                        const google::protobuf::RepeatedPtrField<std::string>& values,
                        const LabelMap& labels) {
  auto it = labels.find(key);
  const bool has = it != labels.end();
  if (op == "In") return has && Contains(values, it->second);
  if (op == "NotIn") return !has || !Contains(values, it->second);
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if (op == "Gt" || op == "Lt") {
    if (!has || values.size() != 1) return false;
    const std::optional<int64_t> label = ParseInt64(it->second);
    const std::optional<int64_t> bound = ParseInt64(values[0]);
    if (!label || !bound) return false;
    return op == "Gt" ? *label > *bound : *label < *bound;
  }
  return false;
}

// An empty selector: labels.Everything() (Selector.Empty() is true).
bool IsEmpty(const metav1::LabelSelector& s) {
  return s.matchlabels().empty() && s.matchexpressions().empty();
}

bool NodeSelectorTermMatches(const v1::NodeSelectorTerm& term, const v1::Node& node) {
  // An empty term matches no objects.
  if (term.matchexpressions().empty() && term.matchfields().empty()) return false;
  for (const v1::NodeSelectorRequirement& r : term.matchexpressions()) {
    if (!RequirementMatches(r.key(), r.operator_(), r.values(), node.metadata().labels())) {
      return false;
    }
  }
  // The only field is metadata.name, with In or NotIn.
  LabelMap fields;
  fields["metadata.name"] = node.metadata().name();
  for (const v1::NodeSelectorRequirement& r : term.matchfields()) {
    if (r.key() != "metadata.name" || (r.operator_() != "In" && r.operator_() != "NotIn")) {
      return false;
    }
    if (!RequirementMatches(r.key(), r.operator_(), r.values(), fields)) return false;
  }
  return true;
}

// ---- Tolerations (core/v1 toleration.go) -----------------------------------

bool ToleratesTaint(const v1::Toleration& t, const v1::Taint& taint) {
  if (!t.effect().empty() && t.effect() != taint.effect()) return false;
  if (!t.key().empty() && t.key() != taint.key()) return false;
  if (t.operator_().empty() || t.operator_() == "Equal") return t.value() == taint.value();
  return t.operator_() == "Exists";
}

}  // namespace

bool SelectorMatches(const metav1::LabelSelector* selector, const LabelMap& labels) {
  if (selector == nullptr) return false;
  for (const auto& [k, v] : selector->matchlabels()) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const metav1::LabelSelectorRequirement& r : selector->matchexpressions()) {
    if (r.operator_() != "In" && r.operator_() != "NotIn" && r.operator_() != "Exists" &&
        r.operator_() != "DoesNotExist") {
      return false;
    }
    if (!RequirementMatches(r.key(), r.operator_(), r.values(), labels)) return false;
  }
  return true;
}

bool MatchesRequiredNodeAffinity(const v1::Pod& pod, const v1::Node& node) {
  const LabelMap& labels = node.metadata().labels();
  for (const auto& [k, v] : pod.spec().nodeselector()) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  const v1::Affinity& a = pod.spec().affinity();
  if (!pod.spec().has_affinity() || !a.has_nodeaffinity() ||
      !a.nodeaffinity().has_requiredduringschedulingignoredduringexecution()) {
    return true;
  }
  // The terms are ORed.
  for (const v1::NodeSelectorTerm& term :
       a.nodeaffinity().requiredduringschedulingignoredduringexecution().nodeselectorterms()) {
    if (NodeSelectorTermMatches(term, node)) return true;
  }
  return false;
}

bool HasUntoleratedDoNotScheduleTaint(const v1::Pod& pod, const v1::Node& node) {
  for (const v1::Taint& taint : node.spec().taints()) {
    if (taint.effect() != "NoSchedule" && taint.effect() != "NoExecute") continue;
    bool tolerated = false;
    for (const v1::Toleration& t : pod.spec().tolerations()) {
      tolerated = tolerated || ToleratesTaint(t, taint);
    }
    if (!tolerated) return true;
  }
  return false;
}

std::ostream& operator<<(std::ostream& os, const Verdict& v) {
  switch (v.code) {
    case Code::kSuccess:
      return os << "Success";
    case Code::kUnschedulable:
      return os << "Unschedulable: " << v.reason;
    case Code::kUnschedulableAndUnresolvable:
      return os << "UnschedulableAndUnresolvable: " << v.reason;
  }
  return os;
}

// ---- PodTopologySpread -----------------------------------------------------

namespace {

constexpr char kErrReasonConstraintsNotMatch[] =
    "node(s) didn't match pod topology spread constraints";
constexpr char kErrReasonNodeLabelNotMatch[] =
    "node(s) didn't match pod topology spread constraints (missing required label)";

// Upstream topologySpreadConstraint: the selector parsed (nullopt: nil,
// labels.Nothing()) and the policies resolved.
struct SpreadConstraint {
  int32_t max_skew = 1;
  std::string key;
  std::optional<metav1::LabelSelector> selector;
  int32_t min_domains = 1;
  bool honor_node_affinity = true;
  bool honor_node_taints = false;

  const metav1::LabelSelector* Selector() const { return selector ? &*selector : nullptr; }
};

// filterTopologySpreadConstraints: those with whenUnsatisfiable `action`,
// defaults for unset fields, matchLabelKeys merged in as `key In [value]`
// for each key the pod has. (The API rejects matchLabelKeys without a
// labelSelector, so a nil selector is left nil.)
std::vector<SpreadConstraint> FilterConstraints(
    const google::protobuf::RepeatedPtrField<v1::TopologySpreadConstraint>& constraints,
    const LabelMap& pod_labels, const std::string& action) {
  std::vector<SpreadConstraint> out;
  for (const v1::TopologySpreadConstraint& c : constraints) {
    if (c.whenunsatisfiable() != action) continue;
    SpreadConstraint s;
    s.max_skew = c.maxskew();
    s.key = c.topologykey();
    if (c.has_labelselector()) {
      s.selector = c.labelselector();
      for (const std::string& key : c.matchlabelkeys()) {
        auto it = pod_labels.find(key);
        if (it == pod_labels.end()) continue;
        metav1::LabelSelectorRequirement* r = s.selector->add_matchexpressions();
        r->set_key(key);
        r->set_operator_("In");
        r->add_values(it->second);
      }
    }
    if (c.has_mindomains()) s.min_domains = c.mindomains();
    if (c.has_nodeaffinitypolicy()) s.honor_node_affinity = c.nodeaffinitypolicy() == "Honor";
    if (c.has_nodetaintspolicy()) s.honor_node_taints = c.nodetaintspolicy() == "Honor";
    out.push_back(std::move(s));
  }
  return out;
}

std::string DefaultingType(const config::PodTopologySpreadArgs& args) {
  return args.defaultingtype().empty() ? "System" : args.defaultingtype();
}

// Kestrel's stand-in for helper.DefaultSelector (see the file comment): the
// controller's selector is taken to be the pod's labels less those that
// differ between its pods. nullopt for an empty selector.
std::optional<metav1::LabelSelector> DefaultSelector(const v1::Pod& pod) {
  const metav1::OwnerReference* controller = nullptr;
  for (const metav1::OwnerReference& o : pod.metadata().ownerreferences()) {
    if (o.controller()) {
      controller = &o;
      break;
    }
  }
  if (controller == nullptr ||
      (controller->kind() != "ReplicationController" && controller->kind() != "ReplicaSet" &&
       controller->kind() != "StatefulSet")) {
    return std::nullopt;
  }
  metav1::LabelSelector s;
  for (const auto& [k, v] : pod.metadata().labels()) {
    if (k == "statefulset.kubernetes.io/pod-name" || k == "apps.kubernetes.io/pod-index" ||
        k == "controller-revision-hash") {
      continue;
    }
    (*s.mutable_matchlabels())[k] = v;
  }
  if (IsEmpty(s)) return std::nullopt;
  return s;
}

// getConstraints / initPreScoreState: the pod's own constraints, or the
// default ones (buildDefaultConstraints) with the default selector.
std::vector<SpreadConstraint> SpreadConstraints(const config::PodTopologySpreadArgs& args,
                                                const v1::Pod& pod, const std::string& action) {
  const LabelMap& labels = pod.metadata().labels();
  if (pod.spec().topologyspreadconstraints_size() > 0) {
    return FilterConstraints(pod.spec().topologyspreadconstraints(), labels, action);
  }
  google::protobuf::RepeatedPtrField<v1::TopologySpreadConstraint> defaults;
  if (DefaultingType(args) == "System") {
    // systemDefaultConstraints.
    v1::TopologySpreadConstraint* host = defaults.Add();
    host->set_topologykey(kLabelHostname);
    host->set_whenunsatisfiable("ScheduleAnyway");
    host->set_maxskew(3);
    v1::TopologySpreadConstraint* zone = defaults.Add();
    zone->set_topologykey(kLabelTopologyZone);
    zone->set_whenunsatisfiable("ScheduleAnyway");
    zone->set_maxskew(5);
  } else {
    defaults = args.defaultconstraints();
  }
  std::vector<SpreadConstraint> out = FilterConstraints(defaults, labels, action);
  if (out.empty()) return out;
  const std::optional<metav1::LabelSelector> selector = DefaultSelector(pod);
  if (!selector) return {};
  for (SpreadConstraint& c : out) c.selector = selector;
  return out;
}

// nodeLabelsMatchSpreadConstraints.
bool HasAllKeys(const LabelMap& labels, const std::vector<SpreadConstraint>& constraints) {
  for (const SpreadConstraint& c : constraints) {
    if (!Has(labels, c.key)) return false;
  }
  return true;
}

// matchNodeInclusionPolicies.
bool Included(const SpreadConstraint& c, const v1::Pod& pod, const v1::Node& node) {
  if (c.honor_node_affinity && !MatchesRequiredNodeAffinity(pod, node)) return false;
  if (c.honor_node_taints && HasUntoleratedDoNotScheduleTaint(pod, node)) return false;
  return true;
}

// countPodsMatchSelector: terminating pods and other namespaces left out.
int64_t CountPodsMatchSelector(const Cluster& cluster, const std::string& node,
                               const metav1::LabelSelector* selector, const std::string& ns) {
  int64_t count = 0;
  for (const v1::Pod* p : PodsOn(cluster, node)) {
    if (p->metadata().has_deletiontimestamp() || NamespaceOf(*p) != ns) continue;
    if (SelectorMatches(selector, p->metadata().labels())) ++count;
  }
  return count;
}

}  // namespace

FilterResult PodTopologySpreadFilter(const config::PodTopologySpreadArgs& args,
                                     const Cluster& cluster, const v1::Pod& pod) {
  FilterResult out;
  const std::vector<SpreadConstraint> cs = SpreadConstraints(args, pod, "DoNotSchedule");
  if (cs.empty()) {
    out.skip = true;
    return out;
  }
  const std::string ns = NamespaceOf(pod);
  // calPreFilterState: TpValueToMatchNum. A value has an entry as soon as one
  // node that counts is in it, even with no matching pod.
  std::vector<std::map<std::string, int64_t>> matching(cs.size());
  for (const v1::Node& node : cluster.nodes) {
    const LabelMap& labels = node.metadata().labels();
    if (!HasAllKeys(labels, cs)) continue;
    for (size_t i = 0; i < cs.size(); ++i) {
      if (!Included(cs[i], pod, node)) continue;
      matching[i][labels.at(cs[i].key)] +=
          CountPodsMatchSelector(cluster, node.metadata().name(), cs[i].Selector(), ns);
    }
  }
  // Filter.
  for (const v1::Node& node : cluster.nodes) {
    const LabelMap& labels = node.metadata().labels();
    Verdict v;
    for (size_t i = 0; i < cs.size(); ++i) {
      if (!Has(labels, cs[i].key)) {
        v = {Code::kUnschedulableAndUnresolvable, kErrReasonNodeLabelNotMatch};
        break;
      }
      // minMatchNum: the fewest matching pods of any domain, or 0 with fewer
      // domains than minDomains.
      int64_t min_match = std::numeric_limits<int32_t>::max();
      for (const auto& [value, n] : matching[i]) min_match = std::min(min_match, n);
      if (static_cast<int64_t>(matching[i].size()) < cs[i].min_domains) min_match = 0;
      auto it = matching[i].find(labels.at(cs[i].key));
      const int64_t match = it == matching[i].end() ? 0 : it->second;
      const int64_t self = SelectorMatches(cs[i].Selector(), pod.metadata().labels()) ? 1 : 0;
      if (match + self - min_match > cs[i].max_skew) {
        v = {Code::kUnschedulable, kErrReasonConstraintsNotMatch};
        break;
      }
    }
    out.nodes[node.metadata().name()] = v;
  }
  return out;
}

ScoreResult PodTopologySpreadScore(const config::PodTopologySpreadArgs& args,
                                   const Cluster& cluster, const v1::Pod& pod,
                                   const std::vector<std::string>& feasible) {
  ScoreResult out;
  const std::vector<SpreadConstraint> cs = SpreadConstraints(args, pod, "ScheduleAnyway");
  if (cluster.nodes.empty() || cs.empty()) {
    out.skip = true;
    return out;
  }
  const std::string ns = NamespaceOf(pod);
  const bool require_all =
      pod.spec().topologyspreadconstraints_size() > 0 || DefaultingType(args) != "System";

  // initPreScoreState: the ignored nodes, and the values of the feasible
  // nodes (a node without the key has the value "").
  std::set<std::string> ignored;
  std::vector<std::map<std::string, int64_t>> counts(cs.size());
  for (const std::string& name : feasible) {
    const LabelMap& labels = FindNode(cluster, name)->metadata().labels();
    if (require_all && !HasAllKeys(labels, cs)) {
      ignored.insert(name);
      continue;
    }
    for (size_t i = 0; i < cs.size(); ++i) {
      if (cs[i].key != kLabelHostname) counts[i][Get(labels, cs[i].key)] = 0;
    }
  }
  std::vector<double> weight(cs.size());
  for (size_t i = 0; i < cs.size(); ++i) {
    const int64_t size = cs[i].key == kLabelHostname
                             ? static_cast<int64_t>(feasible.size() - ignored.size())
                             : static_cast<int64_t>(counts[i].size());
    // topologyNormalizingWeight: math.Log(float64(size + 2)).
    const std::optional<double> log = GoMathLog(static_cast<double>(size + 2));
    if (!log) {
      ADD_FAILURE() << "no Go math.Log value for " << size + 2;
      return out;
    }
    weight[i] = *log;
  }

  // PreScore: every node's matching pods count towards its value.
  for (const v1::Node& node : cluster.nodes) {
    const LabelMap& labels = node.metadata().labels();
    if (require_all && !HasAllKeys(labels, cs)) continue;
    for (size_t i = 0; i < cs.size(); ++i) {
      if (!Included(cs[i], pod, node)) continue;
      auto it = counts[i].find(Get(labels, cs[i].key));
      if (it == counts[i].end()) continue;
      it->second += CountPodsMatchSelector(cluster, node.metadata().name(), cs[i].Selector(), ns);
    }
  }

  // Score: float64 sums in constraint order, then math.Round.
  for (const std::string& name : feasible) {
    if (ignored.count(name)) {
      out.raw[name] = 0;
      continue;
    }
    const LabelMap& labels = FindNode(cluster, name)->metadata().labels();
    double score = 0;
    for (size_t i = 0; i < cs.size(); ++i) {
      if (!Has(labels, cs[i].key)) continue;
      const int64_t cnt = cs[i].key == kLabelHostname
                              ? CountPodsMatchSelector(cluster, name, cs[i].Selector(), ns)
                              : counts[i].at(labels.at(cs[i].key));
      // scoreForCount.
      const double term = static_cast<double>(cnt) * weight[i] +
                          static_cast<double>(cs[i].max_skew - 1);
      score += term;
    }
    out.raw[name] = static_cast<int64_t>(std::round(score));
  }

  // NormalizeScore: ignored nodes get 0, the others
  // 100 * (max + min - score) / max.
  int64_t min_score = std::numeric_limits<int64_t>::max();
  int64_t max_score = 0;
  for (const std::string& name : feasible) {
    if (ignored.count(name)) continue;
    min_score = std::min(min_score, out.raw[name]);
    max_score = std::max(max_score, out.raw[name]);
  }
  for (const std::string& name : feasible) {
    const int64_t s = out.raw[name];
    if (ignored.count(name)) {
      out.normalized[name] = 0;
    } else if (max_score == 0) {
      out.normalized[name] = 100;
    } else {
      out.normalized[name] = 100 * (max_score + min_score - s) / max_score;
    }
  }
  return out;
}

// ---- InterPodAffinity ------------------------------------------------------

namespace {

constexpr char kErrReasonExistingAntiAffinityRulesNotMatch[] =
    "node(s) didn't satisfy existing pods anti-affinity rules";
constexpr char kErrReasonAffinityRulesNotMatch[] = "node(s) didn't match pod affinity rules";
constexpr char kErrReasonAntiAffinityRulesNotMatch[] =
    "node(s) didn't match pod anti-affinity rules";

// framework.AffinityTerm (with WeightedAffinityTerm's weight).
struct AffinityTerm {
  std::set<std::string> namespaces;
  std::optional<metav1::LabelSelector> namespace_selector;  // nullopt: Nothing
  std::optional<metav1::LabelSelector> selector;            // nullopt: Nothing
  std::string key;
  int32_t weight = 0;

  // AffinityTerm.Matches.
  bool Matches(const v1::Pod& pod, const LabelMap& ns_labels) const {
    const bool ns_match =
        namespaces.count(NamespaceOf(pod)) > 0 ||
        (namespace_selector && SelectorMatches(&*namespace_selector, ns_labels));
    return ns_match && SelectorMatches(selector ? &*selector : nullptr, pod.metadata().labels());
  }
};

// newAffinityTerm on `owner`'s term, after the API server merged
// matchLabelKeys (key In [value]) and mismatchLabelKeys (key NotIn [value])
// for the keys the owner has, when the term has a labelSelector.
AffinityTerm NewAffinityTerm(const v1::Pod& owner, const v1::PodAffinityTerm& t,
                             int32_t weight = 0) {
  AffinityTerm out;
  out.key = t.topologykey();
  out.weight = weight;
  const LabelMap& labels = owner.metadata().labels();
  if (t.has_labelselector()) {
    out.selector = t.labelselector();
    auto merge = [&](const google::protobuf::RepeatedPtrField<std::string>& keys,
                     const char* op) {
      for (const std::string& key : keys) {
        auto it = labels.find(key);
        if (it == labels.end()) continue;
        metav1::LabelSelectorRequirement* r = out.selector->add_matchexpressions();
        r->set_key(key);
        r->set_operator_(op);
        r->add_values(it->second);
      }
    };
    merge(t.matchlabelkeys(), "In");
    merge(t.mismatchlabelkeys(), "NotIn");
  }
  if (t.has_namespaceselector()) out.namespace_selector = t.namespaceselector();
  // getNamespacesFromPodAffinityTerm.
  if (t.namespaces().empty() && !t.has_namespaceselector()) {
    out.namespaces.insert(NamespaceOf(owner));
  } else {
    out.namespaces.insert(t.namespaces().begin(), t.namespaces().end());
  }
  return out;
}

// The incoming pod's terms get mergeAffinityTermNamespacesIfNotEmpty: a
// namespaceSelector with requirements becomes the names of the Namespace
// objects it selects (so a pod in a namespace without an object never
// matches it), and then selects nothing more.
AffinityTerm IncomingTerm(const Cluster& cluster, const v1::Pod& pod,
                          const v1::PodAffinityTerm& t, int32_t weight = 0) {
  AffinityTerm out = NewAffinityTerm(pod, t, weight);
  if (out.namespace_selector && !IsEmpty(*out.namespace_selector)) {
    for (const auto& [name, labels] : cluster.namespaces) {
      if (SelectorMatches(&*out.namespace_selector, labels)) out.namespaces.insert(name);
    }
    out.namespace_selector.reset();
  }
  return out;
}

struct PodTerms {
  std::vector<AffinityTerm> required_affinity, required_anti_affinity;
  std::vector<AffinityTerm> preferred_affinity, preferred_anti_affinity;
};

// NewPodInfo's terms; `incoming` applies the namespace merge of the pod
// being scheduled.
PodTerms TermsOf(const Cluster& cluster, const v1::Pod& pod, bool incoming) {
  PodTerms out;
  const v1::Affinity& a = pod.spec().affinity();
  auto make = [&](const v1::PodAffinityTerm& t, int32_t weight) {
    return incoming ? IncomingTerm(cluster, pod, t, weight) : NewAffinityTerm(pod, t, weight);
  };
  for (const auto& t : a.podaffinity().requiredduringschedulingignoredduringexecution()) {
    out.required_affinity.push_back(make(t, 0));
  }
  for (const auto& t : a.podantiaffinity().requiredduringschedulingignoredduringexecution()) {
    out.required_anti_affinity.push_back(make(t, 0));
  }
  for (const auto& w : a.podaffinity().preferredduringschedulingignoredduringexecution()) {
    out.preferred_affinity.push_back(make(w.podaffinityterm(), w.weight()));
  }
  for (const auto& w : a.podantiaffinity().preferredduringschedulingignoredduringexecution()) {
    out.preferred_anti_affinity.push_back(make(w.podaffinityterm(), w.weight()));
  }
  return out;
}

// podMatchesAllAffinityTerms, for the incoming pod's merged terms (no
// namespace labels needed).
bool MatchesAll(const std::vector<AffinityTerm>& terms, const v1::Pod& pod) {
  if (terms.empty()) return false;
  for (const AffinityTerm& t : terms) {
    if (!t.Matches(pod, NoLabels())) return false;
  }
  return true;
}

}  // namespace

FilterResult InterPodAffinityFilter(const Cluster& cluster, const v1::Pod& pod) {
  FilterResult out;
  const PodTerms terms = TermsOf(cluster, pod, /*incoming=*/true);
  const LabelMap& ns_labels = NamespaceLabels(cluster, NamespaceOf(pod));

  // PreFilter: the three topologyToMatchedTermCount maps, zero entries
  // never kept.
  std::map<Pair, int64_t> existing_anti, affinity, anti;
  for (const v1::Pod& e : cluster.pods) {
    const v1::Node* node = FindNode(cluster, e.spec().nodename());
    if (node == nullptr) continue;
    const LabelMap& labels = node->metadata().labels();
    for (const AffinityTerm& t : TermsOf(cluster, e, false).required_anti_affinity) {
      if (t.Matches(pod, ns_labels) && Has(labels, t.key)) {
        ++existing_anti[{t.key, labels.at(t.key)}];
      }
    }
    if (MatchesAll(terms.required_affinity, e)) {
      for (const AffinityTerm& t : terms.required_affinity) {
        if (Has(labels, t.key)) ++affinity[{t.key, labels.at(t.key)}];
      }
    }
    for (const AffinityTerm& t : terms.required_anti_affinity) {
      if (t.Matches(e, NoLabels()) && Has(labels, t.key)) ++anti[{t.key, labels.at(t.key)}];
    }
  }
  if (existing_anti.empty() && terms.required_affinity.empty() &&
      terms.required_anti_affinity.empty()) {
    out.skip = true;
    return out;
  }

  for (const v1::Node& node : cluster.nodes) {
    const LabelMap& labels = node.metadata().labels();
    // satisfyPodAffinity.
    bool affinity_ok = true;
    bool pods_exist = true;
    for (const AffinityTerm& t : terms.required_affinity) {
      if (!Has(labels, t.key)) {
        affinity_ok = false;  // every topology key must be on the node
        break;
      }
      auto it = affinity.find({t.key, labels.at(t.key)});
      if (it == affinity.end() || it->second <= 0) pods_exist = false;
    }
    if (affinity_ok && !pods_exist) {
      // The first pod of a group with affinity to itself.
      affinity_ok = affinity.empty() && MatchesAll(terms.required_affinity, pod);
    }
    // satisfyPodAntiAffinity.
    bool anti_ok = true;
    for (const AffinityTerm& t : terms.required_anti_affinity) {
      if (!Has(labels, t.key)) continue;
      auto it = anti.find({t.key, labels.at(t.key)});
      if (it != anti.end() && it->second > 0) anti_ok = false;
    }
    // satisfyExistingPodsAntiAffinity: any label of the node.
    bool existing_ok = true;
    for (const auto& [k, v] : labels) {
      auto it = existing_anti.find({k, v});
      if (it != existing_anti.end() && it->second > 0) existing_ok = false;
    }
    Verdict verdict;
    if (!affinity_ok) {
      verdict = {Code::kUnschedulableAndUnresolvable, kErrReasonAffinityRulesNotMatch};
    } else if (!anti_ok) {
      verdict = {Code::kUnschedulable, kErrReasonAntiAffinityRulesNotMatch};
    } else if (!existing_ok) {
      verdict = {Code::kUnschedulable, kErrReasonExistingAntiAffinityRulesNotMatch};
    }
    out.nodes[node.metadata().name()] = verdict;
  }
  return out;
}

ScoreResult InterPodAffinityScore(const config::InterPodAffinityArgs& args,
                                  const Cluster& cluster, const v1::Pod& pod,
                                  const std::vector<std::string>& feasible) {
  ScoreResult out;
  const int32_t hard_weight = args.has_hardpodaffinityweight() ? args.hardpodaffinityweight() : 1;
  const PodTerms terms = TermsOf(cluster, pod, /*incoming=*/true);
  const bool has_constraints =
      !terms.preferred_affinity.empty() || !terms.preferred_anti_affinity.empty();
  if (args.ignorepreferredtermsofexistingpods() && !has_constraints) {
    out.skip = true;
    return out;
  }
  const LabelMap& ns_labels = NamespaceLabels(cluster, NamespaceOf(pod));

  // PreScore: topologyScore. Upstream visits only pods with affinity when
  // the incoming pod has no preferred terms; the others contribute nothing
  // then, so every pod is visited here.
  std::map<std::string, std::map<std::string, int64_t>> topology_score;
  auto process = [&](const AffinityTerm& t, int32_t weight, const v1::Pod& target,
                     const LabelMap& target_ns_labels, const LabelMap& node_labels,
                     int32_t multiplier) {
    if (!t.Matches(target, target_ns_labels) || !Has(node_labels, t.key)) return;
    topology_score[t.key][node_labels.at(t.key)] += int64_t{weight * multiplier};
  };
  for (const v1::Pod& e : cluster.pods) {
    const v1::Node* node = FindNode(cluster, e.spec().nodename());
    if (node == nullptr) continue;
    const LabelMap& labels = node->metadata().labels();
    for (const AffinityTerm& t : terms.preferred_affinity) {
      process(t, t.weight, e, NoLabels(), labels, 1);
    }
    for (const AffinityTerm& t : terms.preferred_anti_affinity) {
      process(t, t.weight, e, NoLabels(), labels, -1);
    }
    const PodTerms existing = TermsOf(cluster, e, false);
    if (hard_weight > 0) {
      for (const AffinityTerm& t : existing.required_affinity) {
        process(t, hard_weight, pod, ns_labels, labels, 1);
      }
    }
    for (const AffinityTerm& t : existing.preferred_affinity) {
      process(t, t.weight, pod, ns_labels, labels, 1);
    }
    for (const AffinityTerm& t : existing.preferred_anti_affinity) {
      process(t, t.weight, pod, ns_labels, labels, -1);
    }
  }
  // No term matched anywhere: Skip.
  if (topology_score.empty()) {
    out.skip = true;
    return out;
  }

  // Score.
  for (const std::string& name : feasible) {
    const LabelMap& labels = FindNode(cluster, name)->metadata().labels();
    int64_t score = 0;
    for (const auto& [key, values] : topology_score) {
      if (!Has(labels, key)) continue;
      auto it = values.find(labels.at(key));
      if (it != values.end()) score += it->second;
    }
    out.raw[name] = score;
  }
  // NormalizeScore: [min, max] onto [0, 100] in float64, truncated.
  int64_t min_count = std::numeric_limits<int64_t>::max();
  int64_t max_count = std::numeric_limits<int64_t>::min();
  for (const auto& [name, s] : out.raw) {
    min_count = std::min(min_count, s);
    max_count = std::max(max_count, s);
  }
  const int64_t diff = max_count - min_count;
  for (const auto& [name, s] : out.raw) {
    double f = 0;
    if (diff > 0) f = 100.0 * (static_cast<double>(s - min_count) / static_cast<double>(diff));
    out.normalized[name] = static_cast<int64_t>(f);
  }
  return out;
}

// ---- Go's math.Log ---------------------------------------------------------

namespace {

constexpr GoLogEntry kGoMathLog[] = {
#include "predicates/testing/testdata/go_math_log.inc"
};

uint64_t Bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

double FromBits(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

}  // namespace

absl::Span<const GoLogEntry> GoMathLogTable() { return kGoMathLog; }

std::optional<double> GoMathLog(double x) {
  for (const GoLogEntry& e : kGoMathLog) {
    if (e.x == Bits(x)) return FromBits(e.log);
  }
  return std::nullopt;
}

}  // namespace kestrel::testing::upstream
