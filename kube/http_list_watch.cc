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
#include "kube/codec.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube {
namespace {

namespace meta = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using Json = nlohmann::json;
using Answer = absl::StatusOr<std::optional<WatchEvent>>;

// Events decoded ahead of the reflector; past this the reader waits, and
// the server's buffer fills instead.
constexpr size_t kMaxQueuedEvents = 1024;

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
  if (absl::Status s = api::DecodeJsonInto(json, message.get(), context); !s.ok()) return s;
  if (absl::StatusOr<std::string> key = KeyOf(*message); !key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": ", key.status().message()));
  }
  return Object(std::move(message));
}

// One open watch: a reader thread streams the response through the shared
// client, decodes it as it arrives and queues the answers for Next().
class HttpWatchStream : public WatchStream {
 public:
  HttpWatchStream(std::shared_ptr<Client> client, Request request, const Resource& resource)
      : client_(std::move(client)), request_(std::move(request)),
        what_("GET " + request_.path), resource_(resource) {
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
    cancel_.Cancel();
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

  // Queues each decoded event for Next().
  WatchDecoder::Sink Sink() {
    return [this](DecodedEvent decoded) -> absl::Status {
      absl::StatusOr<WatchEvent> event = WatchEventFrom(std::move(decoded), resource_, what_);
      Answer answer = event.ok() ? Answer(std::optional<WatchEvent>(*std::move(event)))
                                 : Answer(event.status());
      return Push(std::move(answer)) ? absl::OkStatus() : Stopped();
    };
  }

  absl::Status Stopped() const {
    return absl::CancelledError(absl::StrCat(what_, ": watch stopped"));
  }

  void Read() {
    Client::StreamHandler handler;
    handler.on_start = [this](const Response& head) -> absl::Status {
      absl::StatusOr<WatchFormat> format = WatchFormatOf(head.content_type);
      if (!format.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(what_, ": ", format.status().message()));
      }
      decoder_.emplace(*format, *resource_.prototype, what_);
      decoder_->OnBadFrame([this](absl::Status bad) {
        return Push(absl::DataLossError(bad.message())) ? absl::OkStatus() : Stopped();
      });
      return absl::OkStatus();
    };
    handler.on_data = [this](absl::string_view chunk) { return decoder_->Feed(chunk, Sink()); };
    Finish(client_->Stream(request_, handler, &cancel_));
  }

  // The last answer: how the body ended. `s` is moved, not copied, into
  // the queue: a Status shared between threads is reference-counted inside
  // Abseil, where ThreadSanitizer cannot see it.
  void Finish(absl::Status s) {
    if (s.code() == absl::StatusCode::kCancelled) {
      Push(std::move(s));
      return;
    }
    // Where the body stopped inside an event, say so (a clean end there is
    // a broken stream too).
    absl::Status cut = absl::OkStatus();
    if (decoder_.has_value()) {
      cut = decoder_->Finish(s.ok() ? Sink() : WatchDecoder::Sink());
    }
    if (s.ok()) {
      if (cut.ok()) {
        Push(Answer(std::nullopt));
      } else {
        Push(absl::UnavailableError(cut.message()));
      }
      return;
    }
    if (!cut.ok() && absl::IsUnavailable(s)) {
      Push(absl::UnavailableError(absl::StrCat(s.message(), " (", cut.message(), ")")));
      return;
    }
    Push(std::move(s));
  }

  const std::shared_ptr<Client> client_;
  const Request request_;
  const std::string what_;
  const Resource& resource_;
  Cancellation cancel_;
  // Set when the response begins; only the reader thread touches it.
  std::optional<WatchDecoder> decoder_;

  // std::mutex, for ThreadSanitizer (see reflector.h).
  std::mutex mu_;
  // The queue or stopped_ changed.
  std::condition_variable changed_;
  std::deque<Answer> queue_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread reader_;
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

absl::StatusOr<ListPage> DecodeJsonList(absl::string_view body, const Resource& resource,
                                        absl::string_view what) {
  if (JsonNestsDeeperThan(body, kMaxJsonDepth)) {
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

absl::StatusOr<ListPage> DecodeList(absl::string_view content_type, absl::string_view body,
                                    const Resource& resource, absl::string_view what) {
  const std::string media = MediaType(content_type);
  if (media.empty() || media == kContentTypeJson) return DecodeJsonList(body, resource, what);
  if (media != kContentTypeProtobuf) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": an answer of unexpected content type \"", content_type, "\""));
  }
  ListPage page;
  meta::ListMeta list_meta;
  int index = 0;
  absl::Status s = DecodeProtobufList(
      body, resource.kind, &list_meta,
      [&](absl::string_view bytes) {
        const int i = index++;
        // An item that does not decode is named from its bytes; one that
        // does needs no name (working it out for every item cost an eighth
        // of a protobuf list's decoding).
        const auto undecodable = [&](absl::string_view why) {
          const std::string key = ItemNameOf(bytes);
          const std::string where = ObjectName(resource, key, absl::StrCat("items[", i, "]"));
          page.undecodable.push_back(
              Undecodable{key, absl::InvalidArgumentError(absl::StrCat(what, ": ", where, ": ", why))});
        };
        std::unique_ptr<google::protobuf::Message> message(resource.prototype->New());
        if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          undecodable("malformed protobuf");
          return;
        }
        DiscardUnknownFields(bytes, message.get());
        if (absl::StatusOr<std::string> k = KeyOf(*message); !k.ok()) {
          undecodable(k.status().message());
          return;
        }
        page.items.push_back(Object(std::move(message)));
      },
      what);
  if (!s.ok()) return s;
  page.resource_version = list_meta.resourceversion();
  page.continue_token = list_meta.continue_();
  return page;
}

absl::StatusOr<WatchEvent> WatchEventFrom(DecodedEvent decoded, const Resource& resource,
                                          absl::string_view what) {
  WatchEvent event;
  if (decoded.type == "ERROR") {
    event.type = WatchEventType::kError;
    const auto& status = static_cast<const meta::Status&>(*decoded.object);
    // A Status without a usable code is still an error: a 500.
    const int code = status.code() >= 400 && status.code() < 600 ? status.code() : 500;
    const absl::Status s = StatusFromHttp(code, EncodeJson(status));
    event.error = absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
    return event;
  }
  if (decoded.type == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
    event.resource_version = ResourceVersionOf(*decoded.object);
    if (event.resource_version.empty()) {
      return absl::DataLossError(absl::StrCat(what, ": a BOOKMARK without a resourceVersion"));
    }
    return event;
  }
  if (decoded.type == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (decoded.type == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else {
    event.type = WatchEventType::kDeleted;  // the decoder knows no other type
  }
  if (absl::StatusOr<std::string> key = KeyOf(*decoded.object); !key.ok()) {
    return absl::DataLossError(absl::StrCat(what, ": ", decoded.type, " ", resource.kind,
                                            " without a name: ", key.status().message()));
  }
  event.resource_version = ResourceVersionOf(*decoded.object);
  event.object = Object(std::move(decoded.object));
  return event;
}

absl::StatusOr<std::unique_ptr<HttpListerWatcher>> HttpListerWatcher::Create(
    const Config& config, Resource resource, const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(config, options);
  if (!client.ok()) return client.status();
  return std::make_unique<HttpListerWatcher>(std::shared_ptr<Client>(*std::move(client)),
                                             std::move(resource));
}

HttpListerWatcher::HttpListerWatcher(std::shared_ptr<Client> client, Resource resource)
    : client_(std::move(client)), resource_(std::move(resource)) {}

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
  Request request;
  request.path = ListPath(options);
  request.accept = client_->AcceptFor(resource_.prototype->GetDescriptor());
  absl::StatusOr<Response> response = client_->Do(request);
  if (!response.ok()) return response.status();
  return DecodeList(response->content_type, response->body, resource_, "GET " + request.path);
}

absl::StatusOr<std::unique_ptr<WatchStream>> HttpListerWatcher::Watch(
    const WatchOptions& options) {
  Request request;
  request.path = WatchPath(options);
  request.accept = client_->AcceptFor(resource_.prototype->GetDescriptor());
  request.idle_timeout = WatchIdleTimeout(options);
  return std::unique_ptr<WatchStream>(new HttpWatchStream(client_, std::move(request), resource_));
}

}  // namespace kestrel::kube
