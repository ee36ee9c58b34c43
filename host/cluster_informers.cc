#include "host/cluster_informers.h"

#include <iterator>
#include <string>
#include <utility>

#include "kube/http_list_watch.h"
#include "util/klog/klog.h"

namespace kestrel::host {

absl::StatusOr<std::unique_ptr<ClusterInformers>> ClusterInformers::Create(
    std::shared_ptr<kube::Client> client, const kube::ReflectorOptions& reflector,
    std::function<void(ObjectChange)> on_change) {
  std::unique_ptr<ClusterInformers> out(new ClusterInformers());
  const kube::Resource resources[] = {kube::NamespacesResource(), kube::NodesResource(),
                                      kube::PodDisruptionBudgetsResource(),
                                      kube::PodsResource()};
  const ObjectChange::Kind kinds[] = {ObjectChange::Kind::kNamespace, ObjectChange::Kind::kNode,
                                      ObjectChange::Kind::kPdb, ObjectChange::Kind::kPod};
  kube::Informer** slots[] = {&out->namespaces_, &out->nodes_, &out->pdbs_, &out->pods_};
  // Shared by the handlers of every kind.
  auto shared = std::make_shared<std::function<void(ObjectChange)>>(std::move(on_change));
  for (size_t i = 0; i < std::size(resources); ++i) {
    const ObjectChange::Kind kind = kinds[i];
    kube::ReflectorOptions options = reflector;
    if (!options.on_error) {
      const std::string what = resources[i].description;
      options.on_error = [what](const absl::Status& s) {
        KLOG.ErrorS(s, "Failed to watch", {{"resource", what}});
      };
    }
    auto informer = std::make_unique<kube::Informer>(
        std::make_unique<kube::HttpListerWatcher>(client, resources[i]), std::move(options));
    kube::EventHandlers handlers;
    handlers.on_add = [shared, kind](const kube::Object& o) {
      (*shared)({kind, ObjectChange::Op::kAdd, nullptr, o});
    };
    handlers.on_update = [shared, kind](const kube::Object& old_object, const kube::Object& o) {
      (*shared)({kind, ObjectChange::Op::kUpdate, old_object, o});
    };
    handlers.on_delete = [shared, kind](const kube::DeletedObject& d) {
      (*shared)({kind, ObjectChange::Op::kDelete, nullptr, kube::LastState(d)});
    };
    if (absl::Status s = informer->AddEventHandler(std::move(handlers)); !s.ok()) return s;
    *slots[i] = informer.get();
    out->informers_.push_back(std::move(informer));
  }
  return out;
}

ClusterInformers::~ClusterInformers() { Stop(); }

void ClusterInformers::Start() {
  for (auto& informer : informers_) informer->Start();
}

void ClusterInformers::Stop() {
  for (auto& informer : informers_) informer->Stop();
}

bool ClusterInformers::synced() const {
  if (informers_.empty()) return false;
  for (const auto& informer : informers_) {
    if (!informer->HasSynced()) return false;
  }
  return true;
}

}  // namespace kestrel::host
