// File: random_affinity.h
//
// RandomAffinity: random nodes, Namespaces and pods with inter-pod affinity
// terms, as API objects, for the InterPodAffinity property tests. The terms
// cover what the plugin must resolve itself: nil, empty and one-requirement
// selectors with every operator, matchLabelKeys and mismatchLabelKeys, the
// pod's own namespace, namespace lists, empty and non-empty
// namespaceSelectors, and a namespace with no Namespace object.
//
// Example:
//   RandomAffinity gen(seed);
//   gen.AddNodes(world, 6);
//   world.AddPod(gen.Pod("a", /*with_terms=*/true, "n3"));

#ifndef KESTREL_PREDICATES_TESTING_RANDOM_AFFINITY_H_
#define KESTREL_PREDICATES_TESTING_RANDOM_AFFINITY_H_

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "api/core.pb.h"
#include "predicates/testing/cluster.h"

namespace kestrel::testing {

class RandomAffinity {
 public:
  using Pod = ::k8s::io::api::core::v1::Pod;
  using PodAffinityTerm = ::k8s::io::api::core::v1::PodAffinityTerm;
  using LabelSelector = ::k8s::io::apimachinery::pkg::apis::meta::v1::LabelSelector;

  explicit RandomAffinity(uint64_t seed) : rng_(seed) {}

  int Rand(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  // Nodes n0.. with a zone (most), a hostname (most) and a rack (half);
  // Namespaces ns0 {team: a}, ns1 {team: b}, ns2 {}; ns3 has no object.
  void AddNodes(ClusterWorld& w, int n) {
    const char* zones[] = {"z1", "z2", "z3"};
    const char* racks[] = {"r1", "r2"};
    for (int i = 0; i < n; ++i) {
      ClusterWorld::LabelList labels;
      const std::string name = "n" + std::to_string(i);
      if (Rand(5) > 0) labels.push_back({"zone", zones[Rand(3)]});
      if (Rand(6) > 0) labels.push_back({"kubernetes.io/hostname", name});
      if (Rand(2) > 0) labels.push_back({"rack", racks[Rand(2)]});
      w.AddNode(name, labels);
    }
    w.AddNamespace("ns0", {{"team", "a"}});
    w.AddNamespace("ns1", {{"team", "b"}});
    w.AddNamespace("ns2", {});
  }

  // A pod in a random namespace with random labels, sometimes terminating;
  // with `with_terms`, two times in three some affinity terms. Bound to
  // `node` unless it is empty.
  Pod RandomPod(const std::string& name, bool with_terms, const std::string& node = "") {
    Pod p;
    auto* meta = p.mutable_metadata();
    meta->set_name(name);
    meta->set_namespace_(kNamespaces[Rand(4)]);
    meta->set_uid(meta->namespace_() + "-" + name);
    if (Rand(4) > 0) (*meta->mutable_labels())["app"] = kValues[Rand(3)];
    if (Rand(2) > 0) (*meta->mutable_labels())["tier"] = kValues[Rand(3)];
    if (Rand(10) == 0) meta->mutable_deletiontimestamp()->set_seconds(1704067200);
    if (!node.empty()) p.mutable_spec()->set_nodename(node);
    if (with_terms && Rand(3) > 0) {
      auto* affinity = p.mutable_spec()->mutable_affinity();
      for (int i = Rand(3) - 1; i > 0; --i) {
        RandomTerm(affinity->mutable_podaffinity()
                       ->add_requiredduringschedulingignoredduringexecution());
      }
      for (int i = Rand(3) - 1; i > 0; --i) {
        RandomTerm(affinity->mutable_podantiaffinity()
                       ->add_requiredduringschedulingignoredduringexecution());
      }
      for (int i = Rand(3) - 1; i > 0; --i) {
        auto* w = affinity->mutable_podaffinity()
                      ->add_preferredduringschedulingignoredduringexecution();
        w->set_weight(1 + Rand(100));
        RandomTerm(w->mutable_podaffinityterm());
      }
      for (int i = Rand(3) - 1; i > 0; --i) {
        auto* w = affinity->mutable_podantiaffinity()
                      ->add_preferredduringschedulingignoredduringexecution();
        w->set_weight(1 + Rand(100));
        RandomTerm(w->mutable_podaffinityterm());
      }
    }
    return p;
  }

 private:
  static constexpr const char* kNamespaces[] = {"ns0", "ns1", "ns2", "ns3"};
  static constexpr const char* kValues[] = {"a", "b", "c"};

  // One requirement on `key`, with any of the four operators.
  void RandomRequirement(LabelSelector* s, const std::string& key) {
    static constexpr const char* kOps[] = {"In", "NotIn", "Exists", "DoesNotExist"};
    auto* r = s->add_matchexpressions();
    r->set_key(key);
    r->set_operator_(kOps[Rand(4)]);
    if (r->operator_() == "In" || r->operator_() == "NotIn") {
      r->add_values(kValues[Rand(3)]);
      if (Rand(3) == 0) r->add_values(kValues[Rand(3)]);
    }
  }

  void RandomTerm(PodAffinityTerm* t) {
    static constexpr const char* kKeys[] = {"zone", "kubernetes.io/hostname", "rack"};
    t->set_topologykey(kKeys[Rand(3)]);
    switch (Rand(6)) {
      case 0:
        break;  // nil: selects nothing
      case 1:
        t->mutable_labelselector();  // empty: selects everything
        break;
      case 2:
        (*t->mutable_labelselector()->mutable_matchlabels())[Rand(2) ? "app" : "tier"] =
            kValues[Rand(3)];
        break;
      default:
        RandomRequirement(t->mutable_labelselector(), Rand(2) ? "app" : "tier");
        break;
    }
    // The API wants a labelSelector with either, and no key in both.
    const bool app_first = Rand(2) == 0;
    if (t->has_labelselector() && Rand(4) == 0) t->add_matchlabelkeys(app_first ? "app" : "tier");
    if (t->has_labelselector() && Rand(6) == 0) {
      t->add_mismatchlabelkeys(app_first ? "tier" : "app");
    }
    switch (Rand(5)) {
      case 0:
        break;  // neither: the pod's own namespace
      case 1:
        t->add_namespaces(kNamespaces[Rand(4)]);
        if (Rand(2) == 0) t->add_namespaces(kNamespaces[Rand(4)]);
        break;
      case 2:
        t->mutable_namespaceselector();  // every namespace
        break;
      case 3:
        RandomRequirement(t->mutable_namespaceselector(), "team");
        break;
      case 4:
        t->add_namespaces(kNamespaces[Rand(4)]);
        (*t->mutable_namespaceselector()->mutable_matchlabels())["team"] = kValues[Rand(2)];
        break;
    }
  }

  std::mt19937_64 rng_;
};

}  // namespace kestrel::testing

#endif  // KESTREL_PREDICATES_TESTING_RANDOM_AFFINITY_H_
