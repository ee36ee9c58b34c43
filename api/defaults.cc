#include "api/defaults.h"

#include <string>
#include <utility>

namespace kestrel::api {
namespace {

namespace v1 = ::k8s::io::api::core::v1;

// The 1.4 annotations that stand for fields defaulted here (the same keys
// as model/compile.h's, which api/ does not depend on).
constexpr char kAlphaSchedulerNameAnnotation[] = "scheduler.alpha.kubernetes.io/name";
constexpr char kAlphaTolerationsAnnotation[] = "scheduler.alpha.kubernetes.io/tolerations";

constexpr char kDefaultSchedulerName[] = "default-scheduler";
constexpr char kTaintNodeNotReady[] = "node.kubernetes.io/not-ready";
constexpr char kTaintNodeUnreachable[] = "node.kubernetes.io/unreachable";
constexpr char kNoExecute[] = "NoExecute";

// SetDefaults_Pod for one container: a limit without a request becomes the
// request too. Only on Pods, never on templates, as upstream.
void RequestsFromLimits(v1::Container* c) {
  if (c->resources().limits().empty()) return;
  v1::ResourceRequirements* r = c->mutable_resources();
  auto* requests = r->mutable_requests();
  for (const auto& [name, quantity] : r->limits()) {
    if (requests->count(name) == 0) (*requests)[name] = quantity;
  }
}

void DefaultPorts(v1::Container* c, bool host_network) {
  for (v1::ContainerPort& p : *c->mutable_ports()) {
    if (p.protocol().empty()) p.set_protocol("TCP");
    // defaultHostNetworkPorts: on the host network a container port is a
    // host port.
    if (host_network && p.hostport() == 0) p.set_hostport(p.containerport());
  }
}

// Whether `t` tolerates NoExecute taints with `key`, as the admission
// plugin decides it: the key matches or is empty, the effect is NoExecute
// or empty. The operator and value are not looked at.
bool CoversNoExecute(const v1::Toleration& t, const char* key) {
  return (t.key() == key || t.key().empty()) && (t.effect() == kNoExecute || t.effect().empty());
}

// The DefaultTolerationSeconds admission plugin.
void AddDefaultTolerations(v1::PodSpec* spec) {
  bool not_ready = false, unreachable = false;
  for (const v1::Toleration& t : spec->tolerations()) {
    not_ready = not_ready || CoversNoExecute(t, kTaintNodeNotReady);
    unreachable = unreachable || CoversNoExecute(t, kTaintNodeUnreachable);
  }
  for (auto [covered, key] : {std::pair<bool, const char*>{not_ready, kTaintNodeNotReady},
                              {unreachable, kTaintNodeUnreachable}}) {
    if (covered) continue;
    v1::Toleration* t = spec->add_tolerations();
    t->set_key(key);
    t->set_operator_("Exists");
    t->set_effect(kNoExecute);
    t->set_tolerationseconds(kDefaultTolerationSeconds);
  }
}

}  // namespace

void DefaultPod(v1::Pod* pod, const DefaultingOptions& options) {
  v1::PodSpec* spec = pod->mutable_spec();
  const auto& annotations = pod->metadata().annotations();
  for (auto* containers : {spec->mutable_containers(), spec->mutable_initcontainers()}) {
    for (v1::Container& c : *containers) {
      RequestsFromLimits(&c);
      DefaultPorts(&c, spec->hostnetwork());
    }
  }
  if (spec->schedulername().empty() &&
      !(options.alpha_annotations && annotations.contains(kAlphaSchedulerNameAnnotation))) {
    spec->set_schedulername(kDefaultSchedulerName);
  }
  if (spec->tolerations_size() > 0 || !options.alpha_annotations ||
      !annotations.contains(kAlphaTolerationsAnnotation)) {
    AddDefaultTolerations(spec);
  }
}

}  // namespace kestrel::api
