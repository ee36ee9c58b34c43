#include "sim/generate/writer.h"

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sim/generate.h"
#include "sim/generate/templates.h"
#include "sim/generate/yaml.h"

namespace kestrel::sim::generate_internal {
namespace {

// A v1 object's document up to its labels, which follow sorted: the name
// and the rest come after.
void AppendLabeledHead(std::string* out, absl::string_view kind, const Labels& labels) {
  absl::StrAppend(out, "---\napiVersion: v1\nkind: ", kind, "\nmetadata:\n  labels:\n");
  AppendKeyValues(out, "    ", labels);
}

}  // namespace

ClusterWriter::ClusterWriter(std::ostream& out) : out_(out) {
  buffer_.reserve(kFlushBytes + 64 * 1024);
}

void ClusterWriter::AddNamespace(const std::string& name,
                                 const Labels& labels) {
  Labels all = labels;
  all.emplace_back("kubernetes.io/metadata.name", name);
  all = Sorted(std::move(all));
  AppendLabeledHead(&buffer_, "Namespace", all);
  absl::StrAppend(&buffer_, "  name: ", name,
                  "\n"
                  "spec:\n"
                  "  finalizers:\n"
                  "  - kubernetes\n"
                  "status:\n"
                  "  phase: Active\n");
  placer_.AddNamespace(name, all);
  MaybeFlush();
}

void ClusterWriter::AddNode(const RenderedNode& node, absl::string_view zone,
                            absl::string_view name) {
  std::string node_name = name.empty()
                              ? absl::StrCat("node-", numbered_nodes_++)
                              : std::string(name);
  Labels labels = node.node->labels;
  labels.emplace_back(kHostnameLabel, node_name);
  if (!zone.empty()) labels.emplace_back(kZoneLabel, zone);
  labels = Sorted(std::move(labels));

  AppendLabeledHead(&buffer_, "Node", labels);
  absl::StrAppend(&buffer_, "  name: ", node_name, "\n", node.after_metadata);
  placer_.AddNode(node.node, node_name, std::move(labels));
  node_names_.push_back(std::move(node_name));
  MaybeFlush();
}

absl::Status ClusterWriter::AddInitPod(const RenderedPod& pod) {
  const int node = placer_.Place(pod.pod);
  if (node < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "init pod ", init_pods_, " does not fit on any of the ",
        node_names_.size(), " nodes; use fewer init pods or more nodes"));
  }
  WritePod(absl::StrCat("init-pod-", init_pods_++), pod, node_names_[node]);
  return absl::OkStatus();
}

void ClusterWriter::AddPod(absl::string_view prefix, const RenderedPod& pod) {
  WritePod(absl::StrCat(prefix, "-", pods_++), pod, "");
}

absl::Status ClusterWriter::Finish() {
  Flush();
  out_.flush();
  if (!out_) return absl::InternalError("writing the generated YAML failed");
  return absl::OkStatus();
}

void ClusterWriter::WritePod(absl::string_view name, const RenderedPod& pod,
                             absl::string_view node_name) {
  absl::StrAppend(&buffer_,
                  "---\n"
                  "apiVersion: v1\n"
                  "kind: Pod\n"
                  "metadata:\n",
                  pod.labels, "  name: ", name,
                  "\n  namespace: ", pod.pod->namespace_name, "\nspec:\n",
                  pod.spec_head);
  if (!node_name.empty()) {
    absl::StrAppend(&buffer_, "  nodeName: ", node_name, "\n");
  }
  absl::StrAppend(&buffer_, pod.spec_tail, "status:\n  phase: ",
                  node_name.empty() ? "Pending" : "Running", "\n");
  MaybeFlush();
}

void ClusterWriter::MaybeFlush() {
  if (buffer_.size() >= kFlushBytes) Flush();
}

void ClusterWriter::Flush() {
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
}

void AddNodes(ClusterWriter& writer, const NodeTemplate& node, int count,
              const std::vector<std::string>& zones) {
  const RenderedNode rendered = Render(node);
  for (int i = 0; i < count; ++i) {
    writer.AddNode(rendered, zones.empty() ? "" : zones[i % zones.size()]);
  }
}

absl::Status AddInitPods(ClusterWriter& writer, const PodTemplate& pod,
                         int count) {
  const RenderedPod rendered = Render(pod);
  for (int i = 0; i < count; ++i) {
    if (absl::Status s = writer.AddInitPod(rendered); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void AddPods(ClusterWriter& writer, absl::string_view prefix,
             const PodTemplate& pod, int count) {
  const RenderedPod rendered = Render(pod);
  for (int i = 0; i < count; ++i) writer.AddPod(prefix, rendered);
}

absl::Status NodesInitAndMeasured(const GenerateOptions& options,
                                  const NodeTemplate& node,
                                  const std::vector<std::string>& zones,
                                  const PodTemplate& init,
                                  absl::string_view prefix,
                                  const PodTemplate& measured,
                                  ClusterWriter& writer) {
  AddNodes(writer, node, options.nodes, zones);
  if (absl::Status s = AddInitPods(writer, init, options.init_pods); !s.ok()) {
    return s;
  }
  AddPods(writer, prefix, measured, options.pods);
  return absl::OkStatus();
}

absl::Status NoInitPods(const GenerateOptions& options) {
  if (options.init_pods == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "workload ", options.workload,
      " has no init pods upstream; got --init-pods=", options.init_pods));
}

}  // namespace kestrel::sim::generate_internal
