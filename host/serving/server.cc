#include "host/serving/server.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "host/serving/certs.h"
#include "httplib.h"
#include "util/klog/klog.h"

namespace kestrel::host {
namespace {

constexpr char kText[] = "text/plain; charset=utf-8";

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

// Loads `pair` (a chain and a key, PEM) into `ctx`; errors say which of
// them is wrong, in the words of `what` ("--tls-cert-file x.crt").
absl::Status Install(SSL_CTX* ctx, const CertKey& pair, const std::string& cert_what,
                     const std::string& key_what) {
  ERR_clear_error();
  std::unique_ptr<BIO, decltype(&BIO_free)> certs(
      BIO_new_mem_buf(pair.cert_pem.data(), static_cast<int>(pair.cert_pem.size())), BIO_free);
  X509* leaf = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert_what, ": no PEM certificate: ", OpenSslError()));
  }
  const int used = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (used != 1) return absl::InvalidArgumentError(absl::StrCat(cert_what, ": ", OpenSslError()));
  while (X509* more = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    SSL_CTX_add0_chain_cert(ctx, more);  // takes ownership
  }
  ERR_clear_error();  // the loop ends on "no start line"
  std::unique_ptr<BIO, decltype(&BIO_free)> key(
      BIO_new_mem_buf(pair.key_pem.data(), static_cast<int>(pair.key_pem.size())), BIO_free);
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_what, ": no PEM private key: ", OpenSslError()));
  }
  const int key_used = SSL_CTX_use_PrivateKey(ctx, pkey);
  EVP_PKEY_free(pkey);
  if (key_used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        key_what, ": does not match the certificate of ", cert_what, ": ", OpenSslError()));
  }
  return absl::OkStatus();
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

absl::StatusOr<CertKey> ServingCertKey(const ServingOptions& options) {
  if (!options.tls_cert_file.empty() || !options.tls_private_key_file.empty()) {
    return ReadCertKey(options.tls_cert_file, options.tls_private_key_file);
  }
  // MaybeDefaultWithSelfSignedCerts("localhost", nil, [127.0.0.1]), which
  // adds "localhost" for an unspecified bind address and the address
  // itself otherwise; plus this machine's name.
  std::vector<std::string> ips = {"127.0.0.1"};
  std::vector<std::string> dns;
  if (options.bind_address == "0.0.0.0" || options.bind_address == "::") {
    dns.push_back("localhost");
  } else if (options.bind_address != "127.0.0.1") {
    ips.push_back(options.bind_address);
  }
  const std::string hostname = options.hostname.empty() ? Hostname() : options.hostname;
  if (!hostname.empty() && hostname != "localhost") dns.push_back(hostname);
  return GenerateSelfSignedCertKey("localhost", ips, dns);
}

void Answer(httplib::Response& res, int code, const std::string& body, const char* type) {
  res.status = code;
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(body, type);
}

void ServeHealth(const std::string& endpoint, const std::vector<HealthCheck>& checks,
                 const std::string& rest, const httplib::Request& req, httplib::Response& res) {
  HealthAnswer answer;
  if (rest.empty()) {
    HealthQuery query;
    query.verbose = req.has_param("verbose");
    for (size_t i = 0; i < req.get_param_value_count("exclude"); ++i) {
      query.exclude.push_back(req.get_param_value("exclude", i));
    }
    answer = CheckHealth(endpoint, checks, query);
  } else {
    answer = CheckOne(checks, rest);
  }
  if (!answer.failures.empty()) {
    KLOG_V(2).Info(absl::StrCat(endpoint, " check failed:\n", answer.failures));
  }
  Answer(res, answer.code, answer.body, kText);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SecureServer>> SecureServer::Start(ServingOptions options,
                                                                  ServingEndpoints endpoints,
                                                                  DelegatingAuth* auth) {
  absl::StatusOr<CertKey> pair = ServingCertKey(options);
  if (!pair.ok()) return pair.status();
  const bool from_files = !options.tls_cert_file.empty();
  const std::string cert_what =
      from_files ? absl::StrCat("--tls-cert-file ", options.tls_cert_file) : "self-signed certificate";
  const std::string key_what = from_files
                                   ? absl::StrCat("--tls-private-key-file ", options.tls_private_key_file)
                                   : "self-signed key";
  absl::Status installed;
  auto server = std::unique_ptr<SecureServer>(new SecureServer());
  server->cert_pem_ = pair->cert_pem;
  server->server_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    installed = Install(&ctx, *pair, cert_what, key_what);
    return installed.ok();
  });
  if (!installed.ok()) return installed;
  if (!server->server_->is_valid()) return absl::InternalError("TLS server could not be set up");

  for (std::vector<HealthCheck>* checks : {&endpoints.healthz, &endpoints.livez, &endpoints.readyz}) {
    if (checks->empty()) checks->push_back(PingCheck());
  }
  auto shared = std::make_shared<ServingEndpoints>(std::move(endpoints));
  httplib::Server& http = *server->server_;
  const int threads = options.threads > 0 ? options.threads : 8;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_tcp_nodelay(true);
  http.Get(".*", [shared, auth](const httplib::Request& req, httplib::Response& res) {
    const AuthDecision decision =
        auth->Check(req.get_header_value("Authorization"), req.method, req.path);
    if (!decision.allowed) {
      Answer(res, decision.code, decision.body, decision.content_type.c_str());
      return;
    }
    for (const auto& [name, checks] :
         {std::pair<std::string, const std::vector<HealthCheck>*>{"healthz", &shared->healthz},
          {"livez", &shared->livez},
          {"readyz", &shared->readyz}}) {
      absl::string_view path = req.path;
      if (!absl::ConsumePrefix(&path, "/") || !absl::ConsumePrefix(&path, name)) continue;
      if (path.empty() || absl::ConsumePrefix(&path, "/")) {
        ServeHealth(name, *checks, std::string(path), req, res);
        return;
      }
    }
    if (req.path == "/metrics" && shared->metrics) {
      Answer(res, 200, shared->metrics(), "text/plain; version=0.0.4; charset=utf-8");
    } else if (req.path == "/configz" && shared->configz) {
      Answer(res, 200, shared->configz(), "application/json");
    } else {
      Answer(res, 404, "404 page not found\n", kText);
    }
  });
  // SO_REUSEADDR only: a second server on a taken port must fail to bind.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (options.secure_port == 0) {
    server->port_ = http.bind_to_any_port(options.bind_address.c_str());
  } else if (http.bind_to_port(options.bind_address.c_str(), options.secure_port)) {
    server->port_ = options.secure_port;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("failed to listen on ", options.bind_address, ":",
                                               options.secure_port));
  }
  server->thread_ = std::thread([s = server.get()] { s->server_->listen_after_bind(); });
  while (!server->server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  KLOG.Info(absl::StrCat("Serving securely on ", options.bind_address, ":", server->port_));
  return server;
}

SecureServer::~SecureServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kestrel::host
