#include "model/interner.h"

namespace kestrel::model {

Id Interner::Intern(absl::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  const Id id = static_cast<Id>(names_.size());
  names_.emplace_back(s);
  ids_.emplace(names_.back(), id);
  return id;
}

Id Interner::Find(absl::string_view s) const {
  auto it = ids_.find(s);
  return it == ids_.end() ? kNoId : it->second;
}

}  // namespace kestrel::model
