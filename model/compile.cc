#include "model/compile.h"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/decode.h"
#include "api/object_validation.h"
#include "api/quantity.h"
#include "api/validation.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace kestrel::model {
namespace {

using ::google::protobuf::Map;
namespace meta = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using QuantityProto = ::k8s::io::apimachinery::pkg::api::resource::Quantity;

absl::Status FieldError(absl::string_view object, absl::string_view field,
                        absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(object, ": ", field, ": ", message));
}

// `object`'s field errors, joined as upstream's aggregate ("[a, b]" for
// several).
absl::Status Invalid(absl::string_view object, const std::vector<std::string>& errs) {
  return absl::InvalidArgumentError(
      absl::StrCat(object, ": ", api::AggregateErrors(errs).message()));
}

absl::Status Unsupported(absl::string_view object, absl::string_view field,
                         absl::string_view value, absl::string_view supported) {
  return FieldError(object, field,
                    absl::StrCat("Unsupported value: \"", value,
                                 "\": supported values: ", supported));
}

absl::Time ToTime(int64_t seconds, int32_t nanos) {
  return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
}

Labels CompileLabels(const Map<std::string, std::string>& map, Interner& names) {
  std::vector<Label> labels;
  labels.reserve(map.size());
  for (const auto& [k, v] : map) {
    Label l{names.Intern(k), names.Intern(v), std::nullopt};
    int64_t n;
    if (absl::SimpleAtoi(v, &n)) l.number = n;
    labels.push_back(l);
  }
  return Labels(std::move(labels));
}

// A resource list in nano-units of every resource (nanocores, nanobytes,
// ...), exact, so that sums and maxima round once, at the end, as Quantity
// arithmetic does.
struct NanoList {
  __int128 cpu = 0, memory = 0, ephemeral = 0;
  std::vector<std::pair<Id, __int128>> scalar;  // unsorted, unique ids

  __int128* Slot(Id id) {
    for (auto& [k, v] : scalar) {
      if (k == id) return &v;
    }
    scalar.push_back({id, 0});
    return &scalar.back().second;
  }
  void Add(const NanoList& o) {
    cpu += o.cpu;
    memory += o.memory;
    ephemeral += o.ephemeral;
    for (const auto& [k, v] : o.scalar) *Slot(k) += v;
  }
  void Max(const NanoList& o) {
    cpu = std::max(cpu, o.cpu);
    memory = std::max(memory, o.memory);
    ephemeral = std::max(ephemeral, o.ephemeral);
    for (const auto& [k, v] : o.scalar) {
      __int128* s = Slot(k);
      *s = std::max(*s, v);
    }
  }
};

constexpr __int128 kNanosPerMilli = 1000000;
constexpr __int128 kNanosPerUnit = 1000000000;

// nanos / per, rounded away from zero (Quantity's Value and MilliValue),
// saturated to int64.
int64_t RoundNanos(__int128 nanos, __int128 per) {
  const bool negative = nanos < 0;
  const __int128 magnitude = negative ? -nanos : nanos;
  __int128 q = magnitude / per + (magnitude % per != 0 ? 1 : 0);
  const __int128 max = std::numeric_limits<int64_t>::max();
  if (q > max) q = max;
  return static_cast<int64_t>(negative ? -q : q);
}

absl::StatusOr<api::Quantity> ParseQuantity(const QuantityProto& q, absl::string_view object,
                                            absl::string_view field) {
  absl::StatusOr<api::Quantity> parsed = api::Quantity::Parse(q.string());
  if (!parsed.ok()) return FieldError(object, field, parsed.status().message());
  return parsed;
}

// Reads a requests/overhead map. `cpu_set`/`memory_set` report whether the
// keys were present (upstream's non-zero defaults apply to missing keys only).
absl::Status ReadResourceList(const Map<std::string, QuantityProto>& map, Interner& names,
                              absl::string_view object, absl::string_view field,
                              NanoList* out, bool* cpu_set, bool* memory_set) {
  for (const auto& [name, q] : map) {
    absl::StatusOr<api::Quantity> v =
        ParseQuantity(q, object, absl::StrCat(field, ".", name));
    if (!v.ok()) return v.status();
    const __int128 nanos = v->Nanos();
    if (name == "cpu") {
      out->cpu = nanos;
      if (cpu_set) *cpu_set = true;
    } else if (name == "memory") {
      out->memory = nanos;
      if (memory_set) *memory_set = true;
    } else if (name == "ephemeral-storage") {
      out->ephemeral = nanos;
    } else if (IsScalarResourceName(name)) {
      *out->Slot(names.Intern(name)) = nanos;
    }
  }
  return absl::OkStatus();
}

Resources ToResources(const NanoList& m) {
  Resources r;
  r.milli_cpu = RoundNanos(m.cpu, kNanosPerMilli);
  r.memory = RoundNanos(m.memory, kNanosPerUnit);
  r.ephemeral_storage = RoundNanos(m.ephemeral, kNanosPerUnit);
  for (const auto& [id, v] : m.scalar) r.SetScalar(id, RoundNanos(v, kNanosPerUnit));
  return r;
}

// Upstream resourcehelper.PodRequests, computed twice: as is, and with the
// non-zero defaults for containers that name no cpu or memory request.
absl::Status ComputeRequests(const v1::Pod& api, Interner& names, absl::string_view object,
                             Pod* pod) {
  const v1::PodSpec& spec = api.spec();
  NanoList sum, sum_nz;
  auto container = [&](const v1::Container& c, absl::string_view field, NanoList* req,
                       NanoList* req_nz) -> absl::Status {
    bool cpu_set = false, memory_set = false;
    absl::Status s = ReadResourceList(c.resources().requests(), names, object,
                                      absl::StrCat(field, ".resources.requests"), req,
                                      &cpu_set, &memory_set);
    if (!s.ok()) return s;
    *req_nz = *req;
    if (!cpu_set) req_nz->cpu = kDefaultMilliCpuRequest * kNanosPerMilli;
    if (!memory_set) req_nz->memory = kDefaultMemoryRequest * kNanosPerUnit;
    return absl::OkStatus();
  };
  for (int i = 0; i < spec.containers_size(); ++i) {
    NanoList r, r_nz;
    absl::Status s = container(spec.containers(i), absl::StrCat("spec.containers[", i, "]"), &r, &r_nz);
    if (!s.ok()) return s;
    sum.Add(r);
    sum_nz.Add(r_nz);
  }
  // Init containers run one at a time before the app containers; sidecars
  // (restartPolicy: Always) keep running, so they add to everything after.
  NanoList init_max, init_max_nz, sidecars, sidecars_nz;
  for (int i = 0; i < spec.initcontainers_size(); ++i) {
    const v1::Container& c = spec.initcontainers(i);
    NanoList r, r_nz;
    absl::Status s = container(c, absl::StrCat("spec.initContainers[", i, "]"), &r, &r_nz);
    if (!s.ok()) return s;
    if (c.restartpolicy() == "Always") {
      sum.Add(r);
      sum_nz.Add(r_nz);
      sidecars.Add(r);
      sidecars_nz.Add(r_nz);
      init_max.Max(sidecars);
      init_max_nz.Max(sidecars_nz);
    } else {
      r.Add(sidecars);
      r_nz.Add(sidecars_nz);
      init_max.Max(r);
      init_max_nz.Max(r_nz);
    }
  }
  sum.Max(init_max);
  sum_nz.Max(init_max_nz);
  NanoList overhead;
  absl::Status s = ReadResourceList(spec.overhead(), names, object, "spec.overhead", &overhead,
                                    nullptr, nullptr);
  if (!s.ok()) return s;
  sum.Add(overhead);
  sum_nz.Add(overhead);
  pod->requests = ToResources(sum);
  pod->non_zero_milli_cpu = RoundNanos(sum_nz.cpu, kNanosPerMilli);
  pod->non_zero_memory = RoundNanos(sum_nz.memory, kNanosPerUnit);
  return absl::OkStatus();
}

absl::StatusOr<TaintEffect> ParseEffect(const std::string& effect, bool allow_empty,
                                        absl::string_view object, absl::string_view field) {
  if (effect.empty() && allow_empty) return TaintEffect::kNone;
  if (effect == "NoSchedule") return TaintEffect::kNoSchedule;
  if (effect == "PreferNoSchedule") return TaintEffect::kPreferNoSchedule;
  if (effect == "NoExecute") return TaintEffect::kNoExecute;
  if (effect.empty()) return FieldError(object, field, "Required value");
  return Unsupported(object, field, effect,
                     "\"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\"");
}

absl::StatusOr<Requirement> CompileRequirement(const std::string& key, const std::string& op,
                                               const google::protobuf::RepeatedPtrField<std::string>& values,
                                               bool allow_gt_lt, Interner& names,
                                               absl::string_view object,
                                               absl::string_view field) {
  Requirement r;
  r.key = names.Intern(key);
  if (op == "In") {
    r.op = SelectorOp::kIn;
  } else if (op == "NotIn") {
    r.op = SelectorOp::kNotIn;
  } else if (op == "Exists") {
    r.op = SelectorOp::kExists;
  } else if (op == "DoesNotExist") {
    r.op = SelectorOp::kDoesNotExist;
  } else if (allow_gt_lt && (op == "Gt" || op == "Lt")) {
    r.op = op == "Gt" ? SelectorOp::kGt : SelectorOp::kLt;
  } else {
    return Unsupported(object, absl::StrCat(field, ".operator"), op,
                       allow_gt_lt ? "\"DoesNotExist\", \"Exists\", \"Gt\", \"In\", \"Lt\", \"NotIn\""
                                   : "\"DoesNotExist\", \"Exists\", \"In\", \"NotIn\"");
  }
  switch (r.op) {
    case SelectorOp::kIn:
    case SelectorOp::kNotIn:
      if (values.empty()) {
        return FieldError(object, absl::StrCat(field, ".values"),
                          "Required value: must be specified when `operator` is 'In' or 'NotIn'");
      }
      for (const std::string& v : values) r.values.push_back(names.Intern(v));
      std::sort(r.values.begin(), r.values.end());
      break;
    case SelectorOp::kExists:
    case SelectorOp::kDoesNotExist:
      if (!values.empty()) {
        return FieldError(object, absl::StrCat(field, ".values"),
                          "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      }
      break;
    case SelectorOp::kGt:
    case SelectorOp::kLt:
      if (values.size() != 1 || !api::ParseGoInt64(values[0], &r.number)) {
        return FieldError(object, absl::StrCat(field, ".values"),
                          "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'");
      }
      break;
  }
  return r;
}

// `tf` names the term in Kestrel's errors; `parse_path` is the path
// upstream's parser gives its problems ("nodeSelectorTerms[0]" for a
// required term, "[0]" for a preferred one).
absl::StatusOr<NodeSelectorTerm> CompileNodeSelectorTerm(const v1::NodeSelectorTerm& term,
                                                         Interner& names,
                                                         absl::string_view object,
                                                         absl::string_view tf,
                                                         absl::string_view parse_path) {
  NodeSelectorTerm compiled;
  // The scheduler parses terms lazily: one that does not parse matches no
  // node, the pod stays valid (upstream LazyErrorNodeSelector).
  api::NodeSelectorTermParseErrors(term, parse_path, compiled.parse_errors);
  if (compiled.parse_errors.empty()) {
    for (int i = 0; i < term.matchexpressions_size(); ++i) {
      const auto& e = term.matchexpressions(i);
      auto r = CompileRequirement(e.key(), e.operator_(), e.values(), true, names, object,
                                  absl::StrCat(tf, ".matchExpressions[", i, "]"));
      if (!r.ok()) return r.status();
      compiled.expressions.push_back(*std::move(r));
    }
  }
  for (int i = 0; i < term.matchfields_size(); ++i) {
    const auto& e = term.matchfields(i);
    const std::string ff = absl::StrCat(tf, ".matchFields[", i, "]");
    if (e.key() != "metadata.name") {
      return Unsupported(object, absl::StrCat(ff, ".key"), e.key(), "\"metadata.name\"");
    }
    // One that does not parse is among parse_errors.
    if ((e.operator_() != "In" && e.operator_() != "NotIn") || e.values_size() != 1) continue;
    auto r = CompileRequirement(e.key(), e.operator_(), e.values(), false, names, object, ff);
    if (!r.ok()) return r.status();
    compiled.fields.push_back(*std::move(r));
  }
  return compiled;
}

absl::StatusOr<NodeSelector> CompileNodeSelectorIn(const v1::NodeSelector& selector,
                                                   Interner& names, absl::string_view object,
                                                   absl::string_view field) {
  NodeSelector out;
  for (int t = 0; t < selector.nodeselectorterms_size(); ++t) {
    const std::string path = absl::StrCat(".nodeSelectorTerms[", t, "]");
    auto term = CompileNodeSelectorTerm(selector.nodeselectorterms(t), names, object,
                                        absl::StrCat(field, path), path.substr(1));
    if (!term.ok()) return term.status();
    out.terms.push_back(*std::move(term));
  }
  return out;
}

absl::StatusOr<std::vector<PreferredSchedulingTerm>> CompilePreferredSchedulingTerms(
    const google::protobuf::RepeatedPtrField<v1::PreferredSchedulingTerm>& terms,
    Interner& names, absl::string_view object, absl::string_view field) {
  std::vector<PreferredSchedulingTerm> out;
  for (int i = 0; i < terms.size(); ++i) {
    const std::string tf = absl::StrCat(field, "[", i, "]");
    const int32_t weight = terms[i].weight();
    if (weight < 1 || weight > 100) {
      return FieldError(object, absl::StrCat(tf, ".weight"),
                        absl::StrCat("Invalid value: ", weight, ": must be in the range 1-100"));
    }
    auto term = CompileNodeSelectorTerm(terms[i].preference(), names, object,
                                        absl::StrCat(tf, ".preference"), absl::StrCat("[", i, "]"));
    if (!term.ok()) return term.status();
    out.push_back({weight, *std::move(term)});
  }
  return out;
}

}  // namespace

// metav1.LabelSelectorAsSelector: nil selects nothing, {} everything;
// matchLabels become In requirements.
absl::StatusOr<LabelSelector> CompileLabelSelector(const meta::LabelSelector* selector,
                                                   Interner& names, absl::string_view object,
                                                   absl::string_view field) {
  if (selector == nullptr) return LabelSelector::Nothing();
  LabelSelector out = LabelSelector::Everything();
  for (const auto& [k, v] : selector->matchlabels()) {
    Requirement r;
    r.key = names.Intern(k);
    r.op = SelectorOp::kIn;
    r.values = {names.Intern(v)};
    out.requirements.push_back(std::move(r));
  }
  for (int i = 0; i < selector->matchexpressions_size(); ++i) {
    const auto& e = selector->matchexpressions(i);
    auto r = CompileRequirement(e.key(), e.operator_(), e.values(), false, names, object,
                                absl::StrCat(field, ".matchExpressions[", i, "]"));
    if (!r.ok()) return r.status();
    out.requirements.push_back(*std::move(r));
  }
  // A stable order: equal selectors compile equal whatever the map order.
  std::sort(out.requirements.begin(), out.requirements.end(),
            [](const Requirement& a, const Requirement& b) {
              return std::tie(a.key, a.op, a.values) < std::tie(b.key, b.op, b.values);
            });
  return out;
}

namespace {

// Adds `key In [value]` (or NotIn) for each key the pod has a label for, as
// the API server does with matchLabelKeys / mismatchLabelKeys.
void MergeLabelKeys(const google::protobuf::RepeatedPtrField<std::string>& keys, SelectorOp op,
                    const Labels& pod_labels, Interner& names, LabelSelector* selector) {
  for (const std::string& key : keys) {
    const Id k = names.Intern(key);
    const Id v = pod_labels.Get(k);
    if (v == kNoId) continue;
    Requirement r;
    r.key = k;
    r.op = op;
    r.values = {v};
    selector->requirements.push_back(std::move(r));
  }
}

absl::StatusOr<AffinityTerm> CompileAffinityTerm(const v1::PodAffinityTerm& term,
                                                 const Pod& pod, Interner& names,
                                                 absl::string_view object,
                                                 absl::string_view field) {
  AffinityTerm out;
  if (term.topologykey().empty()) {
    return FieldError(object, absl::StrCat(field, ".topologyKey"),
                      "Required value: can not be empty");
  }
  out.topology_key = names.Intern(term.topologykey());
  auto selector = CompileLabelSelector(term.has_labelselector() ? &term.labelselector() : nullptr,
                                       names, object, absl::StrCat(field, ".labelSelector"));
  if (!selector.ok()) return selector.status();
  out.selector = *std::move(selector);
  if (term.has_labelselector()) {
    MergeLabelKeys(term.matchlabelkeys(), SelectorOp::kIn, pod.labels, names, &out.selector);
    MergeLabelKeys(term.mismatchlabelkeys(), SelectorOp::kNotIn, pod.labels, names,
                   &out.selector);
  }
  auto ns_selector =
      CompileLabelSelector(term.has_namespaceselector() ? &term.namespaceselector() : nullptr,
                           names, object, absl::StrCat(field, ".namespaceSelector"));
  if (!ns_selector.ok()) return ns_selector.status();
  out.namespace_selector = *std::move(ns_selector);
  // Neither namespaces nor a namespaceSelector: the pod's own namespace.
  if (term.namespaces_size() == 0 && !term.has_namespaceselector()) {
    out.namespaces = {pod.ns_id};
  } else {
    for (const std::string& ns : term.namespaces()) out.namespaces.push_back(names.Intern(ns));
    std::sort(out.namespaces.begin(), out.namespaces.end());
    out.namespaces.erase(std::unique(out.namespaces.begin(), out.namespaces.end()),
                         out.namespaces.end());
  }
  return out;
}

absl::Status CompileAffinityTerms(
    const google::protobuf::RepeatedPtrField<v1::PodAffinityTerm>& required,
    const google::protobuf::RepeatedPtrField<v1::WeightedPodAffinityTerm>& preferred,
    const Pod& pod, Interner& names, absl::string_view object, absl::string_view field,
    std::vector<AffinityTerm>* required_out, std::vector<WeightedAffinityTerm>* preferred_out) {
  for (int i = 0; i < required.size(); ++i) {
    auto t = CompileAffinityTerm(
        required[i], pod, names, object,
        absl::StrCat(field, ".requiredDuringSchedulingIgnoredDuringExecution[", i, "]"));
    if (!t.ok()) return t.status();
    required_out->push_back(*std::move(t));
  }
  for (int i = 0; i < preferred.size(); ++i) {
    const std::string pf =
        absl::StrCat(field, ".preferredDuringSchedulingIgnoredDuringExecution[", i, "]");
    const int32_t weight = preferred[i].weight();
    if (weight < 1 || weight > 100) {
      return FieldError(object, absl::StrCat(pf, ".weight"),
                        absl::StrCat("Invalid value: ", weight, ": must be in the range 1-100"));
    }
    auto t = CompileAffinityTerm(preferred[i].podaffinityterm(), pod, names, object,
                                 absl::StrCat(pf, ".podAffinityTerm"));
    if (!t.ok()) return t.status();
    preferred_out->push_back({*std::move(t), weight});
  }
  return absl::OkStatus();
}

// spec.affinity (or the legacy annotation's Affinity) into `pod`.
absl::Status CompileAffinity(const v1::Affinity& affinity, Interner& names,
                             absl::string_view object, absl::string_view field, Pod* pod) {
  const v1::NodeAffinity& na = affinity.nodeaffinity();
  if (na.has_requiredduringschedulingignoredduringexecution()) {
    auto sel = CompileNodeSelectorIn(
        na.requiredduringschedulingignoredduringexecution(), names, object,
        absl::StrCat(field, ".nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"));
    if (!sel.ok()) return sel.status();
    pod->required_node_affinity = *std::move(sel);
  }
  auto preferred = CompilePreferredSchedulingTerms(
      na.preferredduringschedulingignoredduringexecution(), names, object,
      absl::StrCat(field, ".nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"));
  if (!preferred.ok()) return preferred.status();
  pod->preferred_node_affinity = *std::move(preferred);

  pod->has_pod_affinity = affinity.has_podaffinity() || affinity.has_podantiaffinity();
  absl::Status s = CompileAffinityTerms(
      affinity.podaffinity().requiredduringschedulingignoredduringexecution(),
      affinity.podaffinity().preferredduringschedulingignoredduringexecution(), *pod, names,
      object, absl::StrCat(field, ".podAffinity"), &pod->required_affinity,
      &pod->preferred_affinity);
  if (!s.ok()) return s;
  return CompileAffinityTerms(
      affinity.podantiaffinity().requiredduringschedulingignoredduringexecution(),
      affinity.podantiaffinity().preferredduringschedulingignoredduringexecution(), *pod, names,
      object, absl::StrCat(field, ".podAntiAffinity"), &pod->required_anti_affinity,
      &pod->preferred_anti_affinity);
}

absl::StatusOr<InclusionPolicy> ParsePolicy(const std::string& value, InclusionPolicy dflt,
                                            absl::string_view object, absl::string_view field) {
  if (value.empty()) return dflt;
  if (value == "Honor") return InclusionPolicy::kHonor;
  if (value == "Ignore") return InclusionPolicy::kIgnore;
  return Unsupported(object, field, value, "\"Honor\", \"Ignore\"");
}

absl::Status CompileSpreadConstraints(const v1::PodSpec& spec, Interner& names,
                                      absl::string_view object, Pod* pod) {
  for (int i = 0; i < spec.topologyspreadconstraints_size(); ++i) {
    const v1::TopologySpreadConstraint& c = spec.topologyspreadconstraints(i);
    const std::string f = absl::StrCat("spec.topologySpreadConstraints[", i, "]");
    TopologySpreadConstraint out;
    if (c.maxskew() <= 0) {
      return FieldError(object, absl::StrCat(f, ".maxSkew"),
                        absl::StrCat("Invalid value: ", c.maxskew(), ": must be greater than zero"));
    }
    out.max_skew = c.maxskew();
    if (c.topologykey().empty()) {
      return FieldError(object, absl::StrCat(f, ".topologyKey"),
                        "Required value: can not be empty");
    }
    out.topology_key = names.Intern(c.topologykey());
    if (c.whenunsatisfiable() == "DoNotSchedule") {
      out.when_unsatisfiable = UnsatisfiableAction::kDoNotSchedule;
    } else if (c.whenunsatisfiable() == "ScheduleAnyway") {
      out.when_unsatisfiable = UnsatisfiableAction::kScheduleAnyway;
    } else if (c.whenunsatisfiable().empty()) {
      return FieldError(object, absl::StrCat(f, ".whenUnsatisfiable"), "Required value");
    } else {
      return Unsupported(object, absl::StrCat(f, ".whenUnsatisfiable"), c.whenunsatisfiable(),
                         "\"DoNotSchedule\", \"ScheduleAnyway\"");
    }
    if (c.has_mindomains()) {
      if (c.mindomains() <= 0) {
        return FieldError(object, absl::StrCat(f, ".minDomains"),
                          absl::StrCat("Invalid value: ", c.mindomains(),
                                       ": must be greater than 0"));
      }
      if (out.when_unsatisfiable != UnsatisfiableAction::kDoNotSchedule) {
        return FieldError(object, absl::StrCat(f, ".minDomains"),
                          absl::StrCat("Invalid value: ", c.mindomains(),
                                       ": can only use minDomains if whenUnsatisfiable=DoNotSchedule"));
      }
      out.min_domains = c.mindomains();
    }
    auto affinity_policy = ParsePolicy(c.nodeaffinitypolicy(), InclusionPolicy::kHonor, object,
                                       absl::StrCat(f, ".nodeAffinityPolicy"));
    if (!affinity_policy.ok()) return affinity_policy.status();
    out.node_affinity_policy = *affinity_policy;
    auto taints_policy = ParsePolicy(c.nodetaintspolicy(), InclusionPolicy::kIgnore, object,
                                     absl::StrCat(f, ".nodeTaintsPolicy"));
    if (!taints_policy.ok()) return taints_policy.status();
    out.node_taints_policy = *taints_policy;
    auto selector = CompileLabelSelector(c.has_labelselector() ? &c.labelselector() : nullptr,
                                         names, object, absl::StrCat(f, ".labelSelector"));
    if (!selector.ok()) return selector.status();
    out.selector = *std::move(selector);
    // Upstream's scheduler merges matchLabelKeys itself; a nil selector stays nil.
    MergeLabelKeys(c.matchlabelkeys(), SelectorOp::kIn, pod->labels, names, &out.selector);
    pod->spread_constraints.push_back(std::move(out));
  }
  return absl::OkStatus();
}

absl::Status CompileTolerations(const google::protobuf::RepeatedPtrField<v1::Toleration>& list,
                                Interner& names, absl::string_view object,
                                absl::string_view prefix, std::vector<Toleration>* out) {
  for (int i = 0; i < list.size(); ++i) {
    const v1::Toleration& t = list[i];
    const std::string field = absl::StrCat(prefix, "[", i, "]");
    Toleration tol;
    if (!t.key().empty()) tol.key = names.Intern(t.key());
    if (t.operator_().empty() || t.operator_() == "Equal") {
      tol.op = TolerationOp::kEqual;
    } else if (t.operator_() == "Exists") {
      tol.op = TolerationOp::kExists;
      if (!t.value().empty()) {
        return FieldError(object, absl::StrCat(field, ".operator"),
                          "Invalid value: value must be empty when `operator` is 'Exists'");
      }
    } else {
      return Unsupported(object, absl::StrCat(field, ".operator"), t.operator_(),
                         "\"Equal\", \"Exists\"");
    }
    if (t.key().empty() && tol.op != TolerationOp::kExists) {
      return FieldError(object, absl::StrCat(field, ".operator"),
                        "Invalid value: operator must be Exists when `key` is empty, which "
                        "means \"match all values and all keys\"");
    }
    if (!t.value().empty()) tol.value = names.Intern(t.value());
    auto effect = ParseEffect(t.effect(), true, object, absl::StrCat(field, ".effect"));
    if (!effect.ok()) return effect.status();
    tol.effect = *effect;
    out->push_back(tol);
  }
  return absl::OkStatus();
}

absl::Status CompileTaints(const google::protobuf::RepeatedPtrField<v1::Taint>& list,
                           Interner& names, absl::string_view object, absl::string_view prefix,
                           std::vector<Taint>* out) {
  for (int i = 0; i < list.size(); ++i) {
    const v1::Taint& t = list[i];
    const std::string field = absl::StrCat(prefix, "[", i, "]");
    if (t.key().empty()) return FieldError(object, absl::StrCat(field, ".key"), "Required value");
    auto effect = ParseEffect(t.effect(), false, object, absl::StrCat(field, ".effect"));
    if (!effect.ok()) return effect.status();
    Taint taint;
    taint.key = t.key();
    taint.value = t.value();
    taint.key_id = names.Intern(t.key());
    if (!t.value().empty()) taint.value_id = names.Intern(t.value());
    taint.effect = *effect;
    if (t.has_timeadded()) {
      taint.time_added = ToTime(t.timeadded().seconds(), t.timeadded().nanos());
    }
    out->push_back(std::move(taint));
  }
  return absl::OkStatus();
}

// The JSON of a legacy alpha annotation, decoded as `message` after
// wrapping it in {"<wrap>": ...} when `wrap` is set (for bare arrays).
absl::Status DecodeAnnotation(const std::string& json, absl::string_view wrap,
                              absl::string_view context, google::protobuf::Message* message) {
  const std::string content = wrap.empty() ? json : absl::StrCat("{\"", wrap, "\": ", json, "}");
  return api::DecodeInto(content, message, context);
}

}  // namespace

absl::StatusOr<NodeSelector> CompileNodeSelector(const v1::NodeSelector& selector,
                                                 Interner& names, absl::string_view field) {
  return CompileNodeSelectorIn(selector, names, "", field);
}

absl::StatusOr<PodPtr> CompilePod(const v1::Pod& api, Interner& names,
                                  const CompileOptions& options) {
  auto pod = std::make_shared<Pod>();
  const auto& meta = api.metadata();
  const v1::PodSpec& spec = api.spec();
  pod->ns = meta.namespace_().empty() ? "default" : meta.namespace_();
  pod->name = meta.name();
  const std::string object = absl::StrCat("Pod ", pod->ns, "/", pod->name);
  // What the API server would refuse is an input error, with all of its
  // problems, as the server lists them.
  if (std::vector<std::string> errs = api::ValidatePod(api); !errs.empty()) {
    return Invalid(object, errs);
  }
  pod->uid = meta.uid();
  pod->ns_id = names.Intern(pod->ns);
  pod->labels = CompileLabels(meta.labels(), names);
  for (const auto& o : meta.ownerreferences()) {
    pod->owners.push_back({o.kind(), o.name(), o.controller()});
  }
  pod->scheduler_name = spec.schedulername();
  if (pod->scheduler_name.empty() && options.alpha_annotations &&
      meta.annotations().contains(kAlphaSchedulerNameAnnotation)) {
    pod->scheduler_name = meta.annotations().at(kAlphaSchedulerNameAnnotation);
  }
  if (pod->scheduler_name.empty()) pod->scheduler_name = kDefaultSchedulerName;
  pod->node_name = spec.nodename();
  for (const auto& gate : spec.schedulinggates()) pod->scheduling_gates.push_back(gate.name());
  pod->nominated_node_name = api.status().nominatednodename();
  pod->priority = spec.priority();
  pod->priority_class_name = spec.priorityclassname();
  pod->critical_annotation =
      options.alpha_annotations && meta.annotations().contains(kAlphaCriticalPodAnnotation);
  pod->mirror = meta.annotations().contains(kMirrorPodAnnotation);
  for (const auto& v : spec.volumes()) {
    if (v.volumesource().has_emptydir()) pod->empty_dir_volumes.push_back(v.name());
  }
  if (spec.preemptionpolicy() == "Never") {
    pod->preemption_policy = PreemptionPolicy::kNever;
  } else if (!spec.preemptionpolicy().empty() && spec.preemptionpolicy() != "PreemptLowerPriority") {
    return Unsupported(object, "spec.preemptionPolicy", spec.preemptionpolicy(),
                       "\"Never\", \"PreemptLowerPriority\"");
  }
  if (meta.has_creationtimestamp()) {
    pod->creation_time = ToTime(meta.creationtimestamp().seconds(), meta.creationtimestamp().nanos());
  }
  if (api.status().has_starttime()) {
    pod->start_time = ToTime(api.status().starttime().seconds(), api.status().starttime().nanos());
  }
  pod->terminating = meta.has_deletiontimestamp();

  absl::Status s = ComputeRequests(api, names, object, pod.get());
  if (!s.ok()) return s;

  // Host ports of app containers and of sidecars (restartPolicy: Always
  // init containers), as upstream GetHostPorts; images of all, init first.
  auto ports = [&](const v1::Container& c, absl::string_view field) -> absl::Status {
    for (int j = 0; j < c.ports_size(); ++j) {
      const auto& p = c.ports(j);
      if (p.hostport() <= 0) continue;
      const std::string pf = absl::StrCat(field, ".ports[", j, "]");
      HostPort hp;
      hp.port = p.hostport();
      if (p.protocol().empty() || p.protocol() == "TCP") {
        hp.protocol = Protocol::kTCP;
      } else if (p.protocol() == "UDP") {
        hp.protocol = Protocol::kUDP;
      } else if (p.protocol() == "SCTP") {
        hp.protocol = Protocol::kSCTP;
      } else {
        return Unsupported(object, absl::StrCat(pf, ".protocol"), p.protocol(),
                           "\"SCTP\", \"TCP\", \"UDP\"");
      }
      hp.host_ip = p.hostip().empty() ? "0.0.0.0" : p.hostip();
      pod->host_ports.push_back(std::move(hp));
    }
    return absl::OkStatus();
  };
  for (int i = 0; i < spec.initcontainers_size(); ++i) {
    const v1::Container& c = spec.initcontainers(i);
    pod->images.push_back(c.image());
    if (c.restartpolicy() != "Always") continue;
    s = ports(c, absl::StrCat("spec.initContainers[", i, "]"));
    if (!s.ok()) return s;
  }
  for (int i = 0; i < spec.containers_size(); ++i) {
    pod->images.push_back(spec.containers(i).image());
    s = ports(spec.containers(i), absl::StrCat("spec.containers[", i, "]"));
    if (!s.ok()) return s;
  }

  if (spec.tolerations_size() > 0 || !options.alpha_annotations ||
      !meta.annotations().contains(kAlphaTolerationsAnnotation)) {
    s = CompileTolerations(spec.tolerations(), names, object, "spec.tolerations",
                           &pod->tolerations);
    if (!s.ok()) return s;
  } else {
    // Kubernetes 1.4: tolerations as a JSON array in an annotation. A bad one
    // makes the pod unschedulable, not the file unreadable.
    const std::string field =
        absl::StrCat("metadata.annotations[", kAlphaTolerationsAnnotation, "]");
    v1::PodSpec legacy;
    s = DecodeAnnotation(meta.annotations().at(kAlphaTolerationsAnnotation), "tolerations",
                         field, &legacy);
    if (s.ok()) {
      // As the API server validates them (ValidateTolerationsInPodAnnotations).
      std::vector<std::string> errs;
      api::ValidateTolerations(legacy.tolerations(), field, errs);
      if (!errs.empty()) s = Invalid(object, errs);
    }
    if (s.ok()) s = CompileTolerations(legacy.tolerations(), names, object, field,
                                       &pod->tolerations);
    if (!s.ok()) {
      pod->tolerations.clear();
      pod->invalid_reason = absl::StrCat("invalid legacy annotation: ", s.message());
    }
  }

  for (const auto& [k, v] : spec.nodeselector()) {
    Requirement r;
    r.key = names.Intern(k);
    r.op = SelectorOp::kIn;
    r.values = {names.Intern(v)};
    pod->node_selector.push_back(std::move(r));
  }
  if (spec.has_affinity() || !options.alpha_annotations ||
      !meta.annotations().contains(kAlphaAffinityAnnotation)) {
    s = CompileAffinity(spec.affinity(), names, object, "spec.affinity", pod.get());
    if (!s.ok()) return s;
  } else {
    // Kubernetes 1.4: the Affinity as JSON in an annotation.
    const std::string field = absl::StrCat("metadata.annotations[", kAlphaAffinityAnnotation, "]");
    v1::Affinity legacy;
    s = DecodeAnnotation(meta.annotations().at(kAlphaAffinityAnnotation), "", field, &legacy);
    if (s.ok()) {
      // As Kubernetes 1.4's API server validated it.
      std::vector<std::string> errs;
      api::ValidateAffinity(legacy, field, errs);
      if (!errs.empty()) s = Invalid(object, errs);
    }
    if (s.ok()) s = CompileAffinity(legacy, names, object, field, pod.get());
    if (!s.ok() && pod->invalid_reason.empty()) {
      pod->invalid_reason = absl::StrCat("invalid legacy annotation: ", s.message());
    }
  }
  s = CompileSpreadConstraints(spec, names, object, pod.get());
  if (!s.ok()) return s;
  return PodPtr(std::move(pod));
}

namespace {

// What CompilePod reads of a pod apart from its per-instance fields (name,
// uid, owners, spec.nodeName, times, status): the namespace, the labels,
// the annotations it looks at, and the spec without nodeName. Protobuf's
// deterministic serialization writes maps sorted.
std::string TemplateKey(const v1::Pod& pod) {
  std::string key;
  const auto& meta = pod.metadata();
  absl::StrAppend(&key, meta.namespace_(), "\n");
  std::vector<std::pair<std::string, std::string>> labels(meta.labels().begin(),
                                                          meta.labels().end());
  std::sort(labels.begin(), labels.end());
  for (const auto& [k, v] : labels) absl::StrAppend(&key, k.size(), ":", k, v.size(), ":", v);
  key.push_back('\n');
  for (const char* annotation :
       {kAlphaSchedulerNameAnnotation, kAlphaCriticalPodAnnotation, kMirrorPodAnnotation,
        kAlphaTolerationsAnnotation, kAlphaAffinityAnnotation}) {
    auto it = meta.annotations().find(annotation);
    if (it == meta.annotations().end()) {
      key.push_back('-');
    } else {
      absl::StrAppend(&key, "+", it->second.size(), ":", it->second);
    }
  }
  key.push_back('\n');
  std::string spec;
  {
    google::protobuf::io::StringOutputStream stream(&spec);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    if (pod.spec().nodename().empty()) {
      pod.spec().ByteSizeLong();  // SerializeWithCachedSizes reads the sizes.
      pod.spec().SerializeWithCachedSizes(&out);
    } else {
      v1::PodSpec without_node = pod.spec();
      without_node.clear_nodename();
      without_node.ByteSizeLong();
      without_node.SerializeWithCachedSizes(&out);
    }
  }
  key += spec;
  return key;
}

}  // namespace

absl::StatusOr<PodPtr> PodCompiler::Compile(const v1::Pod& api) {
  std::string key = TemplateKey(api);
  auto it = templates_.find(key);
  if (it != templates_.end() && api::ValidatePodInstance(api).empty()) {
    // The fields CompilePod takes from the instance rather than the template.
    auto pod = std::make_shared<Pod>(*it->second);
    const auto& meta = api.metadata();
    pod->name = meta.name();
    pod->uid = meta.uid();
    pod->owners.clear();
    for (const auto& o : meta.ownerreferences()) {
      pod->owners.push_back({o.kind(), o.name(), o.controller()});
    }
    pod->node_name = api.spec().nodename();
    pod->nominated_node_name = api.status().nominatednodename();
    pod->creation_time = meta.has_creationtimestamp()
                             ? ToTime(meta.creationtimestamp().seconds(),
                                      meta.creationtimestamp().nanos())
                             : absl::InfinitePast();
    pod->start_time = api.status().has_starttime()
                          ? ToTime(api.status().starttime().seconds(),
                                   api.status().starttime().nanos())
                          : absl::InfinitePast();
    pod->terminating = meta.has_deletiontimestamp();
    ++reused_;
    return PodPtr(std::move(pod));
  }
  absl::StatusOr<PodPtr> pod = CompilePod(api, names_, options_);
  ++compiled_;
  // A legacy annotation's reason names the pod: such pods are not shared.
  if (pod.ok() && (*pod)->invalid_reason.empty() && it == templates_.end()) {
    templates_.emplace(std::move(key), *pod);
  }
  return pod;
}

absl::StatusOr<NodePtr> CompileNode(const v1::Node& api, Interner& names,
                                    const CompileOptions& options) {
  auto node = std::make_shared<Node>();
  node->name = api.metadata().name();
  const std::string object = absl::StrCat("Node ", node->name);
  if (std::vector<std::string> errs = api::ValidateNode(api); !errs.empty()) {
    return Invalid(object, errs);
  }
  node->name_id = names.Intern(node->name);
  node->labels = CompileLabels(api.metadata().labels(), names);
  node->unschedulable = api.spec().unschedulable();

  for (const auto& [name, q] : api.status().allocatable()) {
    auto v = ParseQuantity(q, object, absl::StrCat("status.allocatable.", name));
    if (!v.ok()) return v.status();
    if (name == "cpu") {
      node->allocatable.milli_cpu = v->MilliValue();
    } else if (name == "memory") {
      node->allocatable.memory = v->Value();
    } else if (name == "ephemeral-storage") {
      node->allocatable.ephemeral_storage = v->Value();
    } else if (name == "pods") {
      node->allocatable.allowed_pods = v->Value();
    } else if (IsScalarResourceName(name)) {
      node->allocatable.SetScalar(names.Intern(name), v->Value());
    }
  }

  const auto& annotations = api.metadata().annotations();
  if (api.spec().taints_size() > 0 || !options.alpha_annotations ||
      !annotations.contains(kAlphaTaintsAnnotation)) {
    absl::Status s = CompileTaints(api.spec().taints(), names, object, "spec.taints",
                                   &node->taints);
    if (!s.ok()) return s;
  } else {
    // Kubernetes 1.4: taints as a JSON array in an annotation.
    const std::string field = absl::StrCat("metadata.annotations[", kAlphaTaintsAnnotation, "]");
    v1::NodeSpec legacy;
    absl::Status s =
        DecodeAnnotation(annotations.at(kAlphaTaintsAnnotation), "taints", field, &legacy);
    if (!s.ok()) return FieldError(object, field, s.message());
    // As the API server validates them (ValidateTaintsInNodeAnnotations).
    std::vector<std::string> errs;
    api::ValidateNodeTaints(legacy.taints(), field, errs);
    if (!errs.empty()) return Invalid(object, errs);
    s = CompileTaints(legacy.taints(), names, object, field, &node->taints);
    if (!s.ok()) return s;
  }
  for (const auto& img : api.status().images()) {
    ImageState s;
    s.names.assign(img.names().begin(), img.names().end());
    s.size_bytes = img.sizebytes();
    node->images.push_back(std::move(s));
  }
  return NodePtr(std::move(node));
}

}  // namespace kestrel::model
