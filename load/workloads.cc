#include "load/workloads.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "model/compile.h"
#include "util/hash/fnv.h"

namespace kestrel::load {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
namespace apps = ::k8s::io::api::apps::v1;
namespace batch = ::k8s::io::api::batch::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

constexpr absl::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";
// Upstream names.SimpleNameGenerator: the base of a generated name is cut to
// 63 - 5 characters before the random suffix.
constexpr size_t kMaxGeneratedNameBase = 58;
constexpr size_t kRandomLength = 5;
// Tries before generated names give up on a free one (never reached unless
// a file holds millions of pods of one owner).
constexpr int kMaxNameAttempts = 1000;

uint32_t Fnv32a(absl::string_view data, uint32_t h = 2166136261u) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

// A template's encoding with map entries in key order.
std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

// Upstream getPodsPrefix + SimpleNameGenerator.GenerateName, with a
// reproducible suffix: the first free `<base><5 chars>`.
std::string GenerateName(std::string base, int64_t number, const ClaimName& claim) {
  if (base.size() > kMaxGeneratedNameBase) base.resize(kMaxGeneratedNameBase);
  std::string name;
  for (int attempt = 0; attempt < kMaxNameAttempts; ++attempt) {
    uint64_t h = util::Fnv1a64(absl::StrCat(base, "#", number, "#", attempt));
    name = base;
    for (size_t i = 0; i < kRandomLength; ++i) {
      name.push_back(kAlphanums[h % kAlphanums.size()]);
      h /= kAlphanums.size();
    }
    if (claim(name)) return name;
  }
  return name;
}

std::string NamespaceOf(const metav1::ObjectMeta& meta) {
  return meta.namespace_().empty() ? "default" : meta.namespace_();
}

std::string UidOf(absl::string_view kind, const metav1::ObjectMeta& meta) {
  return meta.uid().empty() ? StandInUid(kind, NamespaceOf(meta), meta.name()) : meta.uid();
}

// Upstream metav1.NewControllerRef.
metav1::OwnerReference ControllerRef(absl::string_view api_version, absl::string_view kind,
                                     const metav1::ObjectMeta& owner) {
  metav1::OwnerReference ref;
  ref.set_apiversion(std::string(api_version));
  ref.set_kind(std::string(kind));
  ref.set_name(owner.name());
  ref.set_uid(UidOf(kind, owner));
  ref.set_controller(true);
  ref.set_blockownerdeletion(true);
  return ref;
}

// Upstream GetPodFromTemplate, with the namespace CreatePods sets.
v1::Pod PodFromTemplate(const v1::PodTemplateSpec& tmpl, const std::string& ns,
                        const metav1::OwnerReference& controller) {
  v1::Pod pod;
  metav1::ObjectMeta* meta = pod.mutable_metadata();
  meta->set_namespace_(ns);
  *meta->mutable_labels() = tmpl.metadata().labels();
  *meta->mutable_annotations() = tmpl.metadata().annotations();
  *meta->mutable_finalizers() = tmpl.metadata().finalizers();
  *meta->add_ownerreferences() = controller;
  *pod.mutable_spec() = tmpl.spec();
  return pod;
}

// Go's %#v of a map[string]string, as field.Invalid prints it.
std::string GoMap(const google::protobuf::Map<std::string, std::string>& m) {
  std::map<std::string, std::string> sorted(m.begin(), m.end());
  std::vector<std::string> items;
  for (const auto& [k, v] : sorted) items.push_back(absl::StrCat("\"", absl::CHexEscape(k), "\":\"", absl::CHexEscape(v), "\""));
  return absl::StrCat("map[string]string{", absl::StrJoin(items, ", "), "}");
}

absl::Status NonNegative(bool has, int32_t value, absl::string_view object,
                         absl::string_view field) {
  if (!has || value >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(object, ": ", field, ": Invalid value: ", value,
                                                 ": must be greater than or equal to 0"));
}

// Upstream ValidateDeploymentSpec / ValidateReplicaSetSpec /
// ValidateStatefulSetSpec / ValidateDaemonSetSpec on the selector.
absl::Status ValidateAppsSelector(bool has_selector, const metav1::LabelSelector& selector,
                                  const v1::PodTemplateSpec& tmpl, absl::string_view object,
                                  absl::string_view what, model::Interner& names) {
  if (!has_selector) {
    return absl::InvalidArgumentError(absl::StrCat(object, ": spec.selector: Required value"));
  }
  if (selector.matchlabels().empty() && selector.matchexpressions().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        object, ": spec.selector: Invalid value: {}: empty selector is invalid for ", what));
  }
  absl::StatusOr<model::LabelSelector> compiled =
      model::CompileLabelSelector(&selector, names, object, "spec.selector");
  if (!compiled.ok()) return compiled.status();
  std::vector<model::Label> labels;
  for (const auto& [k, v] : tmpl.metadata().labels()) {
    labels.push_back({names.Intern(k), names.Intern(v), std::nullopt});
  }
  if (!compiled->Matches(model::Labels(std::move(labels)))) {
    return absl::InvalidArgumentError(
        absl::StrCat(object, ": spec.template.metadata.labels: Invalid value: ",
                     GoMap(tmpl.metadata().labels()), ": `selector` does not match template `labels`"));
  }
  return absl::OkStatus();
}

v1::Toleration ExistsToleration(absl::string_view key, absl::string_view effect) {
  v1::Toleration t;
  t.set_key(std::string(key));
  t.set_operator_("Exists");
  t.set_effect(std::string(effect));
  return t;
}

bool SameToleration(const v1::Toleration& a, const v1::Toleration& b) {
  return a.key() == b.key() && a.operator_() == b.operator_() && a.value() == b.value() &&
         a.effect() == b.effect();
}

// Upstream v1helper.AddOrUpdateTolerationInPodSpec: an equal toleration
// (MatchToleration: key, operator, value, effect) is replaced in place.
void AddOrUpdateToleration(v1::PodSpec* spec, const v1::Toleration& toleration) {
  bool updated = false;
  for (v1::Toleration& t : *spec->mutable_tolerations()) {
    if (SameToleration(t, toleration)) {
      t = toleration;
      updated = true;
    }
  }
  if (!updated) *spec->add_tolerations() = toleration;
}

// The template the DaemonSet controller creates pods from (util
// CreatePodTemplate): the revision labels and the DaemonSet tolerations.
v1::PodTemplateSpec DaemonSetTemplate(const apps::DaemonSet& ds) {
  v1::PodTemplateSpec tmpl = ds.spec().template_();
  const int64_t generation = ds.metadata().has_generation() ? ds.metadata().generation() : 1;
  auto& labels = *tmpl.mutable_metadata()->mutable_labels();
  labels[kDaemonSetTemplateGenerationLabel] = absl::StrCat(generation);
  labels[kControllerRevisionHashLabel] = PodTemplateHash(ds.spec().template_(), std::nullopt);
  AddDaemonSetTolerations(tmpl.mutable_spec());
  return tmpl;
}

}  // namespace

std::string SafeEncodeString(absl::string_view s) {
  std::string out(s.size(), ' ');
  for (size_t i = 0; i < s.size(); ++i) {
    out[i] = kAlphanums[static_cast<unsigned char>(s[i]) % kAlphanums.size()];
  }
  return out;
}

std::string PodTemplateHash(const v1::PodTemplateSpec& tmpl,
                            std::optional<int32_t> collision_count) {
  uint32_t h = Fnv32a(DeterministicBytes(tmpl));
  if (collision_count.has_value()) {
    const uint32_t c = static_cast<uint32_t>(*collision_count);
    const char bytes[4] = {static_cast<char>(c & 0xff), static_cast<char>((c >> 8) & 0xff),
                           static_cast<char>((c >> 16) & 0xff),
                           static_cast<char>((c >> 24) & 0xff)};
    h = Fnv32a(absl::string_view(bytes, 4), h);
  }
  return SafeEncodeString(absl::StrCat(h));
}

std::string StandInUid(absl::string_view kind, absl::string_view ns, absl::string_view name) {
  const uint64_t a = util::Fnv1a64(absl::StrCat(kind, "/", ns, "/", name));
  const uint64_t b = util::Fnv1a64(absl::StrCat(name, "/", ns, "/", kind), a);
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                         b >> 48, b & 0xffffffffffffull);
}

absl::Status ValidateWorkload(const google::protobuf::Message& workload, absl::string_view object,
                              model::Interner& names) {
  if (const auto* d = dynamic_cast<const apps::Deployment*>(&workload)) {
    const apps::DeploymentSpec& s = d->spec();
    if (auto st = NonNegative(s.has_replicas(), s.replicas(), object, "spec.replicas"); !st.ok()) {
      return st;
    }
    return ValidateAppsSelector(s.has_selector(), s.selector(), s.template_(), object,
                                "deployment", names);
  }
  if (const auto* rs = dynamic_cast<const apps::ReplicaSet*>(&workload)) {
    const apps::ReplicaSetSpec& s = rs->spec();
    if (auto st = NonNegative(s.has_replicas(), s.replicas(), object, "spec.replicas"); !st.ok()) {
      return st;
    }
    // Upstream's ReplicaSet message says "deployment" too.
    return ValidateAppsSelector(s.has_selector(), s.selector(), s.template_(), object,
                                "deployment", names);
  }
  if (const auto* ss = dynamic_cast<const apps::StatefulSet*>(&workload)) {
    const apps::StatefulSetSpec& s = ss->spec();
    if (auto st = NonNegative(s.has_replicas(), s.replicas(), object, "spec.replicas"); !st.ok()) {
      return st;
    }
    if (auto st = NonNegative(s.ordinals().has_start(), s.ordinals().start(), object,
                              "spec.ordinals.start");
        !st.ok()) {
      return st;
    }
    const std::string& policy = s.podmanagementpolicy();
    if (!policy.empty() && policy != "OrderedReady" && policy != "Parallel") {
      return absl::InvalidArgumentError(absl::StrCat(
          object, ": spec.podManagementPolicy: Unsupported value: \"", policy,
          "\": supported values: \"OrderedReady\", \"Parallel\""));
    }
    return ValidateAppsSelector(s.has_selector(), s.selector(), s.template_(), object,
                                "statefulset", names);
  }
  if (const auto* ds = dynamic_cast<const apps::DaemonSet*>(&workload)) {
    const apps::DaemonSetSpec& s = ds->spec();
    return ValidateAppsSelector(s.has_selector(), s.selector(), s.template_(), object,
                                "daemonset", names);
  }
  if (const auto* job = dynamic_cast<const batch::Job*>(&workload)) {
    const batch::JobSpec& s = job->spec();
    if (auto st = NonNegative(s.has_parallelism(), s.parallelism(), object, "spec.parallelism");
        !st.ok()) {
      return st;
    }
    if (auto st = NonNegative(s.has_completions(), s.completions(), object, "spec.completions");
        !st.ok()) {
      return st;
    }
    const std::string& mode = s.completionmode();
    if (!mode.empty() && mode != "NonIndexed" && mode != "Indexed") {
      return absl::InvalidArgumentError(
          absl::StrCat(object, ": spec.completionMode: Unsupported value: \"", mode,
                       "\": supported values: \"NonIndexed\", \"Indexed\""));
    }
    if (mode == "Indexed" && !s.has_completions()) {
      return absl::InvalidArgumentError(
          absl::StrCat(object, ": spec.completions: Required value: when completion mode is Indexed"));
    }
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

apps::ReplicaSet NewReplicaSet(const apps::Deployment& deployment) {
  const metav1::ObjectMeta& dmeta = deployment.metadata();
  const apps::DeploymentSpec& dspec = deployment.spec();
  const std::string hash =
      PodTemplateHash(dspec.template_(), deployment.status().has_collisioncount()
                                             ? std::optional<int32_t>(
                                                   deployment.status().collisioncount())
                                             : std::nullopt);
  apps::ReplicaSet rs;
  metav1::ObjectMeta* meta = rs.mutable_metadata();
  meta->set_name(absl::StrCat(dmeta.name(), "-", hash));
  meta->set_namespace_(NamespaceOf(dmeta));
  *meta->add_ownerreferences() = ControllerRef("apps/v1", "Deployment", dmeta);
  apps::ReplicaSetSpec* spec = rs.mutable_spec();
  spec->set_replicas(dspec.has_replicas() ? dspec.replicas() : 1);
  *spec->mutable_template_() = dspec.template_();
  (*spec->mutable_template_()->mutable_metadata()->mutable_labels())[kPodTemplateHashLabel] = hash;
  *meta->mutable_labels() = spec->template_().metadata().labels();
  *spec->mutable_selector() = dspec.selector();
  (*spec->mutable_selector()->mutable_matchlabels())[kPodTemplateHashLabel] = hash;
  return rs;
}

std::vector<v1::Pod> ReplicaSetPods(const apps::ReplicaSet& rs, int count,
                                    const ClaimName& claim) {
  const metav1::OwnerReference ref = ControllerRef("apps/v1", "ReplicaSet", rs.metadata());
  const std::string ns = NamespaceOf(rs.metadata());
  std::vector<v1::Pod> pods;
  pods.reserve(count);
  for (int i = 0; i < count; ++i) {
    v1::Pod pod = PodFromTemplate(rs.spec().template_(), ns, ref);
    pod.mutable_metadata()->set_name(
        GenerateName(absl::StrCat(rs.metadata().name(), "-"), i, claim));
    pods.push_back(std::move(pod));
  }
  return pods;
}

int32_t StatefulSetFirstOrdinal(const apps::StatefulSet& set) {
  return set.spec().ordinals().start();
}

std::vector<v1::Pod> StatefulSetPods(const apps::StatefulSet& set,
                                     const std::vector<int32_t>& ordinals) {
  const metav1::OwnerReference ref = ControllerRef("apps/v1", "StatefulSet", set.metadata());
  const std::string ns = NamespaceOf(set.metadata());
  const std::string revision = absl::StrCat(set.metadata().name(), "-",
                                            PodTemplateHash(set.spec().template_(), std::nullopt));
  std::vector<v1::Pod> pods;
  pods.reserve(ordinals.size());
  for (int32_t ordinal : ordinals) {
    v1::Pod pod = PodFromTemplate(set.spec().template_(), ns, ref);
    const std::string name = absl::StrCat(set.metadata().name(), "-", ordinal);
    pod.mutable_metadata()->set_name(name);
    auto& labels = *pod.mutable_metadata()->mutable_labels();
    labels[kStatefulSetPodNameLabel] = name;
    labels[kPodIndexLabel] = absl::StrCat(ordinal);
    labels[kControllerRevisionHashLabel] = revision;
    pod.mutable_spec()->set_hostname(name);
    pod.mutable_spec()->set_subdomain(set.spec().servicename());
    pods.push_back(std::move(pod));
  }
  return pods;
}

void AddDaemonSetTolerations(v1::PodSpec* spec) {
  AddOrUpdateToleration(spec, ExistsToleration("node.kubernetes.io/not-ready", "NoExecute"));
  AddOrUpdateToleration(spec, ExistsToleration("node.kubernetes.io/unreachable", "NoExecute"));
  AddOrUpdateToleration(spec, ExistsToleration("node.kubernetes.io/disk-pressure", "NoSchedule"));
  AddOrUpdateToleration(spec,
                        ExistsToleration("node.kubernetes.io/memory-pressure", "NoSchedule"));
  AddOrUpdateToleration(spec, ExistsToleration("node.kubernetes.io/pid-pressure", "NoSchedule"));
  AddOrUpdateToleration(spec, ExistsToleration("node.kubernetes.io/unschedulable", "NoSchedule"));
  if (spec->hostnetwork()) {
    AddOrUpdateToleration(spec,
                          ExistsToleration("node.kubernetes.io/network-unavailable", "NoSchedule"));
  }
}

v1::Pod DaemonSetNewPod(const apps::DaemonSet& ds) {
  v1::Pod pod;
  *pod.mutable_metadata() = ds.spec().template_().metadata();
  pod.mutable_metadata()->set_namespace_(NamespaceOf(ds.metadata()));
  if (pod.metadata().name().empty()) pod.mutable_metadata()->set_name(ds.metadata().name());
  *pod.mutable_spec() = ds.spec().template_().spec();
  pod.mutable_spec()->clear_nodename();
  AddDaemonSetTolerations(pod.mutable_spec());
  return pod;
}

bool DaemonSetShouldRun(const apps::DaemonSet& ds, const model::Pod& pod,
                        const model::Node& node) {
  const std::string& node_name = ds.spec().template_().spec().nodename();
  if (!node_name.empty() && node_name != node.name) return false;
  if (!model::MatchesRequiredNodeAffinity(pod, node)) return false;
  for (const model::Taint& taint : node.taints) {
    if (taint.effect != model::TaintEffect::kNoSchedule &&
        taint.effect != model::TaintEffect::kNoExecute) {
      continue;
    }
    bool tolerated = false;
    for (const model::Toleration& t : pod.tolerations) {
      if (t.Tolerates(taint)) {
        tolerated = true;
        break;
      }
    }
    if (!tolerated) return false;
  }
  return true;
}

std::vector<v1::Pod> DaemonSetPods(const apps::DaemonSet& ds, const std::vector<std::string>& nodes,
                                   const ClaimName& claim) {
  const v1::PodTemplateSpec tmpl = DaemonSetTemplate(ds);
  const metav1::OwnerReference ref = ControllerRef("apps/v1", "DaemonSet", ds.metadata());
  const std::string ns = NamespaceOf(ds.metadata());
  std::vector<v1::Pod> pods;
  pods.reserve(nodes.size());
  for (const std::string& node : nodes) {
    v1::Pod pod = PodFromTemplate(tmpl, ns, ref);
    // ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become
    // the one term naming the node; preferred terms and pod affinity stay.
    v1::NodeSelector* required = pod.mutable_spec()
                                     ->mutable_affinity()
                                     ->mutable_nodeaffinity()
                                     ->mutable_requiredduringschedulingignoredduringexecution();
    required->clear_nodeselectorterms();
    v1::NodeSelectorRequirement* r = required->add_nodeselectorterms()->add_matchfields();
    r->set_key("metadata.name");
    r->set_operator_("In");
    r->add_values(node);
    pod.mutable_metadata()->set_name(GenerateName(absl::StrCat(ds.metadata().name(), "-"),
                                                  static_cast<int64_t>(util::Fnv1a64(node)), claim));
    pods.push_back(std::move(pod));
  }
  return pods;
}

int32_t JobPodCount(const batch::JobSpec& spec) {
  if (spec.suspend()) return 0;
  int32_t n = spec.has_parallelism() ? spec.parallelism() : 1;
  if (spec.has_completions() && spec.completions() < n) n = spec.completions();
  return n;
}

std::vector<v1::Pod> JobPods(const batch::Job& job, int count, const ClaimName& claim) {
  const metav1::ObjectMeta& jmeta = job.metadata();
  const std::string uid = UidOf("Job", jmeta);
  // The API server's job strategy (generateSelector): labels the user did
  // not set, unless the selector is manual.
  v1::PodTemplateSpec tmpl = job.spec().template_();
  if (!job.spec().manualselector()) {
    auto& labels = *tmpl.mutable_metadata()->mutable_labels();
    for (const char* key : {kLegacyJobNameLabel, kJobNameLabel}) {
      labels.insert({key, jmeta.name()});
    }
    for (const char* key : {kLegacyControllerUidLabel, kControllerUidLabel}) {
      labels.insert({key, uid});
    }
  }
  const metav1::OwnerReference ref = ControllerRef("batch/v1", "Job", jmeta);
  const std::string ns = NamespaceOf(jmeta);
  const bool indexed = job.spec().completionmode() == "Indexed";
  std::vector<v1::Pod> pods;
  pods.reserve(count);
  for (int i = 0; i < count; ++i) {
    v1::Pod pod = PodFromTemplate(tmpl, ns, ref);
    if (indexed) {
      (*pod.mutable_metadata()->mutable_annotations())[kJobCompletionIndex] = absl::StrCat(i);
      (*pod.mutable_metadata()->mutable_labels())[kJobCompletionIndex] = absl::StrCat(i);
      pod.mutable_spec()->set_hostname(absl::StrCat(jmeta.name(), "-", i));
      pod.mutable_metadata()->set_name(
          GenerateName(absl::StrCat(jmeta.name(), "-", i, "-"), i, claim));
    } else {
      pod.mutable_metadata()->set_name(GenerateName(absl::StrCat(jmeta.name(), "-"), i, claim));
    }
    pods.push_back(std::move(pod));
  }
  return pods;
}

}  // namespace kestrel::load
