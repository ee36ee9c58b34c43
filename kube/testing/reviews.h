// File: reviews.h
//
// The fake API server's TokenReview (authentication.k8s.io/v1) and
// SubjectAccessReview (authorization.k8s.io/v1) endpoints, which a
// delegating server (kube-scheduler's secure port) calls to check a bearer
// token and a request. A test scripts them: tokens map to users, and users
// are allowed non-resource paths with a verb; everything else is not
// authenticated (TokenReview) or not allowed (SubjectAccessReview). Part of
// fake_apiserver.h, which is its API.

#ifndef KESTREL_KUBE_TESTING_REVIEWS_H_
#define KESTREL_KUBE_TESTING_REVIEWS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

// Who a token is, as TokenReview's status.user says.
struct ReviewUser {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
};

// Thread-safe.
class Reviews {
 public:
  static constexpr char kTokenReviewPath[] = "/apis/authentication.k8s.io/v1/tokenreviews";
  static constexpr char kAccessReviewPath[] =
      "/apis/authorization.k8s.io/v1/subjectaccessreviews";

  void SetToken(const std::string& token, ReviewUser user) ABSL_LOCKS_EXCLUDED(mu_);
  void AllowPath(const std::string& user, const std::string& verb, const std::string& path)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The answer to a POST of `body` to `path` (one of the two above): the
  // review with its status filled in (201), or 400 with a message for a
  // body that is no review. nullopt for other paths.
  struct Answer {
    int code;
    nlohmann::json body;  // the review, or a message for 400
  };
  std::optional<Answer> Serve(const std::string& path, const std::string& body)
      ABSL_LOCKS_EXCLUDED(mu_);

  int token_reviews() const ABSL_LOCKS_EXCLUDED(mu_);
  int access_reviews() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Answer TokenReview(nlohmann::json review) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Answer AccessReview(nlohmann::json review) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, ReviewUser> tokens_ ABSL_GUARDED_BY(mu_);
  std::set<std::tuple<std::string, std::string, std::string>> allowed_ ABSL_GUARDED_BY(mu_);
  int token_reviews_ ABSL_GUARDED_BY(mu_) = 0;
  int access_reviews_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_REVIEWS_H_
