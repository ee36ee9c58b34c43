// File: events.h
//
// Cluster events: what changed in the cluster (a resource and an action), so
// the scheduling queue can tell which unschedulable pods are worth retrying.
// Upstream's framework.ClusterEvent, ActionType and EventResource
// (pkg/scheduler/framework/types.go) and the named events of
// pkg/scheduler/framework/events.go, release 1.31, with their labels word for
// word: the labels are what `scheduler_queue_incoming_pods_total{event}`
// reports.
//
// A plugin that can reject a pod says which events may make that pod
// schedulable again (EnqueueExtensions::EventsToRegister, interface.h); the
// queue moves a pod out of its unschedulable pool only on an event that one of
// the plugins that rejected it registered.
//
// Example:
//   ClusterEvent registered{EventResource::kNode, kAdd | kUpdateNodeTaint};
//   registered.Match(kNodeTaintChange);   // true
//   registered.Match(kNodeLabelChange);   // false

#ifndef KESTREL_SCHEDULER_FRAMEWORK_EVENTS_H_
#define KESTREL_SCHEDULER_FRAMEWORK_EVENTS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/string_view.h"

namespace kestrel::framework {

// The kind of object an event is about. Kestrel's plugins look at pods and
// nodes only; upstream's storage and DRA resources have no Kestrel plugin.
enum class EventResource : uint8_t {
  kPod,
  kNode,
  kWildCard,  // upstream "*": every resource
};

// Upstream's resource names: "Pod", "Node", "*".
inline absl::string_view EventResourceName(EventResource r) {
  switch (r) {
    case EventResource::kPod:
      return "Pod";
    case EventResource::kNode:
      return "Node";
    case EventResource::kWildCard:
      return "*";
  }
  return "*";
}

// ActionType is a bit set of what happened to the object, upstream's values
// and order (1.31). The UpdateNodeXYZ bits apply to nodes, UpdatePodXYZ to pods.
using ActionType = uint32_t;
inline constexpr ActionType kAdd = 1u << 0;
inline constexpr ActionType kDelete = 1u << 1;
inline constexpr ActionType kUpdateNodeAllocatable = 1u << 2;
inline constexpr ActionType kUpdateNodeLabel = 1u << 3;
inline constexpr ActionType kUpdateNodeTaint = 1u << 4;
inline constexpr ActionType kUpdateNodeCondition = 1u << 5;
inline constexpr ActionType kUpdateNodeAnnotation = 1u << 6;
inline constexpr ActionType kUpdatePodLabel = 1u << 7;
inline constexpr ActionType kUpdatePodScaleDown = 1u << 8;
inline constexpr ActionType kUpdatePodTolerations = 1u << 9;
inline constexpr ActionType kUpdatePodSchedulingGatesEliminated = 1u << 10;
// An update of a pod in fields no UpdatePodXYZ bit covers (upstream
// updatePodOther, unexported).
inline constexpr ActionType kUpdatePodOther = 1u << 11;
inline constexpr ActionType kAll = (1u << 12) - 1;
// Any kind of update, when the kind is not known or does not matter.
inline constexpr ActionType kUpdate =
    kUpdateNodeAllocatable | kUpdateNodeLabel | kUpdateNodeTaint | kUpdateNodeCondition |
    kUpdateNodeAnnotation | kUpdatePodLabel | kUpdatePodScaleDown | kUpdatePodTolerations |
    kUpdatePodSchedulingGatesEliminated | kUpdatePodOther;

// ClusterEvent
//
// A resource and the actions on it. Registrations leave `label` empty; the
// events the host reports carry upstream's label.
struct ClusterEvent {
  EventResource resource = EventResource::kWildCard;
  ActionType action_type = kAll;
  absl::string_view label;

  // Every resource, every action (upstream IsWildCard).
  constexpr bool IsWildCard() const {
    return resource == EventResource::kWildCard && action_type == kAll;
  }

  // Match()
  //
  // Whether `event` is one this (registered) event covers: this is the
  // wildcard, or the resources agree (or this one is "*") and the action
  // sets intersect (upstream ClusterEvent.Match).
  constexpr bool Match(const ClusterEvent& event) const {
    return IsWildCard() ||
           ((resource == EventResource::kWildCard || resource == event.resource) &&
            (action_type & event.action_type) != 0);
  }

  friend bool operator==(const ClusterEvent& a, const ClusterEvent& b) {
    return a.resource == b.resource && a.action_type == b.action_type && a.label == b.label;
  }
  friend bool operator!=(const ClusterEvent& a, const ClusterEvent& b) { return !(a == b); }
  friend bool operator<(const ClusterEvent& a, const ClusterEvent& b) {
    return std::tie(a.resource, a.action_type, a.label) <
           std::tie(b.resource, b.action_type, b.label);
  }
};

// The labels of queue moves that are not cluster events (upstream's string
// constants in events.go).
inline constexpr absl::string_view kPodAdd = "PodAdd";
inline constexpr absl::string_view kScheduleAttemptFailure = "ScheduleAttemptFailure";
inline constexpr absl::string_view kBackoffComplete = "BackoffComplete";
inline constexpr absl::string_view kForceActivate = "ForceActivate";
inline constexpr absl::string_view kPodUpdate = "PodUpdate";

// The cluster events the host reports, upstream's names and labels.
inline constexpr ClusterEvent kAssignedPodAdd{EventResource::kPod, kAdd, "AssignedPodAdd"};
inline constexpr ClusterEvent kNodeAdd{EventResource::kNode, kAdd, "NodeAdd"};
inline constexpr ClusterEvent kNodeDelete{EventResource::kNode, kDelete, "NodeDelete"};
inline constexpr ClusterEvent kAssignedPodUpdate{EventResource::kPod, kUpdate,
                                                 "AssignedPodUpdate"};
inline constexpr ClusterEvent kAssignedPodDelete{EventResource::kPod, kDelete,
                                                 "AssignedPodDelete"};
inline constexpr ClusterEvent kPodRequestScaledDown{EventResource::kPod, kUpdatePodScaleDown,
                                                    "PodRequestScaledDown"};
inline constexpr ClusterEvent kPodLabelChange{EventResource::kPod, kUpdatePodLabel,
                                              "PodLabelChange"};
inline constexpr ClusterEvent kPodTolerationChange{EventResource::kPod, kUpdatePodTolerations,
                                                   "PodTolerationChange"};
inline constexpr ClusterEvent kPodSchedulingGateEliminatedChange{
    EventResource::kPod, kUpdatePodSchedulingGatesEliminated, "PodSchedulingGateChange"};
// An assigned pod's update in fields no other Pod event covers (upstream
// assignedPodOtherUpdate: labelled like AssignedPodUpdate).
inline constexpr ClusterEvent kAssignedPodOtherUpdate{EventResource::kPod, kUpdatePodOther,
                                                      "AssignedPodUpdate"};
// Upstream gives the spec.unschedulable change the UpdateNodeTaint action.
inline constexpr ClusterEvent kNodeSpecUnschedulableChange{
    EventResource::kNode, kUpdateNodeTaint, "NodeSpecUnschedulableChange"};
inline constexpr ClusterEvent kNodeAllocatableChange{EventResource::kNode, kUpdateNodeAllocatable,
                                                     "NodeAllocatableChange"};
inline constexpr ClusterEvent kNodeLabelChange{EventResource::kNode, kUpdateNodeLabel,
                                               "NodeLabelChange"};
inline constexpr ClusterEvent kNodeAnnotationChange{EventResource::kNode, kUpdateNodeAnnotation,
                                                    "NodeAnnotationChange"};
inline constexpr ClusterEvent kNodeTaintChange{EventResource::kNode, kUpdateNodeTaint,
                                               "NodeTaintChange"};
inline constexpr ClusterEvent kNodeConditionChange{EventResource::kNode, kUpdateNodeCondition,
                                                   "NodeConditionChange"};
// Every resource, every action.
inline constexpr ClusterEvent kWildCardEvent{EventResource::kWildCard, kAll, "WildCardEvent"};
// A pod stayed unschedulable longer than podMaxInUnschedulablePodsDuration.
inline constexpr ClusterEvent kUnschedulableTimeout{EventResource::kWildCard, kAll,
                                                    "UnschedulableTimeout"};

// ClusterEventMap
//
// For one profile, each registered event and the plugins that registered it
// (upstream's per-profile QueueingHintMap with the gate off, where every
// registration's hint is "Queue"). Framework::cluster_event_map() builds it.
using ClusterEventMap = std::map<ClusterEvent, std::set<std::string>>;

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_EVENTS_H_
