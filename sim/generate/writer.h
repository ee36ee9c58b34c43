// File: generate/writer.h
// -----------------------------------------------------------------------------
//
// ClusterWriter: the stream of YAML documents a workload writes, in order:
// namespaces, nodes, init pods (placed by the Placer as they are written),
// pods. Text goes to a buffer that is flushed to the stream in large
// chunks. Below it, the helpers every workload family builds on: nodes of
// one template, init pods, measured pods, and the seeded random choices.
// Internal to sim/generate.cc and its families.

#ifndef KESTREL_SIM_GENERATE_WRITER_H_
#define KESTREL_SIM_GENERATE_WRITER_H_

#include <cstddef>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sim/generate.h"
#include "sim/generate/placer.h"
#include "sim/generate/templates.h"
#include "sim/generate/yaml.h"

namespace kestrel::sim::generate_internal {

// ClusterWriter
//
// Runs on the generator's one thread; not thread-safe.
class ClusterWriter {
 public:
  explicit ClusterWriter(std::ostream& out);

  // Writes a Namespace with `labels` and the API server's
  // kubernetes.io/metadata.name label.
  void AddNamespace(const std::string& name, const Labels& labels);

  // Writes a node with hostname and (unless empty) zone labels, named
  // `name`, or node-<i> counting the nodes named so.
  void AddNode(const RenderedNode& node, absl::string_view zone,
               absl::string_view name = "");

  // Writes init-pod-<i>, bound to the next node (round-robin) it fits on.
  absl::Status AddInitPod(const RenderedPod& pod);

  // Writes <prefix>-<i>, unbound; i counts all measured pods.
  void AddPod(absl::string_view prefix, const RenderedPod& pod);

  // Flushes the buffer; Internal if the stream failed.
  absl::Status Finish();

 private:
  static constexpr size_t kFlushBytes = 1 << 20;

  void WritePod(absl::string_view name, const RenderedPod& pod,
                absl::string_view node_name);
  void MaybeFlush();
  void Flush();

  std::ostream& out_;
  std::string buffer_;
  Placer placer_;
  std::vector<std::string> node_names_;
  int numbered_nodes_ = 0;
  int init_pods_ = 0;
  int pods_ = 0;
};

// A uniform index in [0, n). Written out rather than using
// std::uniform_int_distribution, whose algorithm differs between standard
// libraries; the modulo bias is below 2^-40 for the sizes used here.
inline size_t Pick(std::mt19937_64& rng, size_t n) { return rng() % n; }

template <typename T>
void Shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    std::swap(v[i - 1], v[Pick(rng, i)]);
  }
}

// ---------------------------------------------------------------------------
// What workloads are made of.

// `count` nodes; zones round-robin, as upstream's labelNodePrepareStrategy,
// or no zone label when `zones` is empty.
void AddNodes(ClusterWriter& writer, const NodeTemplate& node, int count,
              const std::vector<std::string>& zones);

// `count` init pods of one template, placed as they are written.
absl::Status AddInitPods(ClusterWriter& writer, const PodTemplate& pod,
                         int count);

// `count` measured pods of one template, named `prefix`-<i>.
void AddPods(ClusterWriter& writer, absl::string_view prefix,
             const PodTemplate& pod, int count);

// The most common shape: nodes of one template, init pods of one, measured
// pods of another (named `prefix`-<i>, upstream's generateName).
absl::Status NodesInitAndMeasured(const GenerateOptions& options,
                                  const NodeTemplate& node,
                                  const std::vector<std::string>& zones,
                                  const PodTemplate& init,
                                  absl::string_view prefix,
                                  const PodTemplate& measured,
                                  ClusterWriter& writer);

// For the workloads upstream runs without init pods.
absl::Status NoInitPods(const GenerateOptions& options);

}  // namespace kestrel::sim::generate_internal

#endif  // KESTREL_SIM_GENERATE_WRITER_H_
