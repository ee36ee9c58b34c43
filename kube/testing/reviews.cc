#include "kube/testing/reviews.h"

#include <string>
#include <utility>

namespace kestrel::kube::testing {

using nlohmann::json;

void Reviews::SetToken(const std::string& token, ReviewUser user) {
  absl::MutexLock lock(&mu_);
  tokens_[token] = std::move(user);
}

void Reviews::AllowPath(const std::string& user, const std::string& verb,
                        const std::string& path) {
  absl::MutexLock lock(&mu_);
  allowed_.insert({user, verb, path});
}

int Reviews::token_reviews() const {
  absl::MutexLock lock(&mu_);
  return token_reviews_;
}

int Reviews::access_reviews() const {
  absl::MutexLock lock(&mu_);
  return access_reviews_;
}

std::optional<Reviews::Answer> Reviews::Serve(const std::string& path, const std::string& body) {
  if (path != kTokenReviewPath && path != kAccessReviewPath) return std::nullopt;
  json review = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const bool token = path == kTokenReviewPath;
  const char* kind = token ? "TokenReview" : "SubjectAccessReview";
  if (review.is_discarded() || !review.is_object() || !review.contains("spec") ||
      !review["spec"].is_object()) {
    return Answer{400, std::string(kind) + " body is not a JSON object with a spec"};
  }
  absl::MutexLock lock(&mu_);
  return token ? TokenReview(std::move(review)) : AccessReview(std::move(review));
}

// pkg/registry/authentication/tokenreview: the spec is kept, the status
// says who the token is, or that it is no one's.
Reviews::Answer Reviews::TokenReview(json review) {
  ++token_reviews_;
  const json& token = review["spec"].value("token", json());
  if (!token.is_string() || token.get<std::string>().empty()) {
    return {400, "TokenReview spec.token: Required value: token must be specified"};
  }
  json status = json::object();
  if (auto it = tokens_.find(token.get<std::string>()); it != tokens_.end()) {
    status["authenticated"] = true;
    status["user"] = {{"username", it->second.name}, {"groups", it->second.groups}};
    if (!it->second.uid.empty()) status["user"]["uid"] = it->second.uid;
  } else {
    status["user"] = json::object();
    status["error"] = "invalid bearer token";
  }
  review["status"] = std::move(status);
  review["apiVersion"] = "authentication.k8s.io/v1";
  review["kind"] = "TokenReview";
  return {201, std::move(review)};
}

// pkg/registry/authorization/subjectaccessreview: allowed when the test
// allowed the user the non-resource path and verb; resource requests are
// never allowed here.
Reviews::Answer Reviews::AccessReview(json review) {
  ++access_reviews_;
  const json& spec = review["spec"];
  const json user = spec.value("user", json(""));
  const json attrs = spec.value("nonResourceAttributes", json::object());
  bool allowed = false;
  if (user.is_string() && attrs.is_object()) {
    const json path = attrs.value("path", json(""));
    const json verb = attrs.value("verb", json(""));
    if (path.is_string() && verb.is_string()) {
      allowed = allowed_.count({user.get<std::string>(), verb.get<std::string>(),
                                path.get<std::string>()}) > 0;
    }
  }
  review["status"] = {{"allowed", allowed}};
  review["apiVersion"] = "authorization.k8s.io/v1";
  review["kind"] = "SubjectAccessReview";
  return {201, std::move(review)};
}

}  // namespace kestrel::kube::testing
