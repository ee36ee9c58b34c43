// File: generate/yaml.h
// -----------------------------------------------------------------------------
//
// Node and pod templates as YAML text, the way `kubectl get -o yaml` writes
// them (keys sorted, numeric-looking strings quoted). A template is rendered
// once; the writer (writer.h) then only adds each object's name and binding.
// Every string written here is a plain identifier, label or quantity, so the
// only escaping needed is go-yaml's quoting of strings that would otherwise
// read as numbers. Internal to sim/generate.cc and its families.

#ifndef KESTREL_SIM_GENERATE_YAML_H_
#define KESTREL_SIM_GENERATE_YAML_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "sim/generate/templates.h"

namespace kestrel::sim::generate_internal {

// Appends `key: value` lines at `indent`, in the order given.
void AppendKeyValues(std::string* out, absl::string_view indent,
                     const Labels& entries);

// `labels` sorted by key, as kubectl writes a map.
Labels Sorted(Labels labels);

// A node template's text that is the same for every node: everything after
// metadata. The template is shared with the placer.
struct RenderedNode {
  std::shared_ptr<const NodeTemplate> node;
  std::string after_metadata;
};

RenderedNode Render(const NodeTemplate& node);

// A pod template's text that is the same for every pod: everything but the
// name and spec.nodeName, which sits between `spec_head` and `spec_tail`.
// The template is shared with the placer.
struct RenderedPod {
  std::shared_ptr<const PodTemplate> pod;
  std::string labels;     // the metadata.labels block, or empty
  std::string spec_head;  // affinity, containers
  std::string spec_tail;  // nodeSelector .. topologySpreadConstraints
};

RenderedPod Render(const PodTemplate& pod);

}  // namespace kestrel::sim::generate_internal

#endif  // KESTREL_SIM_GENERATE_YAML_H_
