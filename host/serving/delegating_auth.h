// File: delegating_auth.h
//
// DelegatingAuth decides who may read the secure port's endpoints as
// kube-scheduler's delegated authentication and authorization do
// (k8s.io/apiserver: options/authentication.go and authorization.go,
// authentication/request/bearertoken, endpoints/filters/authentication.go
// and authorization.go):
//
//   * authentication: an `Authorization: Bearer <token>` header is checked
//     with a TokenReview (POST /apis/authentication.k8s.io/v1/tokenreviews);
//     a token that is not authenticated, or a review that fails, is 401
//     Unauthorized. A request without a bearer token is system:anonymous
//     (group system:unauthenticated). An authenticated user also gets the
//     group system:authenticated;
//   * authorization, in upstream's union order: the always-allow groups
//     (system:masters), the always-allow paths (--authorization-always-allow-paths,
//     /healthz,/readyz,/livez; "/p*" matches a prefix), then a
//     SubjectAccessReview (POST /apis/authorization.k8s.io/v1/subjectaccessreviews,
//     nonResourceAttributes path and verb, the user's name, uid, groups and
//     extra); not allowed is 403 with upstream's Status ("forbidden: User
//     \"system:anonymous\" cannot get path \"/metrics\""), a review that
//     fails is 500;
//   * answers are cached as upstream's defaults: TokenReviews 10 s,
//     SubjectAccessReviews 10 s allowed and 10 s denied;
//   * without an API client (no kubeconfig: upstream's optional remote
//     kubeconfig), tokens are not looked at (every request is anonymous)
//     and only the always-allow groups and paths are allowed.
//
// Client certificates and the requestheader front-proxy authenticator are
// not supported.
//
// Example:
//   DelegatingAuth auth(client.get(), {});
//   AuthDecision d = auth.Check(req.get_header_value("Authorization"), "GET", "/metrics");
//   if (!d.allowed) { res.status = d.code; res.set_content(d.body, d.content_type); }
//
// Thread-safe: Check may run on many threads at once.

#ifndef KESTREL_HOST_SERVING_DELEGATING_AUTH_H_
#define KESTREL_HOST_SERVING_DELEGATING_AUTH_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kube/client.h"
#include "kube/clock.h"

namespace kestrel::host {

struct AuthOptions {
  std::vector<std::string> always_allow_paths = {"/healthz", "/readyz", "/livez"};
  std::vector<std::string> always_allow_groups = {"system:masters"};
  absl::Duration token_cache_ttl = absl::Seconds(10);
  absl::Duration allow_cache_ttl = absl::Seconds(10);
  absl::Duration deny_cache_ttl = absl::Seconds(10);
  // For the caches; null is the wall clock. Must outlive the DelegatingAuth.
  kube::Clock* clock = nullptr;
};

// Who made a request, as TokenReview's status.user says.
struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

struct AuthDecision {
  bool allowed = false;
  // When not allowed: the HTTP answer.
  int code = 0;
  std::string body;
  std::string content_type;
  // When not allowed: the Status message alone, for a non-HTTP answer (the
  // gRPC service's).
  std::string message;
};

class DelegatingAuth {
 public:
  // `client` (may be null, see above) must outlive this.
  DelegatingAuth(kube::Client* client, AuthOptions options);

  // Check()
  //
  // Whether a request with this Authorization header (empty when none),
  // HTTP method and path may be served, and the answer when not.
  AuthDecision Check(absl::string_view authorization, absl::string_view method,
                     absl::string_view path) ABSL_LOCKS_EXCLUDED(mu_);

  // Whether `path` is one of the always-allow paths: served to anyone,
  // token or not (the gRPC service asks before it requires a token).
  bool PathAlwaysAllowed(absl::string_view path) const;

 private:
  struct TokenAnswer {
    bool authenticated = false;
    UserInfo user;
  };
  struct AccessAnswer {
    bool allowed = false;
    std::string reason;
  };
  template <typename T>
  struct Cached {
    T answer;
    absl::Time expires;
  };

  absl::StatusOr<TokenAnswer> ReviewToken(const std::string& token) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<AccessAnswer> ReviewAccess(const UserInfo& user, const std::string& verb,
                                            const std::string& path) ABSL_LOCKS_EXCLUDED(mu_);
  bool AlwaysAllowed(const UserInfo& user, absl::string_view path) const;
  absl::Time Now() const;

  kube::Client* client_;
  AuthOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Cached<TokenAnswer>> tokens_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Cached<AccessAnswer>> access_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_SERVING_DELEGATING_AUTH_H_
