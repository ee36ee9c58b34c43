#include "host/live_whatif.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kube/informer.h"
#include "util/klog/klog.h"

namespace kestrel::host {
namespace {

// How long the applier sleeps when nothing happens; it wakes at once for a
// change or Stop().
constexpr std::chrono::milliseconds kIdleWait(100);

}  // namespace

LiveWhatIf::LiveWhatIf(std::shared_ptr<kube::Client> client, LiveWhatIfOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      loader_(&cache_, names_.get(), load::LoaderOptions{options_.compile}) {}

LiveWhatIf::~LiveWhatIf() { Stop(); }

absl::Status LiveWhatIf::Start() {
  // A bad config fails here, not at the first publication.
  if (auto check = sim::WhatIf::Create(sim::Cluster(), options_.config); !check.ok()) {
    return check.status();
  }
  auto informers = ClusterInformers::Create(client_, options_.reflector, [this](ObjectChange c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      changes_.push_back(std::move(c));
    }
    changes_cv_.notify_all();
  });
  if (!informers.ok()) return informers.status();
  informers_ = *std::move(informers);
  informers_->Start();
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void LiveWhatIf::Stop() {
  stopping_ = true;
  changes_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (informers_ != nullptr) informers_->Stop();
}

std::shared_ptr<const sim::WhatIf> LiveWhatIf::base() const {
  std::lock_guard<std::mutex> lock(mu_);
  return base_;
}

void LiveWhatIf::Loop() {
  // The first base is published once synced even when the cluster is empty.
  bool dirty = true;
  while (!stopping_.load()) {
    // Synced is read before the changes are applied: an informer hands its
    // list to the callback (queued here) before it reports synced, so once
    // it says so, this ApplyChanges has the whole list.
    const bool synced = informers_->synced();
    // Before the first base, changes wait for every informer's list, and
    // then apply in one batch, namespaces, nodes and budgets before pods: the
    // base's node order, which breaks ties between equal scores, is then the
    // nodes' list order, not whichever informer was faster (a pod that comes
    // before its node would otherwise place that node first).
    const bool first = published_.load() == 0;
    if (first && !synced) {
      std::unique_lock<std::mutex> lock(mu_);
      changes_cv_.wait_for(lock, kIdleWait, [this] { return stopping_.load(); });
      continue;
    }
    const bool changed = ApplyChanges(/*by_kind=*/first);
    dirty = dirty || changed;
    if (synced && dirty) {
      Publish();
      dirty = false;
      continue;
    }
    if (changed) continue;
    std::unique_lock<std::mutex> lock(mu_);
    changes_cv_.wait_for(lock, kIdleWait,
                         [this] { return !changes_.empty() || stopping_.load(); });
  }
}

bool LiveWhatIf::ApplyChanges(bool by_kind) {
  std::deque<ObjectChange> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changes.swap(changes_);
  }
  if (by_kind) {
    // Kind's order: namespaces, nodes, budgets, pods; each informer's own
    // order kept.
    std::stable_sort(changes.begin(), changes.end(),
                     [](const ObjectChange& a, const ObjectChange& b) { return a.kind < b.kind; });
  }
  for (const ObjectChange& c : changes) {
    absl::Status s;
    switch (c.op) {
      case ObjectChange::Op::kAdd:
        s = loader_.Add(*c.object);
        break;
      case ObjectChange::Op::kUpdate:
        s = loader_.Update(*c.old_object, *c.object);
        break;
      case ObjectChange::Op::kDelete:
        s = loader_.Delete(*c.object);
        break;
    }
    if (!s.ok()) {
      absl::StatusOr<std::string> key = kube::KeyOf(*c.object);
      KLOG.ErrorS(s, "Skipping object", {{"key", key.ok() ? *key : std::string("?")}});
    }
  }
  return !changes.empty();
}

void LiveWhatIf::Publish() {
  sim::Cluster cluster;
  cluster.names = names_;
  cluster.nodes = loader_.Nodes();
  cluster.pending_pods = loader_.PendingPods();
  cluster.pdbs = loader_.Pdbs();
  cluster.priority_classes = loader_.priority_classes();
  const size_t nodes = cluster.nodes.size();
  auto base = sim::WhatIf::CreateFromCache(std::move(cluster), cache_, options_.config);
  if (!base.ok()) {
    // The config was checked at Start(): only memory could fail here.
    KLOG.ErrorS(base.status(), "Could not publish the what-if base");
    return;
  }
  std::shared_ptr<const sim::WhatIf> shared = *std::move(base);
  {
    std::lock_guard<std::mutex> lock(mu_);
    base_ = shared;
  }
  const int64_t n = ++published_;
  KLOG_V(n == 1 ? 0 : 4).InfoS("Published what-if base",
                               {{"nodes", static_cast<int64_t>(nodes)},
                                {"pods", static_cast<int64_t>(cache_.num_pods())}});
  if (options_.on_base) options_.on_base(std::move(shared));
}

}  // namespace kestrel::host
