#include "model/resources.h"

#include <algorithm>
#include <limits>

#include "absl/strings/match.h"

namespace kestrel::model {

bool IsExtendedResourceName(absl::string_view name) {
  const bool native = !absl::StrContains(name, '/') || absl::StrContains(name, "kubernetes.io/");
  return !native && !absl::StartsWith(name, "requests.");
}

bool IsScalarResourceName(absl::string_view name) {
  return IsExtendedResourceName(name) || absl::StartsWith(name, "hugepages-") ||
         absl::StartsWith(name, "attachable-volumes-") ||
         absl::StrContains(name, "kubernetes.io/");
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    return b > 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  }
  return out;
}

int64_t Resources::Scalar(Id name) const {
  for (const auto& [id, v] : scalar) {
    if (id == name) return v;
  }
  return 0;
}

void Resources::SetScalar(Id name, int64_t value) {
  auto it = std::lower_bound(
      scalar.begin(), scalar.end(), name,
      [](const std::pair<Id, int64_t>& p, Id n) { return p.first < n; });
  if (it != scalar.end() && it->first == name) {
    it->second = value;
  } else {
    scalar.insert(it, {name, value});
  }
}

namespace {
template <typename Fn>
void Combine(Resources& r, const Resources& o, Fn fn) {
  r.milli_cpu = fn(r.milli_cpu, o.milli_cpu);
  r.memory = fn(r.memory, o.memory);
  r.ephemeral_storage = fn(r.ephemeral_storage, o.ephemeral_storage);
  for (const auto& [id, v] : o.scalar) r.SetScalar(id, fn(r.Scalar(id), v));
}
}  // namespace

void Resources::Add(const Resources& o) { Combine(*this, o, SaturatingAdd); }

void Resources::Subtract(const Resources& o) {
  Combine(*this, o, [](int64_t a, int64_t b) { return SaturatingAdd(a, -b); });
}

void Resources::Max(const Resources& o) {
  Combine(*this, o, [](int64_t a, int64_t b) { return std::max(a, b); });
}

bool Resources::IsZero() const {
  if (milli_cpu != 0 || memory != 0 || ephemeral_storage != 0) return false;
  for (const auto& [id, v] : scalar) {
    if (v != 0) return false;
  }
  return true;
}

}  // namespace kestrel::model
