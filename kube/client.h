// File: client.h
//
// The API server client: where the server is and how to authenticate (a
// kubeconfig file, or the in-cluster service account), and requests in
// Kubernetes' JSON and protobuf forms, with client-go's limits:
//
//   * one token bucket (ClientOptions qps and burst) for every request of a
//     client, retries included, as client-go's rest client has;
//   * connections are kept and reused: requests run on a pool of libcurl
//     handles, each holding its own keep-alive connection (HTTP/2 over TLS
//     when the server offers it), so that concurrent requests run at once
//     and a request after another one does no new TCP or TLS handshake;
//   * content negotiation: typed requests for built-in kinds ask for
//     `application/vnd.kubernetes.protobuf, application/json` (the
//     configured contentType, kube-scheduler's default) and send protobuf;
//     other types, and the string-bodied Get/Post/Patch/Put/Delete, use JSON;
//   * retries, after client-go's rest.Request (checkWait, IsNextRetry, at
//     most 10): a 429 whose Retry-After gives seconds is retried after them,
//     whatever the method; a 5xx is retried only for idempotent requests
//     (after its Retry-After, else with exponential backoff), and so is a
//     connection that broke after it was made. A server that cannot be
//     reached at all, or whose certificate does not verify, is an error at
//     once, as in client-go;
//   * TLS verified against the kubeconfig's CA; bearer tokens and key
//     material never appear in errors or logs.
//
// Kubernetes answers errors with a Status object; the client turns the HTTP
// code into an absl::Status with the Status object's message, so callers can
// tell apart 404 (NotFound), 409 (Aborted: a conflict, retry on the latest
// object), 429 (ResourceExhausted: try again later) and the rest. Every error
// starts with the request: "GET /api/v1/nodes: ...".
//
// Example:
//   absl::StatusOr<Config> config = LoadKubeconfig("~/.kube/config");
//   absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(*config, options);
//   k8s::io::api::core::v1::NodeList nodes;
//   absl::Status s = (*client)->GetObject("/api/v1/nodes", &nodes);
//
//   Cancellation stop;  // stop.Cancel() from another thread ends the watch
//   s = (*client)->Watch("/api/v1/pods?watch=1&resourceVersion=42",
//                        k8s::io::api::core::v1::Pod::default_instance(),
//                        [](DecodedEvent e) { ...; return absl::OkStatus(); }, &stop);

#ifndef KESTREL_KUBE_CLIENT_H_
#define KESTREL_KUBE_CLIENT_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/config/config.pb.h"
#include "google/protobuf/message.h"
#include "kube/clock.h"
#include "kube/codec.h"
#include "kube/flowcontrol.h"

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

// How a client talks: KubeSchedulerConfiguration's clientConnection and
// client-go's rest.Config knobs.
struct ClientOptions {
  // A token bucket of `burst` tokens refilled at `qps` per second, shared by
  // all requests of the client. As in client-go's rest.Config, 0 means
  // client-go's defaults (5 and 10) and a negative qps means no limit; the
  // defaults here are kube-scheduler's (50 and 100).
  float qps = 50;
  int burst = 100;
  // The body of typed requests for built-in kinds, and what they accept.
  // An empty accept_content_types is "<content_type>, application/json".
  std::string content_type = kContentTypeProtobuf;
  std::string accept_content_types;
  // client-go's rest.Request maxRetries.
  int max_retries = 10;
  // Exponential backoff for retries the server gives no Retry-After for:
  // initial_backoff, doubling, at most max_backoff.
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(10);
  // Connections kept open when idle (client-go's MaxIdleConnsPerHost).
  int max_idle_connections = 25;
  std::string user_agent = "kestrel";
  // For the rate limiter and the waits between retries; null is the wall
  // clock. Must outlive the client.
  Clock* clock = nullptr;
};

// ClientOptionsFromConfig()
//
// Options from a clientConnection, with kube-scheduler's defaults for what
// is unset (pkg/scheduler/apis/config/v1 SetDefaults: contentType
// application/vnd.kubernetes.protobuf, qps 50, burst 100) and component-base's
// validation (a negative burst is an error).
absl::StatusOr<ClientOptions> ClientOptionsFromConfig(const config::ClientConnection& connection);

// One request. `path` includes the query ("/api/v1/pods?watch=1").
struct Request {
  std::string method = "GET";
  std::string path;
  std::string body;
  std::string content_type;  // of `body`
  std::string accept;        // "" asks for application/json
  // Whether it is safe to send again after a 5xx or a broken connection;
  // unset: true for GET and HEAD.
  std::optional<bool> idempotent;
  // Stream() only: when nothing arrives for this long (whole seconds, at
  // least one), the connection counts as dead and the stream ends
  // Unavailable. Zero: no limit.
  absl::Duration idle_timeout = absl::ZeroDuration();
};

struct Response {
  int code = 0;
  std::string body;
  std::string content_type;
};

// Cancels a request from another thread: Cancel() makes a running Stream
// (and Watch) return Cancelled promptly, and any later one at once.
//
// Thread-safe.
class Cancellation {
 public:
  void Cancel();
  bool cancelled() const;

  // For Client implementations: `wake` is called (under a lock, so it must
  // be quick) when Cancel() is; null clears it.
  void SetWaker(std::function<void()> wake);

 private:
  // std::mutex, for ThreadSanitizer (Debian's Abseil is not built for
  // it): Cancel() runs on another thread than the stream it ends.
  mutable std::mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> wake_ ABSL_GUARDED_BY(mu_);
};

// Thread-safe: any number of threads may issue requests at once.
class Client {
 public:
  // Create()
  //
  // A client for `config`'s server. Nothing is connected yet: a server that
  // is not there fails the first request, naming it.
  static absl::StatusOr<std::unique_ptr<Client>> Create(const Config& config,
                                                        const ClientOptions& options = {});
  virtual ~Client() = default;

  // Do()
  //
  // Sends `request` (through the rate limiter, with retries) and answers a
  // 2xx response; otherwise an error whose code follows the HTTP code
  // (StatusFromHttp), its message "<METHOD> <path>: " and the Kubernetes
  // Status message (or the body); Unavailable when the server cannot be
  // reached.
  virtual absl::StatusOr<Response> Do(const Request& request) = 0;

  // How Stream hands over a response: `on_start` once, when a 2xx response
  // begins (its code and content_type; body empty), then `on_data` for
  // every chunk of the body as it arrives. An error from either ends the
  // stream and is returned as is.
  struct StreamHandler {
    std::function<absl::Status(const Response& head)> on_start;
    std::function<absl::Status(absl::string_view chunk)> on_data;
  };

  // Stream()
  //
  // Do() for a response read as it arrives (a watch): no overall timeout.
  // Retries happen only before a response has begun. OK when the server
  // ends the body; Cancelled when `cancel` (may be null) is cancelled;
  // Unavailable when the connection breaks or stays silent for the
  // request's idle_timeout.
  virtual absl::Status Stream(const Request& request, const StreamHandler& handler,
                              Cancellation* cancel) = 0;

  // JSON requests: the body is JSON, and so is what they accept.
  absl::StatusOr<Response> Get(const std::string& path);
  absl::StatusOr<Response> Post(const std::string& path, const std::string& json);
  absl::StatusOr<Response> Put(const std::string& path, const std::string& json);
  // `content_type`: application/merge-patch+json, application/json-patch+json
  // or application/strategic-merge-patch+json.
  absl::StatusOr<Response> Patch(const std::string& path, const std::string& content_type,
                                 const std::string& json);
  absl::StatusOr<Response> Delete(const std::string& path);

  // Typed requests, in the negotiated content type (see the file comment).
  //
  // GetObject() decodes the response into `out`. CreateObject() POSTs and
  // UpdateObject() PUTs `object` and decode the answer into `out` when it is
  // not null. An update that carries metadata.resourceVersion is
  // idempotent (a second attempt conflicts rather than applying twice), so
  // it is retried as a GET is.
  absl::Status GetObject(const std::string& path, google::protobuf::Message* out);
  absl::Status CreateObject(const std::string& path, const google::protobuf::Message& object,
                            google::protobuf::Message* out = nullptr);
  absl::Status UpdateObject(const std::string& path, const google::protobuf::Message& object,
                            google::protobuf::Message* out = nullptr);

  // Watch()
  //
  // Streams `path` (a watch request) and hands each event to `sink`, its
  // object of `prototype`'s type (a meta/v1 Status for ERROR events). Ends
  // as Stream() does; a stream that ends inside an event is DataLoss.
  absl::Status Watch(const std::string& path, const google::protobuf::Message& prototype,
                     const WatchDecoder::Sink& sink, Cancellation* cancel);

  // What typed requests for `type` send and accept.
  std::string ContentTypeFor(const google::protobuf::Descriptor* type) const;
  std::string AcceptFor(const google::protobuf::Descriptor* type) const;

  const ClientOptions& options() const { return options_; }

 protected:
  // Test fakes implement Do and Stream; the options only shape typed
  // requests.
  Client() = default;
  explicit Client(ClientOptions options) : options_(std::move(options)) {}

 private:
  absl::Status Write(const std::string& method, const std::string& path,
                     const google::protobuf::Message& object, google::protobuf::Message* out,
                     bool idempotent);

  ClientOptions options_;
};

// StatusFromHttp()
//
// The absl::Status for an HTTP answer that is not 2xx: 404 NotFound, 409
// Aborted (a conflict), 429 ResourceExhausted, 400/422 InvalidArgument,
// 401 Unauthenticated, 403 PermissionDenied, 410 OutOfRange (too old a
// resourceVersion), 5xx Unavailable, others Unknown. The message is the
// `message` of a Status body (JSON or protobuf), or "HTTP <code>: <body>"
// (its start, escaped) when it is not one.
absl::Status StatusFromHttp(int code, absl::string_view body);

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_CLIENT_H_
