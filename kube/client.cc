#include "kube/client.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "api/decode.h"
#include "yaml-cpp/yaml.h"

namespace kestrel::kube {
namespace {

constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

// Writes `contents` to a new private file (mode 0600) and returns its path.
absl::StatusOr<std::string> WritePrivateFile(const std::string& contents) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                  "/kestrel-kubeconfig-XXXXXX");
  const int fd = mkstemp(path.data());
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": cannot create"));
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = write(fd, p, left);
    if (n <= 0) {
      close(fd);
      return absl::InternalError(absl::StrCat(path, ": cannot write"));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  close(fd);
  return path;
}

// The entry of list `field` (clusters, users, contexts) named `name`.
absl::StatusOr<YAML::Node> Named(const YAML::Node& root, const std::string& file,
                                 const std::string& field, const std::string& name) {
  const YAML::Node list = root[field];
  if (list && !list.IsSequence()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", field, ": not a list"));
  }
  if (list) {
    for (const YAML::Node& entry : list) {
      if (entry.IsMap() && entry["name"] && entry["name"].IsScalar() &&
          entry["name"].Scalar() == name) {
        return entry;
      }
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(file, ": ", field, ": no entry named \"", name, "\""));
}

// A string field of a map, or "" when absent; an error when not a scalar.
absl::StatusOr<std::string> Scalar(const YAML::Node& map, const std::string& file,
                                   const std::string& where, const std::string& key) {
  const YAML::Node v = map[key];
  if (!v || v.IsNull()) return std::string();
  if (!v.IsScalar()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", where, ".", key, ": not a string"));
  }
  return v.Scalar();
}

// `path_field` as a path relative to the kubeconfig's folder, or
// `data_field` (base64) written to a private file; "" when neither.
absl::StatusOr<std::string> FileOrData(const YAML::Node& map, const std::string& file,
                                       const std::string& where, const std::string& path_field,
                                       const std::string& data_field) {
  absl::StatusOr<std::string> data = Scalar(map, file, where, data_field);
  if (!data.ok()) return data.status();
  if (!data->empty()) {
    std::string decoded;
    if (!absl::Base64Unescape(*data, &decoded)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": ", where, ".", data_field, ": not base64"));
    }
    return WritePrivateFile(decoded);
  }
  absl::StatusOr<std::string> path = Scalar(map, file, where, path_field);
  if (!path.ok() || path->empty() || absl::StartsWith(*path, "/")) return path;
  const size_t slash = file.rfind('/');
  return slash == std::string::npos ? *path : absl::StrCat(file.substr(0, slash + 1), *path);
}

}  // namespace

absl::StatusOr<Config> LoadKubeconfig(const std::string& path, const std::string& context) {
  absl::StatusOr<std::string> text = api::ReadFile(path);
  if (!text.ok()) return text.status();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": ", e.msg));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, ": not a kubeconfig"));
  std::string name = context;
  if (name.empty()) {
    absl::StatusOr<std::string> current = Scalar(root, path, "", "current-context");
    if (!current.ok()) return current.status();
    if (current->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": current-context: not set"));
    }
    name = *current;
  }
  absl::StatusOr<YAML::Node> ctx = Named(root, path, "contexts", name);
  if (!ctx.ok()) return ctx.status();
  const YAML::Node c = (*ctx)["context"];
  if (!c || !c.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": contexts[", name, "].context: missing"));
  }
  absl::StatusOr<std::string> cluster_name = Scalar(c, path, "context", "cluster");
  absl::StatusOr<std::string> user_name = Scalar(c, path, "context", "user");
  if (!cluster_name.ok()) return cluster_name.status();
  if (!user_name.ok()) return user_name.status();

  Config config;
  absl::StatusOr<YAML::Node> cl = Named(root, path, "clusters", *cluster_name);
  if (!cl.ok()) return cl.status();
  const YAML::Node cluster = (*cl)["cluster"];
  const std::string where = absl::StrCat("clusters[", *cluster_name, "].cluster");
  if (!cluster || !cluster.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", where, ": missing"));
  }
  absl::StatusOr<std::string> server = Scalar(cluster, path, where, "server");
  if (!server.ok()) return server.status();
  if (server->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", where, ".server: not set"));
  }
  config.server = std::string(absl::StripSuffix(*server, "/"));
  absl::StatusOr<std::string> ca =
      FileOrData(cluster, path, where, "certificate-authority", "certificate-authority-data");
  if (!ca.ok()) return ca.status();
  config.ca_file = *ca;
  absl::StatusOr<std::string> insecure = Scalar(cluster, path, where, "insecure-skip-tls-verify");
  if (!insecure.ok()) return insecure.status();
  config.insecure_skip_tls_verify = *insecure == "true";

  if (user_name->empty()) return config;
  absl::StatusOr<YAML::Node> us = Named(root, path, "users", *user_name);
  if (!us.ok()) return us.status();
  const YAML::Node user = (*us)["user"];
  const std::string uwhere = absl::StrCat("users[", *user_name, "].user");
  if (!user || user.IsNull()) return config;
  if (!user.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", uwhere, ": not a map"));
  if (user["exec"] || user["auth-provider"]) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", uwhere, ": exec and auth-provider credentials are not supported"));
  }
  absl::StatusOr<std::string> token = Scalar(user, path, uwhere, "token");
  if (!token.ok()) return token.status();
  config.bearer_token = *token;
  absl::StatusOr<std::string> token_file = Scalar(user, path, uwhere, "tokenFile");
  if (!token_file.ok()) return token_file.status();
  if (config.bearer_token.empty() && !token_file->empty()) {
    absl::StatusOr<std::string> t = api::ReadFile(*token_file);
    if (!t.ok()) return t.status();
    config.bearer_token = std::string(absl::StripTrailingAsciiWhitespace(*t));
  }
  absl::StatusOr<std::string> cert =
      FileOrData(user, path, uwhere, "client-certificate", "client-certificate-data");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = FileOrData(user, path, uwhere, "client-key", "client-key-data");
  if (!key.ok()) return key.status();
  if (cert->empty() != key->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", uwhere, ": client-certificate and client-key go together"));
  }
  config.client_cert_file = *cert;
  config.client_key_file = *key;
  return config;
}

absl::StatusOr<Config> InClusterConfig() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    return absl::FailedPreconditionError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are "
        "not set");
  }
  absl::StatusOr<std::string> token = api::ReadFile(absl::StrCat(kServiceAccountDir, "/token"));
  if (!token.ok()) return token.status();
  Config config;
  const std::string h = host;
  config.server = absl::StrCat("https://", h.find(':') != std::string::npos ? "[" + h + "]" : h,
                               ":", port);
  config.bearer_token = std::string(absl::StripTrailingAsciiWhitespace(*token));
  config.ca_file = absl::StrCat(kServiceAccountDir, "/ca.crt");
  return config;
}

absl::StatusOr<ClientOptions> ClientOptionsFromConfig(const config::ClientConnection& connection) {
  if (connection.burst() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "clientConnection.burst: Invalid value: ", connection.burst(), ": must be non-negative"));
  }
  ClientOptions options;
  // Upstream defaults zero values, not only unset ones.
  options.qps = connection.qps() == 0 ? 50 : connection.qps();
  options.burst = connection.burst() == 0 ? 100 : connection.burst();
  if (!connection.contenttype().empty()) options.content_type = connection.contenttype();
  options.accept_content_types = connection.acceptcontenttypes();
  return options;
}

void Cancellation::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  if (wake_) wake_();
}

bool Cancellation::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

void Cancellation::SetWaker(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(mu_);
  wake_ = std::move(wake);
}

absl::StatusOr<Response> Client::Get(const std::string& path) {
  Request r;
  r.path = path;
  r.accept = kContentTypeJson;
  return Do(r);
}

absl::StatusOr<Response> Client::Post(const std::string& path, const std::string& json) {
  return Do(Request{"POST", path, json, kContentTypeJson, kContentTypeJson, std::nullopt});
}

absl::StatusOr<Response> Client::Put(const std::string& path, const std::string& json) {
  return Do(Request{"PUT", path, json, kContentTypeJson, kContentTypeJson, std::nullopt});
}

absl::StatusOr<Response> Client::Patch(const std::string& path, const std::string& content_type,
                                       const std::string& json) {
  return Do(Request{"PATCH", path, json, content_type, kContentTypeJson, std::nullopt});
}

absl::StatusOr<Response> Client::Delete(const std::string& path) {
  return Do(Request{"DELETE", path, "", "", kContentTypeJson, std::nullopt});
}

std::string Client::ContentTypeFor(const google::protobuf::Descriptor* type) const {
  if (HasProtobuf(type) && MediaType(options_.content_type) == kContentTypeProtobuf) {
    return kContentTypeProtobuf;
  }
  return kContentTypeJson;
}

std::string Client::AcceptFor(const google::protobuf::Descriptor* type) const {
  if (!HasProtobuf(type)) return kContentTypeJson;
  if (!options_.accept_content_types.empty()) return options_.accept_content_types;
  if (MediaType(options_.content_type) == kContentTypeJson) return kContentTypeJson;
  return absl::StrCat(options_.content_type, ", ", kContentTypeJson);
}

absl::Status Client::GetObject(const std::string& path, google::protobuf::Message* out) {
  Request r;
  r.path = path;
  r.accept = AcceptFor(out->GetDescriptor());
  absl::StatusOr<Response> response = Do(r);
  if (!response.ok()) return response.status();
  return Decode(response->content_type, response->body, out, absl::StrCat("GET ", path));
}

absl::Status Client::CreateObject(const std::string& path, const google::protobuf::Message& object,
                                  google::protobuf::Message* out) {
  return Write("POST", path, object, out, /*idempotent=*/false);
}

absl::Status Client::UpdateObject(const std::string& path, const google::protobuf::Message& object,
                                  google::protobuf::Message* out) {
  // An update conditioned on the resourceVersion cannot apply twice: a
  // second attempt after a lost answer conflicts.
  bool conditional = false;
  const auto* metadata = object.GetDescriptor()->FindFieldByName("metadata");
  if (metadata != nullptr && metadata->message_type() != nullptr &&
      object.GetReflection()->HasField(object, metadata)) {
    const google::protobuf::Message& m = object.GetReflection()->GetMessage(object, metadata);
    const auto* version = m.GetDescriptor()->FindFieldByName("resourceVersion");
    conditional = version != nullptr && !m.GetReflection()->GetString(m, version).empty();
  }
  return Write("PUT", path, object, out, conditional);
}

absl::Status Client::Write(const std::string& method, const std::string& path,
                           const google::protobuf::Message& object, google::protobuf::Message* out,
                           bool idempotent) {
  const std::string what = absl::StrCat(method, " ", path);
  Request r;
  r.method = method;
  r.path = path;
  r.content_type = ContentTypeFor(object.GetDescriptor());
  absl::StatusOr<std::string> body = EncodeFor(r.content_type, object);
  if (!body.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", body.status().message()));
  r.body = *std::move(body);
  r.accept = AcceptFor(object.GetDescriptor());
  r.idempotent = idempotent;
  absl::StatusOr<Response> response = Do(r);
  if (!response.ok()) return response.status();
  if (out == nullptr) return absl::OkStatus();
  return Decode(response->content_type, response->body, out, what);
}

absl::Status Client::Watch(const std::string& path, const google::protobuf::Message& prototype,
                           const WatchDecoder::Sink& sink, Cancellation* cancel) {
  const std::string what = absl::StrCat("GET ", path);
  Request r;
  r.path = path;
  r.accept = AcceptFor(prototype.GetDescriptor());
  std::unique_ptr<WatchDecoder> decoder;
  StreamHandler handler;
  handler.on_start = [&](const Response& head) {
    absl::StatusOr<WatchFormat> format = WatchFormatOf(head.content_type);
    if (!format.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", format.status().message()));
    }
    decoder = std::make_unique<WatchDecoder>(*format, prototype, what);
    return absl::OkStatus();
  };
  handler.on_data = [&](absl::string_view chunk) { return decoder->Feed(chunk, sink); };
  absl::Status s = Stream(r, handler, cancel);
  if (!s.ok()) return s;
  return decoder == nullptr ? absl::OkStatus() : decoder->Finish();
}

absl::Status StatusFromHttp(int code, absl::string_view body) {
  std::string message = StatusMessageOf(body);
  if (message.empty()) {
    // Whatever the server (or a proxy before it) sent: its start, escaped.
    constexpr size_t kShown = 200;
    message = absl::StrCat("HTTP ", code, ": ", absl::CHexEscape(body.substr(0, kShown)),
                           body.size() > kShown ? "..." : "");
  }
  switch (code) {
    case 400:
    case 422:
      return absl::InvalidArgumentError(message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    case 409:
      return absl::AbortedError(message);
    case 410:
      return absl::OutOfRangeError(message);
    case 429:
      return absl::ResourceExhaustedError(message);
    default:
      if (code >= 500) return absl::UnavailableError(message);
      return absl::UnknownError(message);
  }
}

}  // namespace kestrel::kube
