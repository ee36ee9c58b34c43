#include "service/grpc_auth.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kestrel::service {
namespace {

// The "authorization" metadata (gRPC lowercases keys), or "".
std::string AuthorizationOf(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// Whether `header` is "Bearer <token>" with a token (the scheme in any case).
bool HasBearerToken(absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  if (header.size() <= 7 || !absl::StartsWithIgnoreCase(header, "bearer ")) return false;
  return !absl::StripAsciiWhitespace(header.substr(7)).empty();
}

}  // namespace

grpc::Status GrpcAuthorizer::Authorize(const grpc::ServerContext& context,
                                       absl::string_view method) const {
  const std::string header = AuthorizationOf(context);
  if (!HasBearerToken(header)) {
    if (auth_->PathAlwaysAllowed(method)) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "Unauthorized: the call needs \"authorization: Bearer <token>\" metadata");
  }
  const host::AuthDecision d = auth_->Check(header, "POST", method);
  if (d.allowed) return grpc::Status::OK;
  switch (d.code) {
    case 401:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, d.message);
    case 403:
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, d.message);
    default:
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, d.message);
  }
}

std::function<grpc::Status(const grpc::ServerContext&, absl::string_view)>
GrpcAuthorizer::AsHook() const {
  return [this](const grpc::ServerContext& context, absl::string_view method) {
    return Authorize(context, method);
  };
}

}  // namespace kestrel::service
