// File: default_binder.h
//
// DefaultBinder, the default Bind plugin: hands the binding to the host's
// Binder (the API server's Binding subresource, or the simulator).

#ifndef KESTREL_SCHEDULER_DEFAULT_BINDER_H_
#define KESTREL_SCHEDULER_DEFAULT_BINDER_H_

#include "scheduler/framework/interface.h"

namespace kestrel::scheduler {

class DefaultBinder final : public framework::BindPlugin {
 public:
  static constexpr char kName[] = "DefaultBinder";
  explicit DefaultBinder(framework::Binder* binder) : binder_(binder) {}
  absl::string_view Name() const override { return kName; }

  framework::Status Bind(framework::CycleState&, const model::Pod& pod,
                         const std::string& node_name) override {
    if (binder_ == nullptr) return framework::Status();
    absl::Status s = binder_->Bind(pod, node_name);
    if (!s.ok()) return framework::Status::Error(std::string(s.message()));
    return framework::Status();
  }

 private:
  framework::Binder* binder_;
};

}  // namespace kestrel::scheduler

#endif  // KESTREL_SCHEDULER_DEFAULT_BINDER_H_
