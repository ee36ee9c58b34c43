// File: api_fixtures.h
//
// API objects shaped like what a Kubernetes 1.25 API server returns, for the
// benchmarks that decode and load them (decode_benchmark,
// informer_benchmark): nodes with the well-known labels, capacity,
// conditions, addresses, images and (one in ten) a taint; pods of a
// ReplicaSet with two containers, requests and limits, the default
// NoExecute tolerations, status and (one in five) preferred anti-affinity.
// The same index always gives the same object, so benchmarks built on them
// measure the same bytes.
//
// Example:
//   core::NodeList nodes;
//   for (int i = 0; i < 5000; ++i) *nodes.add_items() = bench::MakeNode(i);
//   core::PodList pods;
//   for (int i = 0; i < 50000; ++i) *pods.add_items() = bench::MakePod(i, 5000);

#ifndef KESTREL_BENCH_API_FIXTURES_H_
#define KESTREL_BENCH_API_FIXTURES_H_

#include "api/core.pb.h"

namespace kestrel::bench {

// MakeNode()
//
// "node-<i>", in zone "zone-<i % 3>"; nodes 0, 10, 20, ... are tainted
// dedicated=gpu:NoSchedule.
::k8s::io::api::core::v1::Node MakeNode(int i);

// MakePod()
//
// "ns-<i % 20>/web-7d4b9c8f6-<i>", bound to "node-<i % num_nodes>".
::k8s::io::api::core::v1::Pod MakePod(int i, int num_nodes);

}  // namespace kestrel::bench

#endif  // KESTREL_BENCH_API_FIXTURES_H_
