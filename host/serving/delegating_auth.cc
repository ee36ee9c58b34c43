#include "host/serving/delegating_auth.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "util/klog/klog.h"

namespace kestrel::host {
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr char kTokenReviews[] = "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr char kAccessReviews[] = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
constexpr char kAnonymous[] = "system:anonymous";
constexpr char kUnauthenticated[] = "system:unauthenticated";
constexpr char kAuthenticated[] = "system:authenticated";
constexpr char kJson[] = "application/json";

// A metav1.Status as the API server's JSON serializer writes it: fields in
// Go's order, <>& escaped as encoding/json does, a newline at the end.
std::string StatusBody(int code, const std::string& reason, const std::string& message,
                       bool details) {
  ordered_json status = {{"kind", "Status"},       {"apiVersion", "v1"},
                         {"metadata", ordered_json::object()}, {"status", "Failure"},
                         {"message", message},     {"reason", reason}};
  if (details) status["details"] = ordered_json::object();
  status["code"] = code;
  const std::string out = absl::StrReplaceAll(
      status.dump(), {{"<", "\\u003c"}, {">", "\\u003e"}, {"&", "\\u0026"}});
  return absl::StrCat(out, "\n");
}

// bearertoken.AuthenticateRequest: the token of "Bearer <token>" (the
// scheme in any case), or "" when the header holds none.
std::string BearerToken(absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  std::vector<absl::string_view> parts = absl::StrSplit(header, absl::MaxSplits(' ', 2));
  if (parts.size() < 2 || absl::AsciiStrToLower(parts[0]) != "bearer") return "";
  return std::string(parts[1]);
}

// path.NewAuthorizer: a leading "/" is optional; a trailing "*" matches a
// prefix.
bool PathMatches(absl::string_view pattern, absl::string_view path) {
  absl::ConsumePrefix(&pattern, "/");
  absl::ConsumePrefix(&path, "/");
  if (absl::ConsumeSuffix(&pattern, "*")) return absl::StartsWith(path, pattern);
  return pattern == path;
}

std::string AccessKey(const UserInfo& user, const std::string& verb, const std::string& path) {
  ordered_json key = {{"u", user.name}, {"i", user.uid}, {"g", user.groups},
                      {"e", user.extra}, {"v", verb},     {"p", path}};
  return key.dump();
}

}  // namespace

DelegatingAuth::DelegatingAuth(kube::Client* client, AuthOptions options)
    : client_(client), options_(std::move(options)) {}

absl::Time DelegatingAuth::Now() const {
  return options_.clock != nullptr ? options_.clock->Now() : absl::Now();
}

bool DelegatingAuth::AlwaysAllowed(const UserInfo& user, absl::string_view path) const {
  for (const std::string& group : user.groups) {
    if (std::find(options_.always_allow_groups.begin(), options_.always_allow_groups.end(),
                  group) != options_.always_allow_groups.end()) {
      return true;
    }
  }
  return PathAlwaysAllowed(path);
}

bool DelegatingAuth::PathAlwaysAllowed(absl::string_view path) const {
  for (const std::string& pattern : options_.always_allow_paths) {
    if (PathMatches(pattern, path)) return true;
  }
  return false;
}

AuthDecision DelegatingAuth::Check(absl::string_view authorization, absl::string_view method,
                                   absl::string_view path) {
  // Authentication.
  UserInfo user{kAnonymous, "", {kUnauthenticated}, {}};
  const std::string token = BearerToken(authorization);
  if (!token.empty() && client_ != nullptr) {
    absl::StatusOr<TokenAnswer> answer = ReviewToken(token);
    if (!answer.ok() || !answer->authenticated) {
      KLOG.ErrorS(answer.ok() ? absl::UnauthenticatedError("invalid bearer token")
                              : answer.status(),
                  "Unable to authenticate the request");
      return {false, 401, StatusBody(401, "Unauthorized", "Unauthorized", false), kJson,
              "Unauthorized"};
    }
    user = std::move(answer->user);
    // group.AuthenticatedGroupAdder.
    if (std::find(user.groups.begin(), user.groups.end(), kAuthenticated) == user.groups.end() &&
        std::find(user.groups.begin(), user.groups.end(), kUnauthenticated) ==
            user.groups.end() &&
        user.name != kAnonymous) {
      user.groups.push_back(kAuthenticated);
    }
  }
  // Authorization.
  if (AlwaysAllowed(user, path)) return {true, 0, "", ""};
  const std::string verb = absl::AsciiStrToLower(method);
  AccessAnswer access;
  if (client_ != nullptr) {
    absl::StatusOr<AccessAnswer> answer = ReviewAccess(user, verb, std::string(path));
    if (!answer.ok()) {
      // responsewriters.InternalError.
      const std::string text = absl::StrCat("Internal Server Error: ", klog::GoQuote(path), ": ",
                                            answer.status().message());
      return {false, 500, absl::StrCat(text, "\n"), "text/plain; charset=utf-8", text};
    }
    access = *std::move(answer);
  }
  if (access.allowed) return {true, 0, "", ""};
  std::string message = absl::StrCat("forbidden: User ", klog::GoQuote(user.name), " cannot ",
                                     verb, " path ", klog::GoQuote(path));
  if (!access.reason.empty()) absl::StrAppend(&message, ": ", access.reason);
  KLOG_V(4).InfoS("Forbidden", {{"URI", path}, {"reason", access.reason}});
  return {false, 403, StatusBody(403, "Forbidden", message, true), kJson, message};
}

absl::StatusOr<DelegatingAuth::TokenAnswer> DelegatingAuth::ReviewToken(
    const std::string& token) {
  const absl::Time now = Now();
  {
    absl::MutexLock lock(&mu_);
    if (auto it = tokens_.find(token); it != tokens_.end() && it->second.expires > now) {
      return it->second.answer;
    }
  }
  const ordered_json review = {{"apiVersion", "authentication.k8s.io/v1"},
                               {"kind", "TokenReview"},
                               {"spec", {{"token", token}}}};
  absl::StatusOr<kube::Response> response = client_->Post(kTokenReviews, review.dump());
  if (!response.ok()) return response.status();
  const nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return absl::InternalError(absl::StrCat("POST ", kTokenReviews, ": the answer is no JSON"));
  }
  TokenAnswer answer;
  const nlohmann::json status = body.value("status", nlohmann::json::object());
  answer.authenticated = status.value("authenticated", false);
  if (answer.authenticated) {
    const nlohmann::json u = status.value("user", nlohmann::json::object());
    answer.user.name = u.value("username", "");
    answer.user.uid = u.value("uid", "");
    answer.user.groups = u.value("groups", std::vector<std::string>{});
    answer.user.extra =
        u.value("extra", std::map<std::string, std::vector<std::string>>{});
  }
  absl::MutexLock lock(&mu_);
  if (tokens_.size() > 10000) tokens_.clear();  // bounds the cache; answers are cheap to redo
  tokens_[token] = {answer, now + options_.token_cache_ttl};
  return answer;
}

absl::StatusOr<DelegatingAuth::AccessAnswer> DelegatingAuth::ReviewAccess(
    const UserInfo& user, const std::string& verb, const std::string& path) {
  const std::string key = AccessKey(user, verb, path);
  const absl::Time now = Now();
  {
    absl::MutexLock lock(&mu_);
    if (auto it = access_.find(key); it != access_.end() && it->second.expires > now) {
      return it->second.answer;
    }
  }
  ordered_json spec = {{"nonResourceAttributes", {{"path", path}, {"verb", verb}}},
                       {"user", user.name},
                       {"groups", user.groups}};
  if (!user.extra.empty()) spec["extra"] = user.extra;
  if (!user.uid.empty()) spec["uid"] = user.uid;
  const ordered_json review = {{"apiVersion", "authorization.k8s.io/v1"},
                               {"kind", "SubjectAccessReview"},
                               {"spec", std::move(spec)}};
  absl::StatusOr<kube::Response> response = client_->Post(kAccessReviews, review.dump());
  if (!response.ok()) return response.status();
  const nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return absl::InternalError(absl::StrCat("POST ", kAccessReviews, ": the answer is no JSON"));
  }
  const nlohmann::json status = body.value("status", nlohmann::json::object());
  AccessAnswer answer{status.value("allowed", false), status.value("reason", "")};
  absl::MutexLock lock(&mu_);
  if (access_.size() > 10000) access_.clear();
  access_[key] = {answer,
                  now + (answer.allowed ? options_.allow_cache_ttl : options_.deny_cache_ttl)};
  return answer;
}

}  // namespace kestrel::host
