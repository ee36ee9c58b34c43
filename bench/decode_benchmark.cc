// Decoding an API server's lists, JSON vs Kubernetes protobuf: a NodeList
// of 5,000 nodes and a PodList of 50,000 pods, shaped like what a 1.25 API
// server returns (labels, resources, conditions, images, taints, owner
// references, affinity on some pods), made in-process and encoded both ways
// with kube/codec. Each benchmark decodes one whole list into the api
// protos per iteration; items_per_second is objects per second.
//
//   bazel run -c opt //bench:decode_benchmark
//
// Json: kube::DecodeJson (api/decode). Protobuf: kube::DecodeProtobuf (the
// k8s\x00 envelope, the kind check, the parse, and the walk that drops
// unknown fields). ProtobufParseOnly: the bare ParseFromString of the list,
// to show what the envelope and that walk cost.

#include <string>

#include "api/core.pb.h"
#include "bench/api_fixtures.h"
#include "benchmark/benchmark.h"
#include "kube/codec.h"

namespace kestrel {
namespace {

namespace core = ::k8s::io::api::core::v1;

constexpr int kNodes = 5000;
constexpr int kPods = 50000;

struct Lists {
  std::string nodes_json, nodes_protobuf, pods_json, pods_protobuf;
  std::string nodes_raw, pods_raw;  // the messages without the envelope
};

const Lists& TheLists() {
  static const Lists* lists = [] {
    core::NodeList nodes;
    nodes.mutable_metadata()->set_resourceversion("99999");
    for (int i = 0; i < kNodes; ++i) *nodes.add_items() = bench::MakeNode(i);
    core::PodList pods;
    pods.mutable_metadata()->set_resourceversion("99999");
    for (int i = 0; i < kPods; ++i) *pods.add_items() = bench::MakePod(i, kNodes);
    auto* l = new Lists;
    l->nodes_json = kube::EncodeJson(nodes);
    l->nodes_protobuf = *kube::EncodeProtobuf(nodes);
    l->nodes_raw = nodes.SerializeAsString();
    l->pods_json = kube::EncodeJson(pods);
    l->pods_protobuf = *kube::EncodeProtobuf(pods);
    l->pods_raw = pods.SerializeAsString();
    return l;
  }();
  return *lists;
}

void Report(benchmark::State& state, const std::string& body, int items) {
  state.SetItemsProcessed(state.iterations() * items);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  state.counters["body_MB"] = static_cast<double>(body.size()) / 1e6;
}

template <typename List>
void BM_Json(benchmark::State& state, const std::string* body, int items) {
  for (auto _ : state) {
    List list;
    absl::Status s = kube::DecodeJson(*body, &list, "bench");
    if (!s.ok() || list.items_size() != items) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(list);
  }
  Report(state, *body, items);
}

template <typename List>
void BM_Protobuf(benchmark::State& state, const std::string* body, int items) {
  for (auto _ : state) {
    List list;
    absl::Status s = kube::DecodeProtobuf(*body, &list, "bench");
    if (!s.ok() || list.items_size() != items) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(list);
  }
  Report(state, *body, items);
}

template <typename List>
void BM_ProtobufParseOnly(benchmark::State& state, const std::string* raw, int items) {
  for (auto _ : state) {
    List list;
    if (!list.ParseFromString(*raw) || list.items_size() != items) {
      state.SkipWithError("parse failed");
    }
    benchmark::DoNotOptimize(list);
  }
  Report(state, *raw, items);
}

void RegisterAll() {
  const Lists& l = TheLists();
  benchmark::RegisterBenchmark("Nodes5000/Json", BM_Json<core::NodeList>, &l.nodes_json, kNodes)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("Nodes5000/Protobuf", BM_Protobuf<core::NodeList>,
                               &l.nodes_protobuf, kNodes)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("Nodes5000/ProtobufParseOnly",
                               BM_ProtobufParseOnly<core::NodeList>, &l.nodes_raw, kNodes)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("Pods50000/Json", BM_Json<core::PodList>, &l.pods_json, kPods)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("Pods50000/Protobuf", BM_Protobuf<core::PodList>,
                               &l.pods_protobuf, kPods)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("Pods50000/ProtobufParseOnly",
                               BM_ProtobufParseOnly<core::PodList>, &l.pods_raw, kPods)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace kestrel

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  kestrel::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
