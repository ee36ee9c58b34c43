// What a kept connection saves: sequential GETs against an HTTPS server on
// loopback (cpp-httplib, TCP_NODELAY as a Go server has it), each answering
// a small JSON body.
//
//   KeptConnection      one kube::Client for all requests (its pool keeps
//                       the TLS connection)
//   NewConnectionEach   a kube::Client per request: a TCP and TLS handshake
//                       every time
//   HttplibNoKeepAlive  the transport kube/client.h had before: a
//                       cpp-httplib client without keep-alive
//   Concurrent/N        N threads sharing one kube::Client
//
//   bazel run -c opt //bench:client_benchmark
//
// Needs the openssl command, to make a throwaway CA and server certificate.

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "httplib.h"
#include "kube/client.h"

namespace kestrel {
namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  int port = 0;
  kube::Config config;
};

Fixture* TheServer() {
  static Fixture* f = [] {
    auto* f = new Fixture;
    char tmpl[] = "/tmp/kestrel-client-bench-XXXXXX";
    f->dir = mkdtemp(tmpl);
    const std::string d = f->dir;
    const std::string cmd = absl::StrCat(
        "cd ", d, " && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext",
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1",
        " -subj /CN=ca -keyout ca.key -out ca.crt 2>/dev/null",
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
        " -subj /CN=127.0.0.1 -keyout s.key -out s.csr 2>/dev/null",
        " && openssl x509 -req -days 1 -in s.csr -CA ca.crt -CAkey ca.key -CAcreateserial",
        " -extfile san.ext -out s.crt 2>/dev/null");
    if (std::system(cmd.c_str()) != 0) std::abort();
    f->server = std::make_unique<httplib::SSLServer>((d + "/s.crt").c_str(),
                                                     (d + "/s.key").c_str());
    f->server->set_tcp_nodelay(true);
    f->server->set_keep_alive_max_count(1000000);
    f->server->new_task_queue = [] { return new httplib::ThreadPool(16); };
    f->server->Get("/api/v1/namespaces/default", [](const httplib::Request&,
                                                     httplib::Response& res) {
      res.set_content(R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}})",
                      "application/json");
    });
    f->port = f->server->bind_to_any_port("127.0.0.1");
    f->thread = std::thread([f] { f->server->listen_after_bind(); });
    while (!f->server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    f->config.server = absl::StrCat("https://127.0.0.1:", f->port);
    f->config.ca_file = d + "/ca.crt";
    f->config.bearer_token = "token";
    return f;
  }();
  return f;
}

kube::ClientOptions Unlimited() {
  kube::ClientOptions options;
  options.qps = -1;
  return options;
}

void BM_KeptConnection(benchmark::State& state) {
  std::unique_ptr<kube::Client> c = *kube::Client::Create(TheServer()->config, Unlimited());
  for (auto _ : state) {
    if (!c->Get("/api/v1/namespaces/default").ok()) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeptConnection)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_NewConnectionEach(benchmark::State& state) {
  for (auto _ : state) {
    std::unique_ptr<kube::Client> c = *kube::Client::Create(TheServer()->config, Unlimited());
    if (!c->Get("/api/v1/namespaces/default").ok()) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NewConnectionEach)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_HttplibNoKeepAlive(benchmark::State& state) {
  httplib::Client c(TheServer()->config.server);
  c.set_ca_cert_path(TheServer()->config.ca_file.c_str());
  c.enable_server_certificate_verification(true);
  for (auto _ : state) {
    httplib::Result r = c.Get("/api/v1/namespaces/default",
                              {{"Authorization", "Bearer token"}, {"Accept", "application/json"}});
    if (!r || r->status != 200) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttplibNoKeepAlive)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Concurrent(benchmark::State& state) {
  static kube::Client* shared = kube::Client::Create(TheServer()->config, Unlimited())->release();
  for (auto _ : state) {
    if (!shared->Get("/api/v1/namespaces/default").ok()) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Concurrent)->Unit(benchmark::kMicrosecond)->UseRealTime()->Threads(1)->Threads(4)->Threads(16);

}  // namespace
}  // namespace kestrel

BENCHMARK_MAIN();
