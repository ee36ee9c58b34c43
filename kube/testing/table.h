// File: table.h
//
// The Table form of the fake API server's objects: what a GET answers when
// the client asks for "application/json;as=Table;v=v1;g=meta.k8s.io", as
// plain `kubectl get` does. A meta.k8s.io Table has column definitions and
// one row of cells per object; the server, not kubectl, decides the
// columns. They follow upstream's printers (pkg/printers/internalversion/
// printers.go) for the kinds the fake keeps, simplified:
//
//   Pod                  NAME READY STATUS RESTARTS AGE | IP NODE
//                        NOMINATED NODE READINESS GATES
//   Node                 NAME STATUS ROLES AGE VERSION | INTERNAL-IP
//                        EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME
//   Namespace            NAME STATUS AGE
//   Event                LAST SEEN TYPE REASON OBJECT MESSAGE | ...
//   PodDisruptionBudget  NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE
//   PriorityClass        NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY
//   Lease                NAME HOLDER AGE
//
// (columns after "|" have priority 1: kubectl shows them with -o wide).
// Ages are upstream's duration.HumanDuration of now - creationTimestamp.
// Each row carries the object as `includeObject` asks: its metadata as a
// PartialObjectMetadata (the default; kubectl reads namespaces and labels
// from it), the whole object, or nothing. Internal to kube/testing.
//
// Example:
//   json table = ToTable("meta.k8s.io/v1", {{&stored, &pod}}, IncludeObject::kMetadata,
//                        absl::Now());

#ifndef KESTREL_KUBE_TESTING_TABLE_H_
#define KESTREL_KUBE_TESTING_TABLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

// metav1.IncludeObjectPolicy: what a row's `object` holds.
enum class IncludeObject { kNone, kMetadata, kObject };

// The includeObject query parameter: "" and "Metadata" are kMetadata,
// "Object" and "None" the others; InvalidArgument (a 400) for anything
// else, with upstream's field error.
absl::StatusOr<IncludeObject> ParseIncludeObject(absl::string_view value);

// One object to show: `stored` is what the cells are computed from (the
// stored form, core/v1 for Events), `api` what the row's object carries
// (the object as the requested API shows it, with kind and apiVersion).
struct TableItem {
  const nlohmann::json* stored;
  const nlohmann::json* api;
};

// ToTable()
//
// A Table (apiVersion `table_api_version`, "meta.k8s.io/v1" or
// "meta.k8s.io/v1beta1") with the column definitions of `kind` and one row
// per item, in order; kinds without their own columns get NAME and AGE.
// The caller sets the Table's metadata (resourceVersion, continue).
// `headers` false leaves the column definitions out, as upstream does for
// every watch event after the first.
nlohmann::json ToTable(absl::string_view table_api_version, absl::string_view kind,
                       const std::vector<TableItem>& items, IncludeObject include, absl::Time now,
                       bool headers = true);

// HumanDuration()
//
// k8s.io/apimachinery/pkg/util/duration.HumanDuration: "45s", "3m20s",
// "2d3h", "<invalid>" for a duration more than a second negative.
std::string HumanDuration(absl::Duration d);

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_TABLE_H_
