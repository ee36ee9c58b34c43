// File: validation.h
//
// Upstream's field validation helpers (k8s.io/apimachinery/pkg/util/validation,
// .../util/validation/field and .../apis/meta/v1/validation), with their
// messages word for word: label names and values, DNS names, Go-quoted
// values, field errors as field.Error prints them, and the aggregate of a
// list of field errors. Object validation (pods, nodes) builds on these in
// api/object_validation.h.
//
// Example:
//   std::vector<std::string> errs;
//   api::ValidateLabelName("example.com/", "defaultConstraints[0].topologyKey", errs);
//   return api::AggregateErrors(errs);  // "defaultConstraints[0].topologyKey: Invalid ..."

#ifndef KESTREL_API_VALIDATION_H_
#define KESTREL_API_VALIDATION_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
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

// validation.IsDNS1123Label (namespace names): the problems, empty when valid.
std::vector<std::string> Dns1123LabelErrors(absl::string_view value);

// validation.InclusiveRangeError: "must be between 1 and 65535, inclusive".
std::string InclusiveRangeError(int64_t lo, int64_t hi);

// Go's strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, in
// range; nothing else (no spaces, no underscores).
bool ParseGoInt64(absl::string_view s, int64_t* out);

// validation.IsQualifiedName (label keys): the problems, empty when valid.
std::vector<std::string> QualifiedNameErrors(absl::string_view value);

// validation.IsValidLabelValue: the problems, empty when valid.
std::vector<std::string> LabelValueErrors(absl::string_view value);

// Field errors as field.Error.Error() prints them, "<path>: <body>".
// `value` is the bad value as Go prints it: GoQuote(s) for a string, the
// digits for a number.
//   InvalidError        "<path>: Invalid value: <value>: <detail>"
//   RequiredError       "<path>: Required value[: <detail>]"
//   ForbiddenError      "<path>: Forbidden[: <detail>]"
//   NotSupportedError   "<path>: Unsupported value: <value>: supported values: "a", "b""
//   DuplicateError      "<path>: Duplicate value: <value>[: <detail>]"
std::string InvalidError(absl::string_view path, absl::string_view value,
                         absl::string_view detail);
std::string RequiredError(absl::string_view path, absl::string_view detail = "");
std::string ForbiddenError(absl::string_view path, absl::string_view detail = "");
std::string NotSupportedError(absl::string_view path, absl::string_view value,
                              const std::vector<absl::string_view>& supported);
std::string DuplicateError(absl::string_view path, absl::string_view value,
                           absl::string_view detail = "");

// metav1validation.ValidateLabelName: one "<path>: Invalid value: ..." error
// per problem of `name`, appended to `errs`.
void ValidateLabelName(absl::string_view name, absl::string_view path,
                       std::vector<std::string>& errs);

// metav1validation.ValidateLabels: every key a qualified name, every value a
// label value, each problem reported at `path` itself. `labels` is any map
// of strings; keys are visited in order so that messages are reproducible
// (upstream's map order is random).
template <typename Map>
void ValidateLabels(const Map& labels, absl::string_view path, std::vector<std::string>& errs) {
  std::vector<std::pair<std::string, std::string>> sorted(labels.begin(), labels.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [key, value] : sorted) {
    ValidateLabelName(key, path, errs);
    for (const std::string& msg : LabelValueErrors(value)) {
      errs.push_back(InvalidError(path, GoQuote(value), msg));
    }
  }
}

// field.ErrorList.ToAggregate().Error(): OK when empty, one error as it is,
// several as "[a, b]" with duplicates dropped; InvalidArgument.
absl::Status AggregateErrors(const std::vector<std::string>& errs);

}  // namespace kestrel::api

#endif  // KESTREL_API_VALIDATION_H_
