// File: test_servers.h
//
// Servers on 127.0.0.1 for the client's tests:
//
//   * HttpTestServer: a cpp-httplib server (plain, or TLS with a given
//     certificate) on its own thread, with many worker threads and
//     keep-alive connections that last, which records the client port of
//     every request so tests can count connections.
//   * RawTestServer: a TCP server that reads one request per connection
//     and writes whatever bytes the test says (nothing at all, garbage, a
//     valid response), one connection at a time.
//
// Example:
//   HttpTestServer server;
//   server.http().Get("/ok", [](const httplib::Request&, httplib::Response& res) { ... });
//   ASSERT_TRUE(server.Start());
//   Config config;
//   config.server = server.url();

#ifndef KESTREL_KUBE_TEST_SERVERS_H_
#define KESTREL_KUBE_TEST_SERVERS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "httplib.h"

namespace kestrel::kube {

class HttpTestServer {
 public:
  // Plain HTTP.
  HttpTestServer() : server_(std::make_unique<httplib::Server>()), scheme_("http") { Configure(); }
  // HTTPS with the certificate and key in these PEM files.
  HttpTestServer(const std::string& cert_file, const std::string& key_file)
      : server_(std::make_unique<httplib::SSLServer>(cert_file.c_str(), key_file.c_str())),
        scheme_("https") {
    Configure();
  }
  ~HttpTestServer() { Stop(); }

  // Handlers go here before Start().
  httplib::Server& http() { return *server_; }

  bool Start() {
    if (!server_->is_valid()) return false;
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return false;
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
  }

  void Stop() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  std::string url() const { return absl::StrCat(scheme_, "://127.0.0.1:", port_); }
  int port() const { return port_; }

  // Distinct client ports seen, that is TCP connections that sent requests.
  int connections() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(ports_.size());
  }
  int requests() { return requests_.load(); }

 private:
  void Configure() {
    server_->new_task_queue = [] { return new httplib::ThreadPool(32); };
    server_->set_keep_alive_max_count(100000);
    server_->set_keep_alive_timeout(60);
    // Without it the server's Nagle and the client's delayed ACK cost 40 ms a
    // response (a real API server, in Go, sets it too).
    server_->set_tcp_nodelay(true);
    server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      absl::MutexLock lock(&mu_);
      ports_.insert(req.remote_port);
      ++requests_;
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }

  std::unique_ptr<httplib::Server> server_;
  std::string scheme_;
  int port_ = -1;
  std::thread thread_;
  absl::Mutex mu_;
  std::set<int> ports_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> requests_{0};
};

class RawTestServer {
 public:
  // `reply(i)`: the bytes for the i-th connection (0-based); "" closes it
  // without a word.
  explicit RawTestServer(std::function<std::string(int)> reply) : reply_(std::move(reply)) {}
  ~RawTestServer() {
    stop_ = true;
    if (fd_ >= 0) {
      shutdown(fd_, SHUT_RDWR);
      close(fd_);
    }
    if (thread_.joinable()) thread_.join();
  }

  bool Start() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
    if (listen(fd_, 16) != 0) return false;
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
    return true;
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  int connections() const { return connections_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      const int conn = accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      // Read the request head (and whatever body came with it).
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = read(conn, buf, sizeof(buf));
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      const std::string reply = reply_(connections_++);
      if (!reply.empty()) {
        ssize_t ignored = write(conn, reply.data(), reply.size());
        (void)ignored;
      }
      shutdown(conn, SHUT_RDWR);
      close(conn);
    }
  }

  std::function<std::string(int)> reply_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_TEST_SERVERS_H_
