// The libcurl transport behind kube::Client (client.h).
//
// Requests run on easy handles taken from a pool: a handle keeps its
// connection open after a request, so the next request that takes it reuses
// the connection (and a handle per concurrent request gives real
// concurrency; libcurl does not support sharing one connection pool between
// threads). The handles share DNS and TLS sessions through a share handle,
// so new connections resume TLS sessions. Streams run on a handle of their
// own inside a multi handle, whose poll a Cancellation can wake.

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "kube/client.h"

namespace kestrel::kube {
namespace {

// client-go's rest.Config defaults, for a qps or burst of 0.
constexpr float kClientGoDefaultQps = 5;
constexpr int kClientGoDefaultBurst = 10;
// How much of an error response's body a stream keeps for the message.
constexpr size_t kMaxErrorBody = 64 * 1024;

void GlobalInit() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

// One mutex per kind of data the share handle holds.
struct ShareLocks {
  absl::Mutex mu[CURL_LOCK_DATA_LAST];
};

void LockShare(CURL*, curl_lock_data data, curl_lock_access, void* locks)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static_cast<ShareLocks*>(locks)->mu[data].Lock();
}

void UnlockShare(CURL*, curl_lock_data data, void* locks) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static_cast<ShareLocks*>(locks)->mu[data].Unlock();
}

// The response headers a client reads.
struct Headers {
  std::string content_type;
  std::optional<int> retry_after;  // seconds
};

size_t OnHeader(char* data, size_t size, size_t n, void* headers_ptr) {
  auto* headers = static_cast<Headers*>(headers_ptr);
  const absl::string_view line(data, size * n);
  if (absl::StartsWith(line, "HTTP/")) {
    *headers = Headers();  // a new response (after a 100 Continue, say)
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return size * n;
  const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
  const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  if (name == "content-type") {
    headers->content_type = std::string(value);
  } else if (name == "retry-after") {
    // Seconds only, as client-go's retryAfterSeconds reads it.
    int seconds;
    if (absl::SimpleAtoi(value, &seconds)) headers->retry_after = std::max(seconds, 0);
  }
  return size * n;
}

size_t AppendBody(char* data, size_t size, size_t n, void* body) {
  static_cast<std::string*>(body)->append(data, size * n);
  return size * n;
}

// One try of a request: a transport error, or the response.
struct Attempt {
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  int code = 0;
  std::string body;
  Headers headers;
};

// Errors after the connection was made, when the request may or may not
// have reached the server (client-go retries a GET after a reset or an
// early EOF).
bool BrokeAfterConnecting(CURLcode code) {
  switch (code) {
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool IsTlsError(CURLcode code) {
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
      return true;
    default:
      return false;
  }
}

// The state of one streamed transfer, for the write callback.
struct StreamState {
  CURL* handle = nullptr;
  const Client::StreamHandler* handler = nullptr;
  Cancellation* cancel = nullptr;
  Headers headers;
  bool started = false;       // a 2xx response began and on_start ran
  bool cancelled = false;
  std::string error_body;     // of a non-2xx response
  absl::Status status;        // from the handler
};

size_t OnStreamData(char* data, size_t size, size_t n, void* state_ptr) {
  auto* st = static_cast<StreamState*>(state_ptr);
  const size_t length = size * n;
  if (st->cancel != nullptr && st->cancel->cancelled()) {
    st->cancelled = true;
    return 0;  // aborts the transfer
  }
  if (!st->started) {
    long code = 0;
    curl_easy_getinfo(st->handle, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) {
      if (st->error_body.size() < kMaxErrorBody) st->error_body.append(data, length);
      return length;
    }
    st->started = true;
    st->status = st->handler->on_start(Response{static_cast<int>(code), "",
                                                st->headers.content_type});
    if (!st->status.ok()) return 0;
  }
  st->status = st->handler->on_data(absl::string_view(data, length));
  return st->status.ok() ? length : 0;
}

class CurlClient : public Client {
 public:
  CurlClient(Config config, const ClientOptions& options)
      : Client(options),
        config_(std::move(config)),
        clock_(options.clock != nullptr ? options.clock : RealClock()),
        share_(curl_share_init()) {
    const float qps = options.qps == 0 ? kClientGoDefaultQps : options.qps;
    const int burst = options.burst == 0 ? kClientGoDefaultBurst : options.burst;
    if (qps > 0) limiter_ = std::make_unique<TokenBucket>(qps, burst, clock_);
    if (share_ != nullptr) {
      curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, LockShare);
      curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, UnlockShare);
      curl_share_setopt(share_, CURLSHOPT_USERDATA, &locks_);
      curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
      curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
  }

  ~CurlClient() override {
    absl::MutexLock lock(&mu_);
    for (CURL* h : idle_) curl_easy_cleanup(h);
    if (share_ != nullptr) curl_share_cleanup(share_);
  }

  absl::StatusOr<Response> Do(const Request& request) override;
  absl::Status Stream(const Request& request, const StreamHandler& handler,
                      Cancellation* cancel) override;

 private:
  CURL* Acquire() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();  // the most recently used: its connection is warm
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* h) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (static_cast<int>(idle_.size()) < options().max_idle_connections) {
      idle_.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }

  void Throttle() {
    if (limiter_ != nullptr) limiter_->Accept();
  }

  // Sets everything but the body callback on `h`. `headers_out` and
  // `errbuf` must outlive the transfer.
  void Prepare(CURL* h, const Request& r, curl_slist** headers_out, char* errbuf,
               Headers* headers) const;
  Attempt Perform(const Request& r);
  struct StreamAttempt {
    Attempt attempt;
    bool started = false;
    bool cancelled = false;
    absl::Status status;
  };
  StreamAttempt PerformStream(const Request& r, const StreamHandler& handler,
                              Cancellation* cancel);

  // How long to wait before sending again after `attempt` (1-based) ended
  // as `a`; nullopt when it must not be sent again.
  std::optional<absl::Duration> RetryWait(const Attempt& a, bool idempotent, int attempt) const;
  absl::Status ErrorOf(const std::string& what, const Attempt& a, int attempts) const;
  // Belt and braces: no message leaves with the token in it, whatever a
  // server or proxy echoed back.
  std::string Redact(std::string message) const {
    if (config_.bearer_token.empty()) return message;
    return absl::StrReplaceAll(message, {{config_.bearer_token, "<redacted>"}});
  }

  const Config config_;
  Clock* const clock_;
  std::unique_ptr<TokenBucket> limiter_;
  ShareLocks locks_;
  CURLSH* const share_;
  absl::Mutex mu_;
  std::vector<CURL*> idle_ ABSL_GUARDED_BY(mu_);
};

void CurlClient::Prepare(CURL* h, const Request& r, curl_slist** headers_out, char* errbuf,
                         Headers* headers) const {
  curl_easy_reset(h);  // keeps the handle's connections
  const std::string url = absl::StrCat(config_.server, r.path);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());  // copied by libcurl
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  if (share_ != nullptr) curl_easy_setopt(h, CURLOPT_SHARE, share_);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options().user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(config_.timeout)));
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, headers);

  if (!config_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (!config_.client_cert_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, config_.client_cert_file.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, config_.client_key_file.c_str());
  }
  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  curl_slist* list = nullptr;
  list = curl_slist_append(
      list, absl::StrCat("Accept: ", r.accept.empty() ? kContentTypeJson : r.accept).c_str());
  if (!r.content_type.empty()) {
    list = curl_slist_append(list, absl::StrCat("Content-Type: ", r.content_type).c_str());
  }
  if (!config_.bearer_token.empty()) {
    list = curl_slist_append(list,
                             absl::StrCat("Authorization: Bearer ", config_.bearer_token).c_str());
  }
  // No "Expect: 100-continue" round trip before large bodies.
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  *headers_out = list;

  if (r.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    if (r.method == "POST") {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (r.method != "DELETE" || !r.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
    }
  }
}

Attempt CurlClient::Perform(const Request& r) {
  Attempt a;
  CURL* h = Acquire();
  if (h == nullptr) {
    a.curl = CURLE_OUT_OF_MEMORY;
    a.curl_error = "cannot create a libcurl handle";
    return a;
  }
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_slist* headers = nullptr;
  Prepare(h, r, &headers, errbuf, &a.headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(config_.timeout)));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &a.body);
  a.curl = curl_easy_perform(h);
  if (a.curl == CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    a.code = static_cast<int>(code);
  } else {
    a.curl_error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(a.curl);
  }
  curl_slist_free_all(headers);
  Release(h);
  return a;
}

CurlClient::StreamAttempt CurlClient::PerformStream(const Request& r,
                                                    const StreamHandler& handler,
                                                    Cancellation* cancel) {
  StreamAttempt out;
  CURL* h = curl_easy_init();
  CURLM* multi = curl_multi_init();
  if (h == nullptr || multi == nullptr) {
    if (h != nullptr) curl_easy_cleanup(h);
    if (multi != nullptr) curl_multi_cleanup(multi);
    out.attempt.curl = CURLE_OUT_OF_MEMORY;
    out.attempt.curl_error = "cannot create a libcurl handle";
    return out;
  }
  StreamState state;
  state.handle = h;
  state.handler = &handler;
  state.cancel = cancel;
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_slist* headers = nullptr;
  Prepare(h, r, &headers, errbuf, &state.headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnStreamData);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
  if (r.idle_timeout > absl::ZeroDuration()) {
    // Less than a byte a second for that long: libcurl's low-speed limit
    // is the idle timeout, in whole seconds.
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(std::max<int64_t>(
                         1, absl::ToInt64Seconds(absl::Ceil(r.idle_timeout, absl::Seconds(1))))));
  }
  curl_multi_add_handle(multi, h);
  if (cancel != nullptr) cancel->SetWaker([multi] { curl_multi_wakeup(multi); });

  CURLcode result = CURLE_OK;
  bool done = false;
  int running = 1;
  while (true) {
    if (curl_multi_perform(multi, &running) != CURLM_OK) break;
    while (true) {
      int queued = 0;
      CURLMsg* msg = curl_multi_info_read(multi, &queued);
      if (msg == nullptr) break;
      if (msg->msg == CURLMSG_DONE) {
        result = msg->data.result;
        done = true;
      }
    }
    if (done || running == 0) break;
    if (cancel != nullptr && cancel->cancelled()) {
      state.cancelled = true;
      break;
    }
    // Waits for data, or for Cancel()'s wakeup; the timeout only bounds
    // how stale a missed wakeup could be.
    if (curl_multi_poll(multi, nullptr, 0, 1000, nullptr) != CURLM_OK) break;
  }
  if (cancel != nullptr) cancel->SetWaker(nullptr);

  out.started = state.started;
  out.cancelled = state.cancelled;
  out.status = state.status;
  Attempt& a = out.attempt;
  a.curl = done ? result : CURLE_RECV_ERROR;
  if (a.curl == CURLE_OPERATION_TIMEDOUT && r.idle_timeout > absl::ZeroDuration()) {
    a.curl_error = absl::StrCat("nothing arrived for ", absl::FormatDuration(r.idle_timeout),
                                "; the connection counts as dropped");
  } else if (a.curl != CURLE_OK) {
    a.curl_error = errbuf[0] != '\0' ? errbuf
                   : done            ? curl_easy_strerror(a.curl)
                                     : "the transfer stopped";
  }
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  a.code = static_cast<int>(code);
  a.body = std::move(state.error_body);
  a.headers = state.headers;

  curl_multi_remove_handle(multi, h);
  curl_multi_cleanup(multi);
  curl_easy_cleanup(h);
  curl_slist_free_all(headers);
  return out;
}

std::optional<absl::Duration> CurlClient::RetryWait(const Attempt& a, bool idempotent,
                                                    int attempt) const {
  if (attempt > options().max_retries) return std::nullopt;
  const absl::Duration backoff =
      std::min(options().initial_backoff * (int64_t{1} << std::min(attempt - 1, 30)),
               options().max_backoff);
  if (a.curl != CURLE_OK) {
    if (idempotent && BrokeAfterConnecting(a.curl)) return backoff;
    return std::nullopt;
  }
  if (a.code == 429) {
    // The server refused the request before doing it: safe for any method,
    // when it says when to come back (client-go's checkWait).
    if (a.headers.retry_after.has_value()) return absl::Seconds(*a.headers.retry_after);
    return std::nullopt;
  }
  if (a.code >= 500 && idempotent) {
    if (a.headers.retry_after.has_value()) return absl::Seconds(*a.headers.retry_after);
    return backoff;
  }
  return std::nullopt;
}

absl::Status CurlClient::ErrorOf(const std::string& what, const Attempt& a, int attempts) const {
  absl::StatusCode code;
  std::string message;
  if (a.curl != CURLE_OK) {
    code = absl::StatusCode::kUnavailable;
    message = absl::StrCat(what, ": ", a.curl_error, " (server ", config_.server);
    if (IsTlsError(a.curl)) {
      absl::StrAppend(&message, config_.ca_file.empty() ? ", system CA certificates"
                                                        : absl::StrCat(", CA file ",
                                                                       config_.ca_file));
    }
    absl::StrAppend(&message, ")");
  } else {
    absl::Status s = StatusFromHttp(a.code, a.body);
    code = s.code();
    message = absl::StrCat(what, ": ", s.message());
  }
  if (attempts > 1) absl::StrAppend(&message, " (after ", attempts, " attempts)");
  return absl::Status(code, Redact(std::move(message)));
}

absl::StatusOr<Response> CurlClient::Do(const Request& r) {
  const std::string what = absl::StrCat(r.method, " ", r.path);
  const bool idempotent = r.idempotent.value_or(r.method == "GET" || r.method == "HEAD");
  for (int attempt = 1;; ++attempt) {
    Throttle();
    Attempt a = Perform(r);
    if (a.curl == CURLE_OK && a.code >= 200 && a.code <= 299) {
      return Response{a.code, std::move(a.body), std::move(a.headers.content_type)};
    }
    const std::optional<absl::Duration> wait = RetryWait(a, idempotent, attempt);
    if (!wait.has_value()) return ErrorOf(what, a, attempt);
    SleepFor(clock_, *wait);
  }
}

absl::Status CurlClient::Stream(const Request& r, const StreamHandler& handler,
                                Cancellation* cancel) {
  const std::string what = absl::StrCat(r.method, " ", r.path);
  const bool idempotent = r.idempotent.value_or(r.method == "GET" || r.method == "HEAD");
  for (int attempt = 1;; ++attempt) {
    if (cancel != nullptr && cancel->cancelled()) {
      return absl::CancelledError(absl::StrCat(what, ": cancelled"));
    }
    Throttle();
    StreamAttempt s = PerformStream(r, handler, cancel);
    if (s.cancelled) return absl::CancelledError(absl::StrCat(what, ": cancelled"));
    if (!s.status.ok()) return s.status;
    const Attempt& a = s.attempt;
    if (s.started) {
      if (a.curl == CURLE_OK) return absl::OkStatus();
      // Data was handed over: the caller resumes (a watch from its last
      // resourceVersion), not this loop.
      return absl::UnavailableError(
          Redact(absl::StrCat(what, ": ", a.curl_error, " (server ", config_.server, ")")));
    }
    if (a.curl == CURLE_OK && a.code >= 200 && a.code <= 299) {
      // A 2xx response with an empty body.
      return handler.on_start(Response{a.code, "", a.headers.content_type});
    }
    const std::optional<absl::Duration> wait = RetryWait(a, idempotent, attempt);
    if (!wait.has_value()) return ErrorOf(what, a, attempt);
    SleepFor(clock_, *wait);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(const Config& config,
                                                       const ClientOptions& options) {
  const bool https = absl::StartsWith(config.server, "https://");
  if (!https && !absl::StartsWith(config.server, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("server \"", config.server, "\": not an http:// or https:// URL"));
  }
  GlobalInit();
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  if (https && (curl == nullptr || (curl->features & CURL_VERSION_SSL) == 0)) {
    return absl::FailedPreconditionError(
        absl::StrCat("server \"", config.server, "\": this libcurl has no TLS support"));
  }
  return std::unique_ptr<Client>(new CurlClient(config, options));
}

}  // namespace kestrel::kube
