#include "kube/testing/json_util.h"

namespace kestrel::kube::testing {

const json& Null() {
  static const json* const kNull = new json();
  return *kNull;
}

const json& Member(const json& j, const std::string& key) {
  if (!j.is_object()) return Null();
  auto it = j.find(key);
  return it == j.end() ? Null() : *it;
}

std::string Str(const json& j) { return j.is_string() ? j.get<std::string>() : ""; }

int64_t Int(const json& j) { return j.is_number_integer() ? j.get<int64_t>() : 0; }

std::optional<int64_t> OptInt(const json& j) {
  if (!j.is_number_integer()) return std::nullopt;
  return j.get<int64_t>();
}

std::string Meta(const json& object, const std::string& field) {
  return Str(Member(Member(object, "metadata"), field));
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::optional<absl::Time> ParseRfc3339(const std::string& s) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &error)) return std::nullopt;
  return t;
}

}  // namespace kestrel::kube::testing
