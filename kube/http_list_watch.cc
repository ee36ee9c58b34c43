#include "kube/http_list_watch.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "api/policy.pb.h"
#include "api/scheduling.pb.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube {
namespace {

using Json = nlohmann::json;
using Answer = absl::StatusOr<std::optional<WatchEvent>>;

// Events decoded ahead of the reflector; past this the reader waits, and
// the server's buffer fills instead.
constexpr size_t kMaxQueuedEvents = 1024;
// How much of an error answer's body is kept for its message.
constexpr size_t kMaxErrorBody = 64 * 1024;

// Deeper JSON is refused before it is parsed: nlohmann's dump() recurses
// once per level, and api/decode refuses objects nested deeper than 200
// anyway.
constexpr int kMaxJsonDepth = 256;

// Whether `text` nests JSON objects and arrays deeper than `max`.
bool NestsDeeperThan(absl::string_view text, int max) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

// Percent-encodes a query value: everything but RFC 3986's unreserved
// characters.
std::string QueryEscape(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void AddParam(std::string& query, absl::string_view name, absl::string_view value) {
  absl::StrAppend(&query, query.empty() ? "?" : "&", name, "=", QueryEscape(value));
}

void AddSelectors(std::string& query, const Resource& resource) {
  if (!resource.field_selector.empty()) AddParam(query, "fieldSelector", resource.field_selector);
  if (!resource.label_selector.empty()) AddParam(query, "labelSelector", resource.label_selector);
}

// A string member of a JSON object, or "".
std::string StringAt(const Json& object, const char* name) {
  if (!object.is_object()) return "";
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// "namespace/name" from an object's JSON metadata, or "" when unreadable.
std::string KeyOfJson(const Json& object) {
  if (!object.is_object()) return "";
  auto meta = object.find("metadata");
  if (meta == object.end()) return "";
  const std::string name = StringAt(*meta, "name");
  if (name.empty()) return "";
  const std::string ns = StringAt(*meta, "namespace");
  return ns.empty() ? name : absl::StrCat(ns, "/", name);
}

// Where an object is, for messages: "Pod ns/web-1", or "<what>[i]".
std::string ObjectName(const Resource& resource, const std::string& key,
                       absl::string_view fallback) {
  return key.empty() ? std::string(fallback) : absl::StrCat(resource.kind, " ", key);
}

// The start of `text`, for quoting bad input in a message.
std::string Excerpt(absl::string_view text) {
  constexpr size_t kMax = 80;
  std::string out(text.substr(0, kMax));
  if (text.size() > kMax) absl::StrAppend(&out, "...");
  return out;
}

absl::StatusOr<Object> DecodeObject(const Json& json, const Resource& resource,
                                    const std::string& context) {
  std::unique_ptr<google::protobuf::Message> message(resource.prototype->New());
  if (absl::Status s = api::DecodeInto(json.dump(), message.get(), context); !s.ok()) return s;
  if (absl::StatusOr<std::string> key = KeyOf(*message); !key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": ", key.status().message()));
  }
  return Object(std::move(message));
}

// One open watch: a reader thread pulls the body through a BodyStream,
// splits it into lines, decodes them and queues the answers for Next().
class HttpWatchStream : public WatchStream {
 public:
  HttpWatchStream(std::unique_ptr<BodyStream> body, std::string path,
                  absl::Duration idle_timeout, const Resource& resource)
      : body_(std::move(body)), path_(std::move(path)), what_("GET " + path_),
        idle_timeout_(idle_timeout), resource_(resource) {
    reader_ = std::thread([this] { Read(); });
  }

  ~HttpWatchStream() override {
    Stop();
    reader_.join();
  }

  Answer Next() override {
    Answer answer;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return stopped_ || !queue_.empty();
      });
      if (stopped_) return absl::CancelledError(absl::StrCat(what_, ": watch stopped"));
      answer = std::move(queue_.front());
      queue_.pop_front();
    }
    changed_.notify_all();  // room for the reader
    return answer;
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    changed_.notify_all();
    body_->Cancel();
  }

 private:
  // Queues an answer; false once stopped.
  bool Push(Answer answer) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return stopped_ || queue_.size() < kMaxQueuedEvents;
      });
      if (stopped_) return false;
      queue_.push_back(std::move(answer));
    }
    changed_.notify_all();
    return true;
  }

  void Read() {
    Finish(body_->Get(path_, idle_timeout_,
                      [this](absl::string_view chunk) { return Feed(chunk); }));
  }

  absl::Status Feed(absl::string_view chunk) {
    pending_.append(chunk.data(), chunk.size());
    size_t start = 0;
    for (size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
      absl::string_view line = absl::StripAsciiWhitespace(
          absl::string_view(pending_).substr(start, end - start));
      if (line.empty()) continue;
      if (!Push(Decode(line))) return absl::CancelledError(absl::StrCat(what_, ": watch stopped"));
    }
    pending_.erase(0, start);
    if (pending_.size() > kMaxWatchEventBytes) {
      return absl::UnavailableError(absl::StrCat(what_, ": an event longer than ",
                                                 kMaxWatchEventBytes, " bytes"));
    }
    return absl::OkStatus();
  }

  Answer Decode(absl::string_view line) {
    absl::StatusOr<WatchEvent> event = DecodeJsonWatchEvent(line, resource_, what_);
    if (!event.ok()) return event.status();
    return std::optional<WatchEvent>(*std::move(event));
  }

  // The last answer: how the body ended. `s` is moved, not copied, into
  // the queue: a Status shared between threads is reference-counted inside
  // Abseil, where ThreadSanitizer cannot see it.
  void Finish(absl::Status s) {
    const absl::string_view rest = absl::StripAsciiWhitespace(pending_);
    if (s.ok()) {
      if (rest.empty()) {
        Push(Answer(std::nullopt));
        return;
      }
      // JSON needs no newline after the last event; take it if it is whole.
      Answer last = Decode(rest);
      if (last.ok()) {
        if (Push(std::move(last))) Push(Answer(std::nullopt));
        return;
      }
      Push(absl::UnavailableError(absl::StrCat(what_, ": the stream ended in the middle of an "
                                                      "event (",
                                               rest.size(), " bytes of it)")));
      return;
    }
    if (!rest.empty() && s.code() != absl::StatusCode::kCancelled) {
      Push(absl::Status(s.code(), absl::StrCat(s.message(), " (in the middle of an event, ",
                                               rest.size(), " bytes of it read)")));
      return;
    }
    Push(std::move(s));
  }

  const std::unique_ptr<BodyStream> body_;
  const std::string path_;
  const std::string what_;
  const absl::Duration idle_timeout_;
  const Resource& resource_;
  // The reader's unfinished line; only the reader thread touches it.
  std::string pending_;

  // std::mutex, for ThreadSanitizer (see reflector.h).
  std::mutex mu_;
  // The queue or stopped_ changed.
  std::condition_variable changed_;
  std::deque<Answer> queue_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread reader_;
};

class HttplibBodyStream : public BodyStream {
 public:
  explicit HttplibBodyStream(Config config) : config_(std::move(config)) {}

  absl::Status Get(const std::string& path, absl::Duration idle_timeout,
                   const std::function<absl::Status(absl::string_view)>& on_data) override {
    const std::string what = "GET " + path;
    httplib::Client client(config_.server, config_.client_cert_file, config_.client_key_file);
    if (!client.is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": server \"", config_.server, "\": cannot set up the client"));
    }
    client.set_url_encode(false);  // the path's query is escaped already
    client.set_connection_timeout(absl::ToInt64Seconds(config_.timeout));
    client.set_read_timeout(std::chrono::microseconds(absl::ToInt64Microseconds(idle_timeout)));
    if (!config_.ca_file.empty()) client.set_ca_cert_path(config_.ca_file);
    if (absl::StartsWith(config_.server, "https://")) {
      client.enable_server_certificate_verification(!config_.insecure_skip_tls_verify);
    }
    httplib::Headers headers{{"Accept", "application/json"}, {"User-Agent", "kestrel"}};
    if (!config_.bearer_token.empty()) {
      headers.emplace("Authorization", absl::StrCat("Bearer ", config_.bearer_token));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancelled_) return absl::CancelledError(absl::StrCat(what, ": cancelled"));
      client_ = &client;
    }
    int code = 0;
    std::string error_body;
    absl::Status data_error;
    httplib::Result result = client.Get(
        path.c_str(), headers,
        [&](const httplib::Response& response) {
          code = response.status;
          return !cancelled();
        },
        [&](const char* data, size_t size) {
          if (code < 200 || code > 299) {
            error_body.append(data, std::min(size, kMaxErrorBody - std::min(kMaxErrorBody,
                                                                              error_body.size())));
            return true;
          }
          data_error = on_data(absl::string_view(data, size));
          return data_error.ok() && !cancelled();
        });
    {
      std::lock_guard<std::mutex> lock(mu_);
      client_ = nullptr;
    }
    if (cancelled()) return absl::CancelledError(absl::StrCat(what, ": cancelled"));
    if (!data_error.ok()) return data_error;
    if (code != 0 && (code < 200 || code > 299)) {
      absl::Status s = StatusFromHttp(code, error_body);
      return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
    }
    if (!result) {
      return absl::UnavailableError(absl::StrCat(what, ": ", httplib::to_string(result.error())));
    }
    return absl::OkStatus();
  }

  void Cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    // Shuts the socket of a request in flight; one that has not connected
    // yet sees `cancelled_` when its answer's head arrives.
    if (client_ != nullptr) client_->stop();
  }

 private:
  bool cancelled() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

  const Config config_;
  std::mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  httplib::Client* client_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace

Resource PodsResource() {
  return {"/api/v1/pods", "pods", "Pod", "status.phase!=Succeeded,status.phase!=Failed", "",
          &k8s::io::api::core::v1::Pod::default_instance()};
}

Resource NodesResource() {
  return {"/api/v1/nodes", "nodes", "Node", "", "",
          &k8s::io::api::core::v1::Node::default_instance()};
}

Resource NamespacesResource() {
  return {"/api/v1/namespaces", "namespaces", "Namespace", "", "",
          &k8s::io::api::core::v1::Namespace::default_instance()};
}

Resource PodDisruptionBudgetsResource() {
  return {"/apis/policy/v1/poddisruptionbudgets", "poddisruptionbudgets.policy",
          "PodDisruptionBudget", "", "",
          &k8s::io::api::policy::v1::PodDisruptionBudget::default_instance()};
}

Resource PriorityClassesResource() {
  return {"/apis/scheduling.k8s.io/v1/priorityclasses", "priorityclasses.scheduling.k8s.io",
          "PriorityClass", "", "",
          &k8s::io::api::scheduling::v1::PriorityClass::default_instance()};
}

absl::Duration WatchIdleTimeout(const WatchOptions& options) {
  if (options.timeout_seconds <= 0) return absl::Hours(1);
  return absl::Seconds(options.timeout_seconds) + absl::Minutes(1);
}

BodyStreamFactory HttplibBodyStreams(const Config& config) {
  return [config]() -> std::unique_ptr<BodyStream> {
    return std::make_unique<HttplibBodyStream>(config);
  };
}

absl::StatusOr<ListPage> DecodeJsonList(absl::string_view body, const Resource& resource,
                                        absl::string_view what) {
  if (NestsDeeperThan(body, kMaxJsonDepth)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the answer nests deeper than ", kMaxJsonDepth, " levels"));
  }
  const Json list = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!list.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the answer is not a JSON object: ", Excerpt(body)));
  }
  ListPage page;
  if (auto meta = list.find("metadata"); meta != list.end()) {
    page.resource_version = StringAt(*meta, "resourceVersion");
    page.continue_token = StringAt(*meta, "continue");
  }
  auto items = list.find("items");
  if (items == list.end() || items->is_null()) return page;
  if (!items->is_array()) return absl::InvalidArgumentError(absl::StrCat(what, ": items: not a list"));
  page.items.reserve(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    const Json& item = (*items)[i];
    const std::string key = KeyOfJson(item);
    const std::string context =
        absl::StrCat(what, ": ", ObjectName(resource, key, absl::StrCat("items[", i, "]")));
    absl::StatusOr<Object> object = DecodeObject(item, resource, context);
    if (object.ok()) {
      page.items.push_back(*std::move(object));
    } else {
      page.undecodable.push_back(Undecodable{key, object.status()});
    }
  }
  return page;
}

absl::StatusOr<WatchEvent> DecodeJsonWatchEvent(absl::string_view line, const Resource& resource,
                                                absl::string_view what) {
  if (NestsDeeperThan(line, kMaxJsonDepth)) {
    return absl::DataLossError(
        absl::StrCat(what, ": a watch event nested deeper than ", kMaxJsonDepth, " levels"));
  }
  const Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    return absl::DataLossError(
        absl::StrCat(what, ": a watch event that is not a JSON object: ", Excerpt(line)));
  }
  const std::string type = StringAt(json, "type");
  auto object = json.find("object");
  if (object == json.end() || !object->is_object()) {
    return absl::DataLossError(
        absl::StrCat(what, ": a watch event (type \"", type, "\") without an object"));
  }
  WatchEvent event;
  if (type == "ERROR") {
    event.type = WatchEventType::kError;
    // A Status without a usable code is still an error: a 500.
    int code = 500;
    if (auto c = object->find("code"); c != object->end() && c->is_number_integer() &&
                                       c->get<int64_t>() >= 400 && c->get<int64_t>() < 600) {
      code = c->get<int>();
    }
    const absl::Status s = StatusFromHttp(code, object->dump());
    event.error = absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
    return event;
  }
  if (type == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
    if (auto meta = object->find("metadata"); meta != object->end()) {
      event.resource_version = StringAt(*meta, "resourceVersion");
    }
    if (event.resource_version.empty()) {
      return absl::DataLossError(absl::StrCat(what, ": a BOOKMARK without a resourceVersion"));
    }
    return event;
  }
  if (type == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (type == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (type == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else {
    return absl::DataLossError(absl::StrCat(what, ": a watch event of unknown type \"", type, "\""));
  }
  const std::string key = KeyOfJson(*object);
  absl::StatusOr<Object> decoded = DecodeObject(
      *object, resource,
      absl::StrCat(what, ": ", type, " ", ObjectName(resource, key, "an object without a name")));
  if (!decoded.ok()) return absl::DataLossError(decoded.status().message());
  event.object = *std::move(decoded);
  event.resource_version = ResourceVersionOf(*event.object);
  return event;
}

absl::StatusOr<std::unique_ptr<HttpListerWatcher>> HttpListerWatcher::Create(const Config& config,
                                                                             Resource resource) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(config);
  if (!client.ok()) return client.status();
  return std::make_unique<HttpListerWatcher>(*std::move(client), HttplibBodyStreams(config),
                                             std::move(resource));
}

HttpListerWatcher::HttpListerWatcher(std::unique_ptr<Client> client, BodyStreamFactory streams,
                                     Resource resource)
    : client_(std::move(client)), streams_(std::move(streams)), resource_(std::move(resource)) {}

std::string HttpListerWatcher::ListPath(const ListOptions& options) const {
  std::string query;
  AddSelectors(query, resource_);
  if (!options.resource_version.empty()) {
    AddParam(query, "resourceVersion", options.resource_version);
  }
  if (options.limit > 0) AddParam(query, "limit", absl::StrCat(options.limit));
  if (!options.continue_token.empty()) AddParam(query, "continue", options.continue_token);
  return resource_.path + query;
}

std::string HttpListerWatcher::WatchPath(const WatchOptions& options) const {
  std::string query = "?watch=true";
  AddSelectors(query, resource_);
  AddParam(query, "resourceVersion", options.resource_version);
  if (options.allow_watch_bookmarks) AddParam(query, "allowWatchBookmarks", "true");
  if (options.timeout_seconds > 0) {
    AddParam(query, "timeoutSeconds", absl::StrCat(options.timeout_seconds));
  }
  return resource_.path + query;
}

absl::StatusOr<ListPage> HttpListerWatcher::List(const ListOptions& options) {
  const std::string path = ListPath(options);
  absl::StatusOr<Response> response = client_->Get(path);
  if (!response.ok()) return response.status();
  return DecodeJsonList(response->body, resource_, "GET " + path);
}

absl::StatusOr<std::unique_ptr<WatchStream>> HttpListerWatcher::Watch(
    const WatchOptions& options) {
  return std::unique_ptr<WatchStream>(
      new HttpWatchStream(streams_(), WatchPath(options), WatchIdleTimeout(options), resource_));
}

}  // namespace kestrel::kube
