// File: validation.h
//
// Upstream's field validation helpers (k8s.io/apimachinery/pkg/util/validation
// and pkg/api/validation), with their messages word for word, for the
// plugin args that upstream validates: label names and values, Go-quoted
// values, and the aggregate of a list of field errors.
//
// Example:
//   std::vector<std::string> errs;
//   api::ValidateLabelName("example.com/", "defaultConstraints[0].topologyKey", errs);
//   return api::AggregateErrors(errs);  // "defaultConstraints[0].topologyKey: Invalid ..."

#ifndef KESTREL_API_VALIDATION_H_
#define KESTREL_API_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kestrel::api {

// Go's %q of a string: quotes, backslashes and control bytes escaped.
std::string GoQuote(absl::string_view s);

// validation.RegexError and validation.MaxLenError.
std::string RegexError(absl::string_view msg, absl::string_view fmt,
                       const std::vector<absl::string_view>& examples);
std::string MaxLenError(int n);

// validation.IsDNS1123Subdomain (object names): the problems, empty when valid.
std::vector<std::string> Dns1123SubdomainErrors(absl::string_view value);

// validation.IsQualifiedName (label keys): the problems, empty when valid.
std::vector<std::string> QualifiedNameErrors(absl::string_view value);

// validation.IsValidLabelValue: the problems, empty when valid.
std::vector<std::string> LabelValueErrors(absl::string_view value);

// metav1validation.ValidateLabelName: one "<path>: Invalid value: ..." error
// per problem of `name`, appended to `errs`.
void ValidateLabelName(absl::string_view name, absl::string_view path,
                       std::vector<std::string>& errs);

// field.ErrorList.ToAggregate().Error(): OK when empty, one error as it is,
// several as "[a, b]" with duplicates dropped; InvalidArgument.
absl::Status AggregateErrors(const std::vector<std::string>& errs);

}  // namespace kestrel::api

#endif  // KESTREL_API_VALIDATION_H_
