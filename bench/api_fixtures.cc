#include "bench/api_fixtures.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace kestrel::bench {

namespace core = ::k8s::io::api::core::v1;

namespace {

void SetQuantity(google::protobuf::Map<std::string, ::k8s::io::apimachinery::pkg::api::resource::Quantity>* m,
                 const std::string& name, const std::string& value) {
  (*m)[name].set_string(value);
}

void SetTime(::k8s::io::apimachinery::pkg::apis::meta::v1::Time* t, int64_t seconds) {
  t->set_seconds(seconds);
  t->set_nanos(0);
}

}  // namespace

core::Node MakeNode(int i) {
  core::Node n;
  auto* m = n.mutable_metadata();
  m->set_name(absl::StrCat("node-", i));
  m->set_uid(absl::StrCat("6f1c2b9e-0000-4000-8000-", 100000000000 + i));
  m->set_resourceversion(absl::StrCat(1000 + i));
  SetTime(m->mutable_creationtimestamp(), 1704164645 + i);
  auto& labels = *m->mutable_labels();
  labels["kubernetes.io/hostname"] = m->name();
  labels["kubernetes.io/os"] = "linux";
  labels["kubernetes.io/arch"] = "amd64";
  labels["topology.kubernetes.io/zone"] = absl::StrCat("zone-", i % 3);
  labels["topology.kubernetes.io/region"] = "region-1";
  labels["node.kubernetes.io/instance-type"] = "n2-standard-8";
  (*m->mutable_annotations())["node.alpha.kubernetes.io/ttl"] = "0";
  n.mutable_spec()->set_podcidr(absl::StrCat("10.", i / 256, ".", i % 256, ".0/24"));
  n.mutable_spec()->add_podcidrs(n.spec().podcidr());
  n.mutable_spec()->set_providerid(absl::StrCat("gce://project/zone/node-", i));
  if (i % 10 == 0) {
    auto* t = n.mutable_spec()->add_taints();
    t->set_key("dedicated");
    t->set_value("gpu");
    t->set_effect("NoSchedule");
  }
  auto* st = n.mutable_status();
  for (auto* r : {st->mutable_capacity(), st->mutable_allocatable()}) {
    SetQuantity(r, "cpu", "8");
    SetQuantity(r, "memory", "32859784Ki");
    SetQuantity(r, "pods", "110");
    SetQuantity(r, "ephemeral-storage", "101203600Ki");
  }
  for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"}) {
    auto* c = st->add_conditions();
    c->set_type(type);
    c->set_status(std::string(type) == "Ready" ? "True" : "False");
    SetTime(c->mutable_lastheartbeattime(), 1704170000);
    SetTime(c->mutable_lasttransitiontime(), 1704164700);
    c->set_reason(absl::StrCat("Kubelet", type));
    c->set_message("kubelet is posting ready status");
  }
  auto* a = st->add_addresses();
  a->set_type("InternalIP");
  a->set_address(absl::StrCat("10.128.", i / 256, ".", i % 256));
  for (int k = 0; k < 5; ++k) {
    auto* image = st->add_images();
    image->add_names(absl::StrCat("registry.k8s.io/image-", k, "@sha256:0123456789abcdef"));
    image->add_names(absl::StrCat("registry.k8s.io/image-", k, ":v1.", k));
    image->set_sizebytes(100000000 + k);
  }
  return n;
}

core::Pod MakePod(int i, int num_nodes) {
  core::Pod p;
  auto* m = p.mutable_metadata();
  m->set_name(absl::StrCat("web-7d4b9c8f6-", i));
  m->set_generatename("web-7d4b9c8f6-");
  m->set_namespace_(absl::StrCat("ns-", i % 20));
  m->set_uid(absl::StrCat("0b8e3c2a-0000-4000-8000-", 100000000000 + i));
  m->set_resourceversion(absl::StrCat(20000 + i));
  SetTime(m->mutable_creationtimestamp(), 1704164645 + i);
  auto& labels = *m->mutable_labels();
  labels["app"] = absl::StrCat("web-", i % 100);
  labels["pod-template-hash"] = "7d4b9c8f6";
  labels["tier"] = i % 2 == 0 ? "frontend" : "backend";
  auto* owner = m->add_ownerreferences();
  owner->set_apiversion("apps/v1");
  owner->set_kind("ReplicaSet");
  owner->set_name("web-7d4b9c8f6");
  owner->set_uid("9a1d0c4e-0000-4000-8000-000000000001");
  owner->set_controller(true);
  owner->set_blockownerdeletion(true);
  auto* spec = p.mutable_spec();
  for (int k = 0; k < 2; ++k) {
    auto* c = spec->add_containers();
    c->set_name(k == 0 ? "app" : "sidecar");
    c->set_image(absl::StrCat("registry.k8s.io/image-", k, ":v1.", k));
    auto* port = c->add_ports();
    port->set_containerport(8080 + k);
    port->set_protocol("TCP");
    SetQuantity(c->mutable_resources()->mutable_requests(), "cpu", "100m");
    SetQuantity(c->mutable_resources()->mutable_requests(), "memory", "128Mi");
    SetQuantity(c->mutable_resources()->mutable_limits(), "memory", "256Mi");
  }
  spec->set_restartpolicy("Always");
  spec->set_terminationgraceperiodseconds(30);
  spec->set_serviceaccountname("default");
  spec->set_nodename(absl::StrCat("node-", i % num_nodes));
  spec->set_schedulername("default-scheduler");
  spec->set_priority(0);
  for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    auto* t = spec->add_tolerations();
    t->set_key(key);
    t->set_operator_("Exists");
    t->set_effect("NoExecute");
    t->set_tolerationseconds(300);
  }
  if (i % 5 == 0) {
    auto* term = spec->mutable_affinity()
                     ->mutable_podantiaffinity()
                     ->add_preferredduringschedulingignoredduringexecution();
    term->set_weight(100);
    (*term->mutable_podaffinityterm()->mutable_labelselector()->mutable_matchlabels())["app"] =
        labels["app"];
    term->mutable_podaffinityterm()->set_topologykey("kubernetes.io/hostname");
  }
  auto* st = p.mutable_status();
  st->set_phase("Running");
  for (const char* type : {"Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    auto* c = st->add_conditions();
    c->set_type(type);
    c->set_status("True");
    SetTime(c->mutable_lasttransitiontime(), 1704164700);
  }
  st->set_hostip(absl::StrCat("10.128.", (i % num_nodes) / 256, ".", (i % num_nodes) % 256));
  st->set_podip(absl::StrCat("10.", i / 65536, ".", (i / 256) % 256, ".", i % 256));
  SetTime(st->mutable_starttime(), 1704164700);
  st->set_qosclass("Burstable");
  return p;
}

}  // namespace kestrel::bench
