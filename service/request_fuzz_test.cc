// Runs the request fuzz target (request_fuzzer.cc) over valid requests of
// each kind and deterministic mutations of them: flipped bytes, truncations,
// and bytes spliced from another request. Passing means no crash, no hang
// and no sanitizer report; the target itself asserts nothing else.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "api/service.pb.h"
#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace pb = ::kestrel::v1;
namespace v1 = ::k8s::io::api::core::v1;

v1::Pod Pod(const std::string& name) {
  v1::Pod pod;
  pod.mutable_metadata()->set_name(name);
  (*pod.mutable_metadata()->mutable_labels())["app"] = "web";
  v1::Container* c = pod.mutable_spec()->add_containers();
  c->set_name("c");
  c->set_image("i");
  (*c->mutable_resources()->mutable_requests())["cpu"].set_string("300m");
  (*c->mutable_resources()->mutable_limits())["memory"].set_string("1Gi");
  auto* term = pod.mutable_spec()->mutable_affinity()->mutable_podantiaffinity()
                   ->add_requiredduringschedulingignoredduringexecution();
  (*term->mutable_labelselector()->mutable_matchlabels())["app"] = "web";
  term->set_topologykey("kubernetes.io/hostname");
  v1::Toleration* t = pod.mutable_spec()->add_tolerations();
  t->set_key("dedicated");
  t->set_operator_("Exists");
  return pod;
}

std::vector<std::string> Seeds() {
  pb::PlaceRequest place;
  *place.add_pods() = Pod("a");
  *place.add_pods() = Pod("b");
  place.mutable_options()->set_seed(3);
  pb::CapacityRequest capacity;
  *capacity.mutable_template_() = Pod("t");
  capacity.set_limit(5);
  pb::ExplainRequest explain;
  *explain.mutable_pod() = Pod("e");
  // A fork delta rides on options: a node added, a running pod bound to it.
  pb::ForkDelta delta;
  k8s::io::api::core::v1::Node* node = delta.add_add_nodes();
  node->mutable_metadata()->set_name("n3");
  (*node->mutable_status()->mutable_allocatable())["cpu"].set_string("2");
  (*node->mutable_status()->mutable_allocatable())["pods"].set_string("10");
  *delta.add_add_pods() = Pod("bound");
  delta.mutable_add_pods(0)->mutable_spec()->set_nodename("n3");
  delta.add_remove_pods("default/running");
  *explain.mutable_options()->mutable_delta() = delta;
  pb::ScaleUpRequest scaleup;
  *scaleup.add_pods() = Pod("s");
  pb::NodeTemplate* t = scaleup.add_node_templates();
  t->set_name("pool");
  t->set_max_count(3);
  (*t->mutable_node()->mutable_status()->mutable_allocatable())["cpu"].set_string("1");
  (*t->mutable_node()->mutable_status()->mutable_allocatable())["pods"].set_string("10");
  *scaleup.mutable_options()->mutable_delta() = delta;
  pb::DrainRequest drain;
  drain.add_nodes("n1");
  drain.set_delete_local_data(true);
  *drain.mutable_options()->mutable_delta() = delta;
  drain.mutable_options()->mutable_delta()->add_remove_nodes("n2");
  return {std::string(1, '\0') + place.SerializeAsString(),
          std::string(1, '\1') + capacity.SerializeAsString(),
          std::string(1, '\2') + explain.SerializeAsString(),
          std::string(1, '\3') + scaleup.SerializeAsString(),
          std::string(1, '\4') + drain.SerializeAsString()};
}

void RunTarget(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

TEST(RequestFuzzTest, SeedsAndMutations) {
  const std::vector<std::string> seeds = Seeds();
  for (const std::string& s : seeds) RunTarget(s);
  std::mt19937 rng(20261207);
  for (int i = 0; i < 3000; ++i) {
    std::string input = seeds[i % seeds.size()];
    switch (i % 3) {
      case 0:
        for (int m = 0; m < 1 + static_cast<int>(rng() % 4); ++m) {
          input[1 + rng() % (input.size() - 1)] = static_cast<char>(rng());
        }
        break;
      case 1:
        input.resize(1 + rng() % (input.size() - 1));
        break;
      default: {
        const std::string& other = seeds[rng() % seeds.size()];
        const size_t at = 1 + rng() % (input.size() - 1);
        const size_t from = 1 + rng() % (other.size() - 1);
        input = input.substr(0, at) + other.substr(from);
      }
    }
    RunTarget(input);
  }
}

}  // namespace
