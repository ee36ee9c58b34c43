// File: client.h
//
// The smallest part of kube/ that a host needs to talk to an API server:
// where the server is and how to authenticate (a kubeconfig file, or the
// in-cluster service account), and plain JSON requests over HTTP(S).
//
// Kubernetes answers errors with a Status object; Client turns the HTTP code
// into an absl::Status with the Status object's message, so callers can tell
// apart 404 (NotFound), 409 (Aborted: a conflict, retry on the latest
// object), 429 (ResourceExhausted: try again later) and the rest.
//
// Example:
//   absl::StatusOr<Config> config = LoadKubeconfig("~/.kube/config");
//   absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(*config);
//   absl::StatusOr<Response> nodes = (*client)->Get("/api/v1/nodes");

#ifndef KESTREL_KUBE_CLIENT_H_
#define KESTREL_KUBE_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kestrel::kube {

// How to reach one API server. File paths are what the HTTPS client reads;
// kubeconfig's *-data fields are written to private files first.
struct Config {
  std::string server;  // "https://10.0.0.1:6443" or "http://127.0.0.1:8080"
  std::string bearer_token;
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  bool insecure_skip_tls_verify = false;
  absl::Duration timeout = absl::Seconds(30);
};

// LoadKubeconfig()
//
// Reads the current context of a kubeconfig file (or the one named by
// `context` when not empty): its cluster's server, certificate-authority(-data)
// and insecure-skip-tls-verify, its user's token, tokenFile and
// client-certificate(-data) / client-key(-data). Errors name the file and the
// field. Exec and auth-provider plugins are not supported.
absl::StatusOr<Config> LoadKubeconfig(const std::string& path, const std::string& context = "");

// InClusterConfig()
//
// The service account of the pod this runs in: KUBERNETES_SERVICE_HOST and
// KUBERNETES_SERVICE_PORT, /var/run/secrets/kubernetes.io/serviceaccount/token
// and ca.crt.
absl::StatusOr<Config> InClusterConfig();

struct Response {
  int code = 0;
  std::string body;
};

// Thread-compatible: one request at a time.
class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Create(const Config& config);
  virtual ~Client() = default;

  // Each answers the body of a 2xx response; otherwise an error whose code
  // follows the HTTP code (StatusFromHttp), its message "<METHOD> <path>: "
  // and the Kubernetes Status message (or the body); Unavailable when the
  // server cannot be reached.
  virtual absl::StatusOr<Response> Get(const std::string& path) = 0;
  virtual absl::StatusOr<Response> Post(const std::string& path, const std::string& json) = 0;
  // `content_type`: application/merge-patch+json, application/json-patch+json
  // or application/strategic-merge-patch+json.
  virtual absl::StatusOr<Response> Patch(const std::string& path, const std::string& content_type,
                                         const std::string& json) = 0;
  virtual absl::StatusOr<Response> Delete(const std::string& path) = 0;
};

// StatusFromHttp()
//
// The absl::Status for an HTTP answer that is not 2xx: 404 NotFound, 409
// Aborted (a conflict), 429 ResourceExhausted, 400/422 InvalidArgument,
// 401 Unauthenticated, 403 PermissionDenied, 410 OutOfRange (too old a
// resourceVersion), 5xx Unavailable, others Unknown. The message is the
// `message` of a Status body, or "HTTP <code>: <body>" when it is not one.
absl::Status StatusFromHttp(int code, absl::string_view body);

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_CLIENT_H_
