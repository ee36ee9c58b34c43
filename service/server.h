// File: server.h
//
// StartServer runs the what-if service on a gRPC server: the WhatIf service,
// the standard grpc.health.v1 health service (SERVING once started, unless
// start_not_serving) and
// server reflection (grpc.reflection.v1alpha, so `grpcurl` can list and
// call the service), over plain TCP or TLS, with mutual TLS when a client
// CA is given.
//
// Example:
//   ServerOptions o;
//   o.listen = "127.0.0.1:0";
//   ASSIGN_OR_RETURN(RunningServer s, StartServer(o, &service));
//   // ... s.port is the port bound; s.server->Shutdown() stops it.

#ifndef KESTREL_SERVICE_SERVER_H_
#define KESTREL_SERVICE_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace kestrel::service {

struct ServerOptions {
  // host:port; port 0 picks a free one.
  std::string listen;
  // PEM files. Both or neither of cert and key; the client CA needs them,
  // and makes the server require and verify client certificates.
  std::string tls_cert_file;
  std::string tls_private_key_file;
  std::string client_ca_file;
  // Larger requests are refused with RESOURCE_EXHAUSTED before decoding.
  int max_request_bytes = 16 << 20;
  // grpc.health.v1 answers NOT_SERVING from the start, until the caller
  // says otherwise (server->GetHealthCheckService()->SetServingStatus(true)):
  // `kestrel serve --kubeconfig` is not ready before its informers synced.
  bool start_not_serving = false;
};

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

// StartServer()
//
// Errors name the flag: an unreadable TLS file, a client CA without a
// certificate, an address that cannot be listened on.
absl::StatusOr<RunningServer> StartServer(const ServerOptions& options, grpc::Service* whatif);

}  // namespace kestrel::service

#endif  // KESTREL_SERVICE_SERVER_H_
