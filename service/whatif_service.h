// File: whatif_service.h
//
// WhatIfService is the gRPC face of sim::WhatIf (api/service.proto): it
// checks a request's shape and limits, compiles its pods, asks the loaded
// cluster's WhatIf and translates the answer. It holds no logic of its own
// (DESIGN.md: service/ translates and calls).
//
// Example:
//   WhatIfService service({.max_pods_per_request = 1000});
//   service.SetBase(std::move(whatif));     // and again on each reload
//   ASSIGN_OR_RETURN(RunningServer s, StartServer({.listen = "127.0.0.1:0"}, &service));
//
// Errors: INVALID_ARGUMENT naming the field for a bad request, UNAVAILABLE
// before a cluster is loaded, NOT_FOUND for an unknown or expired fork_id,
// RESOURCE_EXHAUSTED when keep_fork finds --max-forks forks kept, DEADLINE_EXCEEDED (or CANCELLED)
// when the client's deadline passes (or it cancels) between two pods.
//
// Threading: thread-safe; gRPC calls it from many threads at once, and
// SetBase may be called while requests run (they finish on the base they
// started with).

#ifndef KESTREL_SERVICE_WHATIF_SERVICE_H_
#define KESTREL_SERVICE_WHATIF_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/service.grpc.pb.h"
#include "sim/fork_store.h"
#include "sim/whatif.h"

namespace kestrel::service {

struct ServiceOptions {
  // Pods in one Place or ScaleUp request.
  int max_pods_per_request = 10000;
  // Templates in one ScaleUp request, and nodes one template may add.
  int max_node_templates = 100;
  int64_t max_template_nodes = 10000;
  // Copies one Capacity request may place; also its limit when it asks for 0.
  int64_t max_capacity = 100000;
  // Filter/score threads per request (answers do not depend on it).
  int threads_per_request = 1;
  // Forks kept for keep_fork live this long; at most max_forks at once.
  absl::Duration fork_ttl = absl::Minutes(5);
  int max_forks = 100;
  // The clock deadlines and fork expiry are measured on; tests replace it.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // Asked first by every RPC, with its full method name
  // ("/kestrel.v1.WhatIf/Place"); a status other than OK is the answer.
  // Empty: every call is allowed (GrpcAuthorizer, grpc_auth.h, when serving
  // a cluster).
  std::function<grpc::Status(const grpc::ServerContext&, absl::string_view method)> authorize;
};

class WhatIfService final : public ::kestrel::v1::WhatIf::Service {
 public:
  explicit WhatIfService(ServiceOptions options = {});

  // SetBase()
  //
  // The cluster later requests are answered from.
  void SetBase(std::shared_ptr<const sim::WhatIf> base);

  grpc::Status Place(grpc::ServerContext* context, const ::kestrel::v1::PlaceRequest* request,
                     ::kestrel::v1::PlaceResponse* response) override;
  grpc::Status Explain(grpc::ServerContext* context, const ::kestrel::v1::ExplainRequest* request,
                       ::kestrel::v1::ExplainResponse* response) override;
  grpc::Status Capacity(grpc::ServerContext* context,
                        const ::kestrel::v1::CapacityRequest* request,
                        ::kestrel::v1::CapacityResponse* response) override;
  grpc::Status ScaleUp(grpc::ServerContext* context, const ::kestrel::v1::ScaleUpRequest* request,
                       ::kestrel::v1::ScaleUpResponse* response) override;
  grpc::Status Drain(grpc::ServerContext* context, const ::kestrel::v1::DrainRequest* request,
                     ::kestrel::v1::DrainResponse* response) override;

 private:
  std::shared_ptr<const sim::WhatIf> base() const;
  // options_.authorize of "/kestrel.v1.WhatIf/<rpc>".
  grpc::Status Authorize(const grpc::ServerContext& context, absl::string_view rpc) const;
  sim::WhatIfOptions OptionsFor(grpc::ServerContext* context,
                                const ::kestrel::v1::Options& options) const;
  // The WhatIf a request asks (the fork's, for options.fork_id, else the
  // loaded one) and its options; *kept receives the fork to keep when
  // options.keep_fork.
  grpc::Status Prepare(grpc::ServerContext* context, const ::kestrel::v1::Options& options,
                       std::shared_ptr<const sim::WhatIf>* whatif, sim::WhatIfOptions* out,
                       std::shared_ptr<const sim::KeptState>* kept);
  // What every RPC starts from: the WhatIf it asks, its options, and the
  // fork to keep.
  struct Call {
    std::shared_ptr<const sim::WhatIf> whatif;
    sim::WhatIfOptions opts;
    std::shared_ptr<const sim::KeptState> kept;
  };
  // Authorizes `rpc`, refuses a request with unknown fields, then Prepare.
  grpc::Status Begin(grpc::ServerContext* context, absl::string_view rpc,
                     const google::protobuf::Message& request,
                     const ::kestrel::v1::Options& options, Call* call);
  // The request's `pods`, compiled, at most max_pods_per_request; an error
  // names pods[i].
  grpc::Status CompilePods(const sim::WhatIf& whatif,
                           const google::protobuf::RepeatedPtrField<::k8s::io::api::core::v1::Pod>& pods,
                           std::vector<model::PodPtr>* out) const;
  // Keeps `kept` (when set) and writes its id.
  grpc::Status KeepFork(const std::shared_ptr<const sim::WhatIf>& whatif,
                        std::shared_ptr<const sim::KeptState> kept, std::string* fork_id);

  const ServiceOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const sim::WhatIf> base_;  // guarded by mu_
  sim::ForkStore forks_;
};

}  // namespace kestrel::service

#endif  // KESTREL_SERVICE_WHATIF_SERVICE_H_
