// File: grpc_auth.h
//
// Bearer-token authorization of the what-if service's RPCs when `kestrel
// serve` is pointed at a cluster, by the API server's TokenReview and
// SubjectAccessReview, through the scheduler's delegated auth
// (host/serving/delegating_auth.h, with its caches: answers kept 10 s).
//
// An RPC is a non-resource request, as k8s.io/apiserver's RequestInfo makes
// of a request outside /api and /apis (and as kube-rbac-proxy maps one):
// the path is the gRPC method's, "/kestrel.v1.WhatIf/Place", and the verb
// the lowercased HTTP method, "post" (every gRPC call is a POST). An RBAC
// rule that allows it:
//   rules:
//   - nonResourceURLs: ["/kestrel.v1.WhatIf/*"]
//     verbs: ["post"]
//
//   * `authorization: Bearer <token>` metadata is required: without one the
//     call is UNAUTHENTICATED (upstream would try it as system:anonymous;
//     a what-if question always has an asker), unless its path is an
//     always-allow path (--authorization-always-allow-paths; "/*" allows
//     every call, as upstream's path authorizer does);
//   * a token TokenReview does not authenticate is UNAUTHENTICATED;
//   * a SubjectAccessReview that does not allow it is PERMISSION_DENIED
//     with upstream's message and the reviewer's reason ("forbidden: User
//     \"alice\" cannot post path \"/kestrel.v1.WhatIf/Place\"");
//   * a review that fails (the API server cannot be reached) is
//     UNAVAILABLE, so that clients retry.
//
// grpc.health.v1 and server reflection are not the WhatIf service's and
// are never asked about (as /healthz is always allowed upstream).
//
// Example:
//   host::DelegatingAuth auth(client.get(), {});
//   GrpcAuthorizer authorizer(&auth);
//   ServiceOptions o;
//   o.authorize = authorizer.AsHook();
//
// Thread-safe.

#ifndef KESTREL_SERVICE_GRPC_AUTH_H_
#define KESTREL_SERVICE_GRPC_AUTH_H_

#include <functional>

#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "host/serving/delegating_auth.h"

namespace kestrel::service {

class GrpcAuthorizer {
 public:
  // `auth` must outlive this.
  explicit GrpcAuthorizer(host::DelegatingAuth* auth) : auth_(auth) {}

  // Authorize()
  //
  // OK when the call to `method` ("/kestrel.v1.WhatIf/Place") may run.
  grpc::Status Authorize(const grpc::ServerContext& context, absl::string_view method) const;

  // For ServiceOptions::authorize; this must outlive the hook.
  std::function<grpc::Status(const grpc::ServerContext&, absl::string_view)> AsHook() const;

 private:
  host::DelegatingAuth* auth_;
};

}  // namespace kestrel::service

#endif  // KESTREL_SERVICE_GRPC_AUTH_H_
