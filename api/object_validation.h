// File: object_validation.h
//
// Pods and nodes validated as the API server validates them on create
// (pkg/apis/core/validation ValidatePodCreate and ValidateNode), for the
// fields the scheduler reads, with upstream's field paths and messages word
// for word. An object the API server would refuse is an input error; an
// object it accepts is never refused here.
//
// What is checked (upstream function in parentheses):
//   - metadata: name (ValidateObjectMeta with NameIsDNSSubdomain), namespace
//     (DNS-1123 label; an empty one is left to the caller's default), labels
//     (ValidateLabels);
//   - containers and init containers: resources (ValidateContainerResource
//     Requirements: names, non-negative and integer quantities, requests <=
//     limits, extended resources and hugepages requested only with an equal
//     limit, hugepages only with cpu or memory), host ports and protocols
//     (validateContainerPorts, checkHostPortConflicts), restartPolicy;
//   - spec.nodeSelector, spec.affinity, spec.tolerations,
//     spec.topologySpreadConstraints, spec.nodeName, spec.priorityClassName,
//     spec.preemptionPolicy, spec.overhead;
//   - nodes: name, labels, spec.taints (validateNodeTaints),
//     status.allocatable (ValidateNodeResources).
//
// Not refused, on purpose: label values in node affinity match expressions
// and in label selectors' match expressions. Current API servers refuse new
// pods with such values only when the pod being replaced had none
// (AllowInvalidLabelValueInRequiredNodeAffinity, AllowInvalidLabelValueIn
// Selector), so pods that carry them run in real clusters, and the scheduler
// treats them lazily: a node selector term that does not parse matches no
// node (see NodeSelectorTermParseErrors).
//
// Errors are field errors, "<path>: <body>", in upstream's order; the caller
// names the object and joins them (api::AggregateErrors).
//
// Example:
//   std::vector<std::string> errs = api::ValidatePod(pod);
//   if (!errs.empty()) return api::AggregateErrors(errs);

#ifndef KESTREL_API_OBJECT_VALIDATION_H_
#define KESTREL_API_OBJECT_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/core.pb.h"

namespace kestrel::api {

namespace v1 = ::k8s::io::api::core::v1;

// ValidatePod()
//
// The problems of `pod`, empty when the API server would accept it.
std::vector<std::string> ValidatePod(const v1::Pod& pod);

// ValidatePodInstance()
//
// The part of ValidatePod that differs between pods of one template: the
// metadata and spec.nodeName. With a spec (nodeName aside) that passed
// ValidatePod, empty exactly when ValidatePod would be.
std::vector<std::string> ValidatePodInstance(const v1::Pod& pod);

// ValidateNode()
//
// The problems of `node`, empty when the API server would accept it.
std::vector<std::string> ValidateNode(const v1::Node& node);

// The pieces, for content that does not sit in its usual field (the
// Kubernetes 1.4 annotations), each appending to `errs`.

// ValidateTolerations: spec.tolerations at `path`.
void ValidateTolerations(const google::protobuf::RepeatedPtrField<v1::Toleration>& tolerations,
                         absl::string_view path, std::vector<std::string>& errs);

// validateNodeTaints: spec.taints at `path`.
void ValidateNodeTaints(const google::protobuf::RepeatedPtrField<v1::Taint>& taints,
                        absl::string_view path, std::vector<std::string>& errs);

// validateAffinity: spec.affinity at `path`.
void ValidateAffinity(const v1::Affinity& affinity, absl::string_view path,
                      std::vector<std::string>& errs);

// NodeSelectorTermParseErrors()
//
// Upstream component-helpers nodeaffinity newNodeSelectorTerm: what
// labels.NewRequirement and the field selector refuse in `term`
// (operators, keys, value counts, Gt/Lt integers, label values), with
// paths under `path` as upstream prints them (a label value's path ends in
// "[<key>]"). The scheduler does not refuse such a term; it matches no node
// (required terms), or fails the pod's scoring (preferred terms). Empty
// terms are not parsed upstream and have none.
void NodeSelectorTermParseErrors(const v1::NodeSelectorTerm& term, absl::string_view path,
                                 std::vector<std::string>& errs);

}  // namespace kestrel::api

#endif  // KESTREL_API_OBJECT_VALIDATION_H_
