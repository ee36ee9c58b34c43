// File: registry.h
//
// Registry maps upstream plugin names to factories. Each plugin declares its
// typed args message (a proto in api/config/config.proto); the registry decodes
// `pluginConfig[].args` into that type before calling the factory, so a plugin
// never downcasts untyped args.
//
// Example:
//   Registry r;
//   r.Register<config::NodeResourcesFitArgs>(
//       "NodeResourcesFit",
//       [](const config::NodeResourcesFitArgs& args, const Handle& h) {
//         return Fit::Create(args);
//       });

#ifndef KESTREL_SCHEDULER_FRAMEWORK_REGISTRY_H_
#define KESTREL_SCHEDULER_FRAMEWORK_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"
#include "scheduler/framework/interface.h"

namespace kestrel::framework {

using PluginFactory = std::function<absl::StatusOr<std::unique_ptr<Plugin>>(
    const google::protobuf::Message& args, const Handle& handle)>;

class Registry {
 public:
  struct Entry {
    std::shared_ptr<const google::protobuf::Message> default_args;
    PluginFactory factory;
  };

  // Register()
  //
  // Adds `name` with args of type Args. A duplicate name is an error.
  template <typename Args>
  absl::Status Register(
      const std::string& name,
      std::function<absl::StatusOr<std::unique_ptr<Plugin>>(const Args&, const Handle&)>
          factory) {
    if (entries_.count(name) > 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("a plugin named ", name, " already exists"));
    }
    entries_[name] = Entry{
        std::make_shared<Args>(),
        [factory](const google::protobuf::Message& args, const Handle& h) {
          return factory(static_cast<const Args&>(args), h);
        }};
    return absl::OkStatus();
  }

  const Entry* Find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_REGISTRY_H_
