#include "service/server.h"

#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"

namespace kestrel::service {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  absl::StatusOr<std::string> content = api::ReadFile(path);
  if (!content.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", content.status().message()));
  }
  return content;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServerOptions& options) {
  const bool cert = !options.tls_cert_file.empty();
  const bool key = !options.tls_private_key_file.empty();
  if (cert != key) {
    return absl::InvalidArgumentError(
        "--tls-cert-file and --tls-private-key-file: give both or neither");
  }
  if (!cert) {
    if (!options.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--client-ca-file: needs --tls-cert-file and --tls-private-key-file");
    }
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<std::string> cert_pem = ReadPem("--tls-cert-file", options.tls_cert_file);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem =
      ReadPem("--tls-private-key-file", options.tls_private_key_file);
  if (!key_pem.ok()) return key_pem.status();
  grpc::SslServerCredentialsOptions ssl(
      options.client_ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!options.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("--client-ca-file", options.client_ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
  }
  ssl.pem_key_cert_pairs.push_back({*key_pem, *cert_pem});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

absl::StatusOr<RunningServer> StartServer(const ServerOptions& options, grpc::Service* whatif) {
  auto credentials = Credentials(options);
  if (!credentials.ok()) return credentials.status();
  // Both are process-wide switches that the builder reads.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  RunningServer out;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &out.port);
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  builder.RegisterService(whatif);
  out.server = builder.BuildAndStart();
  if (out.server == nullptr || out.port == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: cannot listen on \"", options.listen, "\""));
  }
  if (options.start_not_serving) out.server->GetHealthCheckService()->SetServingStatus(false);
  return out;
}

}  // namespace kestrel::service
