// File: args.h
//
// NodeAffinityArgs: validation as upstream's
// validation.ValidateNodeAffinityArgs, and compilation of addedAffinity, the
// node affinity a profile adds to every pod it schedules.
//
// Errors read as upstream's field errors, several joined as "[a, b]":
//   addedAffinity.requiredDuringSchedulingIgnoredDuringExecution
//   .nodeSelectorTerms[0].matchExpressions[0].key: Invalid value: "a/b/c":
//   a qualified name must consist of ...
// As upstream, preferred terms report their paths without ".preference"
// ("addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]
// .matchFields[0].values"), and terms that upstream skips (no requirements,
// or weight 0) are not validated.
//
// Example:
//   absl::StatusOr<AddedAffinity> added = CompileAddedAffinity(args, names);

#ifndef KESTREL_PREDICATES_NODE_AFFINITY_ARGS_H_
#define KESTREL_PREDICATES_NODE_AFFINITY_ARGS_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/config/config.pb.h"
#include "model/interner.h"
#include "model/objects.h"

namespace kestrel::predicates {

// ValidateNodeAffinityArgs()
//
// InvalidArgument naming every problem in `args.addedAffinity`, or OK.
absl::Status ValidateNodeAffinityArgs(const config::NodeAffinityArgs& args);

// args.addedAffinity, compiled.
struct AddedAffinity {
  // requiredDuringSchedulingIgnoredDuringExecution; absent: none. ANDed
  // with each pod's own node affinity.
  std::optional<model::NodeSelector> required;
  // preferredDuringSchedulingIgnoredDuringExecution without the terms that
  // can never add to a score (weight 0, no requirements).
  std::vector<model::PreferredSchedulingTerm> preferred;
};

// CompileAddedAffinity()
//
// Validates `args` (ValidateNodeAffinityArgs), then compiles them. `names`
// interns label keys, values and node names.
absl::StatusOr<AddedAffinity> CompileAddedAffinity(const config::NodeAffinityArgs& args,
                                                   model::Interner& names);

}  // namespace kestrel::predicates

#endif  // KESTREL_PREDICATES_NODE_AFFINITY_ARGS_H_
