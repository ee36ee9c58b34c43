// File: workloads.h
//
// Workload objects (apps/v1 Deployment, ReplicaSet, StatefulSet, DaemonSet;
// batch/v1 Job) expanded into the Pods their controllers would create, for
// hosts that read manifests instead of an API server (`kestrel simulate`).
// Each function does what one upstream controller does when it creates
// pods, and nothing more: the pods come out as API objects, to be defaulted,
// validated and compiled exactly as Pods read from a file
// (CompilePodObject).
//
//   Deployment   pkg/controller/deployment sync.go getNewReplicaSet: a
//                ReplicaSet `<deploy>-<pod-template-hash>`, owned by the
//                Deployment, its template and selector carrying the
//                `pod-template-hash` label; then as a ReplicaSet.
//   ReplicaSet   replica_set.go manageReplicas + controller_utils.go
//                GetPodFromTemplate: pods `<rs>-<5 chars>` with the
//                template's labels, annotations and spec, and a controller
//                reference (controller and blockOwnerDeletion true).
//   StatefulSet  stateful_set_utils.go newStatefulSetPod: pods
//                `<name>-<ordinal>`, labels statefulset.kubernetes.io/pod-name,
//                apps.kubernetes.io/pod-index and controller-revision-hash,
//                spec.hostname the pod's name, spec.subdomain serviceName.
//   DaemonSet    daemon_controller.go NewPod/nodeShouldRunDaemonPod for the
//                nodes it targets, util/daemonset_util.go
//                AddOrUpdateDaemonPodTolerations and
//                ReplaceDaemonSetPodNodeNameNodeAffinity for the pods.
//   Job          job_controller.go manageJob: min(parallelism, completions)
//                pods, labels as the API server's job strategy adds them
//                (job-name, controller-uid, with and without the
//                batch.kubernetes.io/ prefix); Indexed jobs get
//                `<job>-<index>-<5 chars>`, the completion-index annotation
//                and label, and hostname `<job>-<index>`.
//
// Differences from upstream, on purpose:
//   - upstream's pod names end in 5 random characters (utilrand.String);
//     here they are drawn from the same alphabet by a hash of the owner's
//     name and the pod's number, so a run is reproducible;
//   - upstream's pod-template-hash is fnv32a over a spew dump of the Go
//     PodTemplateSpec (hashutil.DeepHashObject), which a protobuf cannot
//     reproduce; PodTemplateHash() hashes the template's deterministic
//     protobuf encoding instead, with collisionCount mixed in as upstream
//     does and rendered by rand.SafeEncodeString, so it has upstream's
//     alphabet and length (up to 10 characters) and changes when the
//     template changes, but not upstream's value. The same stand-in is the
//     controller-revision-hash of StatefulSet and DaemonSet pods;
//   - an object without metadata.uid (a manifest, not a dump) gets a stable
//     stand-in (StandInUid) where upstream's API server would assign one.
//
// Threading: pure functions; thread-compatible.

#ifndef KESTREL_LOAD_WORKLOADS_H_
#define KESTREL_LOAD_WORKLOADS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/apps.pb.h"
#include "api/batch.pb.h"
#include "api/core.pb.h"
#include "model/interner.h"
#include "model/objects.h"

namespace kestrel::load {

// Label keys and values the controllers and the API server set.
inline constexpr char kPodTemplateHashLabel[] = "pod-template-hash";
inline constexpr char kControllerRevisionHashLabel[] = "controller-revision-hash";
inline constexpr char kStatefulSetPodNameLabel[] = "statefulset.kubernetes.io/pod-name";
inline constexpr char kPodIndexLabel[] = "apps.kubernetes.io/pod-index";
inline constexpr char kDaemonSetTemplateGenerationLabel[] = "pod-template-generation";
inline constexpr char kJobNameLabel[] = "batch.kubernetes.io/job-name";
inline constexpr char kLegacyJobNameLabel[] = "job-name";
inline constexpr char kControllerUidLabel[] = "batch.kubernetes.io/controller-uid";
inline constexpr char kLegacyControllerUidLabel[] = "controller-uid";
inline constexpr char kJobCompletionIndex[] = "batch.kubernetes.io/job-completion-index";

// Claims a pod name in the workload's namespace: true when it was free (it
// is taken from now on), false when a pod of that name exists already.
using ClaimName = std::function<bool(const std::string& name)>;

// SafeEncodeString()
//
// Upstream k8s.io/apimachinery/pkg/util/rand.SafeEncodeString: each byte
// mapped into "bcdfghjklmnpqrstvwxz2456789" (no vowels, no 0/1/3).
std::string SafeEncodeString(absl::string_view s);

// PodTemplateHash()
//
// The stand-in for upstream controller.ComputeHash (see the file comment):
// fnv32a over the template, then collisionCount's four little-endian bytes
// when set, printed in decimal and SafeEncodeString'd.
std::string PodTemplateHash(const ::k8s::io::api::core::v1::PodTemplateSpec& tmpl,
                            std::optional<int32_t> collision_count);

// StandInUid()
//
// A UID in the API server's format (8-4-4-4-12 hex digits), the same for
// the same kind, namespace and name: for objects that have none.
std::string StandInUid(absl::string_view kind, absl::string_view ns, absl::string_view name);

// ValidateWorkload()
//
// What the API server refuses on create and expansion relies on (upstream
// pkg/apis/apps/validation, pkg/apis/batch/validation), with upstream's
// field paths and messages: negative replicas, parallelism or completions;
// a missing selector (apps), an empty one, or one that does not select the
// template's labels. `object` is e.g. "Deployment default/web"; errors read
// "Deployment default/web: spec.replicas: Invalid value: -1: must be
// greater than or equal to 0". Accepts the six workload kinds; the
// template's pod spec is validated later, as a pod's.
absl::Status ValidateWorkload(const google::protobuf::Message& workload, absl::string_view object,
                              model::Interner& names);

// NewReplicaSet()
//
// The ReplicaSet the deployment controller creates for `deployment`
// (getNewReplicaSet), with spec.replicas set to the Deployment's (default 1).
::k8s::io::api::apps::v1::ReplicaSet NewReplicaSet(
    const ::k8s::io::api::apps::v1::Deployment& deployment);

// ReplicaSetPods()
//
// `count` pods of `rs`, as its controller creates them.
std::vector<::k8s::io::api::core::v1::Pod> ReplicaSetPods(
    const ::k8s::io::api::apps::v1::ReplicaSet& rs, int count, const ClaimName& claim);

// StatefulSetPods()
//
// The pods of `set` with the given ordinals, in that order.
std::vector<::k8s::io::api::core::v1::Pod> StatefulSetPods(
    const ::k8s::io::api::apps::v1::StatefulSet& set, const std::vector<int32_t>& ordinals);

// The ordinals a StatefulSet's pods take: [ordinals.start, start + replicas).
int32_t StatefulSetFirstOrdinal(const ::k8s::io::api::apps::v1::StatefulSet& set);

// DaemonSetNewPod()
//
// Upstream NewPod(ds, "") : the template with the DaemonSet tolerations
// added, in the DaemonSet's namespace; compiled, it is what
// DaemonSetShouldRun() tests nodes with.
::k8s::io::api::core::v1::Pod DaemonSetNewPod(const ::k8s::io::api::apps::v1::DaemonSet& ds);

// AddDaemonSetTolerations()
//
// Upstream AddOrUpdateDaemonPodTolerations: NoExecute tolerations of
// node.kubernetes.io/not-ready and /unreachable (no tolerationSeconds),
// NoSchedule tolerations of /disk-pressure, /memory-pressure,
// /pid-pressure, /unschedulable and, for host-network pods,
// /network-unavailable; each replaces a toleration with the same key,
// operator, value and effect, or is appended.
void AddDaemonSetTolerations(::k8s::io::api::core::v1::PodSpec* spec);

// DaemonSetShouldRun()
//
// Upstream nodeShouldRunDaemonPod's "should run": the template's nodeName
// (when set) is the node, the compiled NewPod (`pod`) matches the node's
// labels by nodeSelector and required node affinity, and tolerates every
// NoSchedule and NoExecute taint of the node.
bool DaemonSetShouldRun(const ::k8s::io::api::apps::v1::DaemonSet& ds, const model::Pod& pod,
                        const model::Node& node);

// DaemonSetPods()
//
// The pods the DaemonSet controller creates for `nodes`, one each: the
// template with the revision labels (controller-revision-hash,
// pod-template-generation: metadata.generation, 1 when unset as on
// create), the DaemonSet tolerations, and the required node affinity
// replaced by one term `matchFields: metadata.name In [node]`
// (ReplaceDaemonSetPodNodeNameNodeAffinity). Names are `<ds>-<5 chars>`.
std::vector<::k8s::io::api::core::v1::Pod> DaemonSetPods(
    const ::k8s::io::api::apps::v1::DaemonSet& ds, const std::vector<std::string>& nodes,
    const ClaimName& claim);

// JobPodCount()
//
// How many pods the job controller starts for a new Job: 0 when suspended,
// else parallelism (default 1) capped by completions when set.
int32_t JobPodCount(const ::k8s::io::api::batch::v1::JobSpec& spec);

// JobPods()
//
// `count` pods of `job`, as manageJob creates them (Indexed: indexes
// 0..count-1).
std::vector<::k8s::io::api::core::v1::Pod> JobPods(const ::k8s::io::api::batch::v1::Job& job,
                                                   int count, const ClaimName& claim);

}  // namespace kestrel::load

#endif  // KESTREL_LOAD_WORKLOADS_H_
