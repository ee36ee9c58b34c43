#include "model/template_key.h"

#include <cstring>

namespace kestrel::model {

void AppendKey(int64_t value, std::string* key) {
  char bytes[sizeof(value)];
  std::memcpy(bytes, &value, sizeof(value));
  key->append(bytes, sizeof(bytes));
}

void AppendKey(absl::string_view value, std::string* key) {
  AppendKey(static_cast<int64_t>(value.size()), key);
  key->append(value.data(), value.size());
}

void AppendKey(const Resources& resources, std::string* key) {
  AppendKey(resources.milli_cpu, key);
  AppendKey(resources.memory, key);
  AppendKey(resources.ephemeral_storage, key);
  AppendKey(resources.allowed_pods, key);
  AppendKey(static_cast<int64_t>(resources.scalar.size()), key);
  for (const auto& [id, value] : resources.scalar) {
    AppendKey(static_cast<int64_t>(id), key);
    AppendKey(value, key);
  }
}

void AppendKey(const std::vector<Toleration>& tolerations, std::string* key) {
  AppendKey(static_cast<int64_t>(tolerations.size()), key);
  for (const Toleration& t : tolerations) {
    AppendKey(static_cast<int64_t>(t.key), key);
    AppendKey(static_cast<int64_t>(t.op), key);
    AppendKey(static_cast<int64_t>(t.value), key);
    AppendKey(static_cast<int64_t>(t.effect), key);
  }
}

void AppendKey(const std::vector<Requirement>& requirements, std::string* key) {
  AppendKey(static_cast<int64_t>(requirements.size()), key);
  for (const Requirement& r : requirements) {
    AppendKey(static_cast<int64_t>(r.key), key);
    AppendKey(static_cast<int64_t>(r.op), key);
    AppendKey(r.number, key);
    AppendKey(static_cast<int64_t>(r.values.size()), key);
    for (const Id v : r.values) AppendKey(static_cast<int64_t>(v), key);
  }
}

namespace {

void AppendTermKey(const NodeSelectorTerm& t, std::string* key) {
  AppendKey(t.expressions, key);
  AppendKey(t.fields, key);
  // A term that did not parse matches no node, whatever else it holds.
  AppendKey(static_cast<int64_t>(t.parse_errors.size()), key);
  for (const std::string& e : t.parse_errors) AppendKey(e, key);
}

}  // namespace

void AppendKey(const std::optional<NodeSelector>& selector, std::string* key) {
  if (!selector.has_value()) {
    AppendKey(int64_t{-1}, key);
    return;
  }
  AppendKey(static_cast<int64_t>(selector->terms.size()), key);
  for (const NodeSelectorTerm& t : selector->terms) AppendTermKey(t, key);
}

void AppendKey(const std::vector<PreferredSchedulingTerm>& terms, std::string* key) {
  AppendKey(static_cast<int64_t>(terms.size()), key);
  for (const PreferredSchedulingTerm& t : terms) {
    AppendKey(int64_t{t.weight}, key);
    AppendTermKey(t.term, key);
  }
}

void AppendKey(const std::vector<HostPort>& ports, std::string* key) {
  AppendKey(static_cast<int64_t>(ports.size()), key);
  for (const HostPort& p : ports) {
    AppendKey(static_cast<int64_t>(p.protocol), key);
    AppendKey(p.host_ip, key);
    AppendKey(static_cast<int64_t>(p.port), key);
  }
}

void AppendScoredRequestsKey(const Pod& pod, std::string* key) {
  AppendKey(pod.requests, key);
  AppendKey(pod.non_zero_milli_cpu, key);
  AppendKey(pod.non_zero_memory, key);
}

}  // namespace kestrel::model
