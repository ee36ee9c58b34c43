// File: json_util.h
//
// Reading JSON without exceptions, for the fake API server: nlohmann throws
// on a type mismatch, so every access to a client's object goes through
// these. Internal to kube/testing.

#ifndef KESTREL_KUBE_TESTING_JSON_UTIL_H_
#define KESTREL_KUBE_TESTING_JSON_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

using json = nlohmann::json;

// A null value to return references to.
const json& Null();

// The member `key` of `j`; null when `j` is no object or lacks it.
const json& Member(const json& j, const std::string& key);

// `j` if it is a string, else "".
std::string Str(const json& j);

// `j` if it is an integer, else 0.
int64_t Int(const json& j);

// `j` if it is an integer, else nullopt.
std::optional<int64_t> OptInt(const json& j);

// metadata.<field> of `object` if it is a string, else "".
std::string Meta(const json& object, const std::string& field);

// Invalid UTF-8 (say, from a percent-decoded path) is replaced, not thrown on.
std::string Dump(const json& j);

// Parses what kube::TimeString writes (and any RFC 3339 time); nullopt when it is not one.
std::optional<absl::Time> ParseRfc3339(const std::string& s);

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_JSON_UTIL_H_
