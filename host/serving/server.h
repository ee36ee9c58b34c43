// File: server.h
//
// SecureServer is `kestrel scheduler`'s secure port (--secure-port 10259 on
// --bind-address 0.0.0.0), as kube-scheduler serves it: HTTPS only (TLS 1.2
// and up), with
//
//   /healthz, /livez, /readyz   the host's named checks (healthz.h), and
//                               /<endpoint>/<check> for one check;
//   /metrics                    the Prometheus exposition the host renders;
//   /configz                    the JSON document the host provides;
//
// every request first passing DelegatingAuth (delegating_auth.h): 401 for a
// bad token, 403 for a request not allowed; health endpoints are always
// allowed. Paths it does not serve are 404 after authorization, as
// upstream's handler chain answers them.
//
// The certificate is --tls-cert-file and --tls-private-key-file when given,
// else one generated at start (certs.h) for "localhost", with SANs
// localhost, this host's name and 127.0.0.1 (or the bind address when it is
// a specific one).
//
// Example:
//   ServingEndpoints endpoints;
//   endpoints.readyz = {PingCheck(), {"sched-handler-sync", synced}};
//   endpoints.metrics = [&] { return metrics.Exposition(); };
//   absl::StatusOr<std::unique_ptr<SecureServer>> server =
//       SecureServer::Start(options, std::move(endpoints), &auth);
//
// Thread-safe: requests are served on a pool of threads; the endpoint
// functions must be thread-safe.

#ifndef KESTREL_HOST_SERVING_SERVER_H_
#define KESTREL_HOST_SERVING_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "host/serving/delegating_auth.h"
#include "host/serving/healthz.h"

namespace httplib {
class Server;
}

namespace kestrel::host {

struct ServingOptions {
  std::string bind_address = "0.0.0.0";
  // 0: a free port (tests).
  int secure_port = 10259;
  std::string tls_cert_file;
  std::string tls_private_key_file;
  // A SAN of the generated certificate; "": gethostname().
  std::string hostname;
  int threads = 8;
};

struct ServingEndpoints {
  // Empty lists answer with upstream's default check, "ping".
  std::vector<HealthCheck> healthz;
  std::vector<HealthCheck> livez;
  std::vector<HealthCheck> readyz;
  // Not set: the endpoint is 404.
  std::function<std::string()> metrics;
  std::function<std::string()> configz;
};

class SecureServer {
 public:
  // Start()
  //
  // Listens and serves on its own threads. `auth` must outlive the server.
  // InvalidArgument for unreadable or mismatched certificate files (naming
  // the flag and the file); Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<SecureServer>> Start(ServingOptions options,
                                                             ServingEndpoints endpoints,
                                                             DelegatingAuth* auth);
  ~SecureServer();
  SecureServer(const SecureServer&) = delete;
  SecureServer& operator=(const SecureServer&) = delete;

  int port() const { return port_; }
  // The certificate chain it serves, PEM (the generated one, or the file's).
  const std::string& certificate_pem() const { return cert_pem_; }

 private:
  SecureServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
  std::string cert_pem_;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_SERVING_SERVER_H_
