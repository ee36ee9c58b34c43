#include "kube/http_list_watch.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "api/core.pb.h"
#include "api/runtime.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "kube/codec.h"
#include "kube/informer.h"
#include "kube/list_watch.h"
#include "kube/reflector.h"

namespace kestrel::kube {
namespace {

using ::k8s::io::api::core::v1::Pod;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Answer = absl::StatusOr<std::optional<WatchEvent>>;

constexpr char kPodSelector[] = "fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed";

// An HTTP server on 127.0.0.1 whose handlers the test sets; it records the
// request targets it served.
class TestServer {
 public:
  TestServer() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost, and ~TestServer hang.
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(1));
  }
  ~TestServer() {
    closing_ = true;
    server_.stop();
    thread_.join();
  }

  // Serves GET `path` with `handler`, recording each target.
  void Get(const std::string& path, httplib::Server::Handler handler) {
    server_.Get(path, [this, handler](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        targets_.push_back(req.target);
      }
      handler(req, res);
    });
  }

  // A chunked watch answer that writes `chunks` in turn, then ends cleanly
  // (`end` true) or cuts the connection.
  static httplib::Server::Handler Stream(std::vector<std::string> chunks, bool end) {
    return [chunks, end](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider(
          "application/json", [chunks, end](size_t, httplib::DataSink& sink) {
            for (const std::string& c : chunks) sink.write(c.data(), c.size());
            if (!end) return false;
            sink.done();
            return true;
          });
    };
  }

  Config config() const {
    Config c;
    c.server = absl::StrCat("http://127.0.0.1:", port_);
    return c;
  }
  std::vector<std::string> targets() const {
    std::lock_guard<std::mutex> lock(mu_);
    return targets_;
  }
  bool closing() const { return closing_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> closing_{false};
  mutable std::mutex mu_;
  std::vector<std::string> targets_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<HttpListerWatcher> PodsOver(const TestServer& server) {
  absl::StatusOr<std::unique_ptr<HttpListerWatcher>> lw =
      HttpListerWatcher::Create(server.config(), PodsResource());
  EXPECT_TRUE(lw.ok()) << lw.status();
  return *std::move(lw);
}

std::string PodJson(const std::string& name, int version, const std::string& extra = "") {
  return absl::StrCat(R"({"kind":"Pod","apiVersion":"v1","metadata":{"namespace":"ns","name":")",
                      name, R"(","resourceVersion":")", version, R"("})", extra, "}");
}

std::string EventLine(const std::string& type, const std::string& object) {
  return absl::StrCat(R"({"type":")", type, R"(","object":)", object, "}\n");
}

std::string Describe(const Answer& a) {
  if (!a.ok()) return absl::StrCat("status ", a.status().ToString());
  if (!a->has_value()) return "END";
  const WatchEvent& e = **a;
  if (e.type == WatchEventType::kError) return absl::StrCat("ERROR ", e.error.ToString());
  std::string out = absl::StrCat(WatchEventTypeName(e.type), " rv=", e.resource_version);
  if (e.object != nullptr) absl::StrAppend(&out, " ", *KeyOf(*e.object));
  return out;
}

std::vector<std::string> Drain(WatchStream& stream) {
  std::vector<std::string> out;
  while (true) {
    Answer a = stream.Next();
    out.push_back(Describe(a));
    const bool more = (a.ok() && a->has_value()) || a.status().code() == absl::StatusCode::kDataLoss;
    if (!more) return out;
  }
}

TEST(HttpListerWatcherTest, ListAsksAsKubeSchedulerAndKeepsWhatDecodes) {
  TestServer server;
  server.Get("/api/v1/pods", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        absl::StrCat(R"({"kind":"PodList","apiVersion":"v1",)",
                     R"("metadata":{"resourceVersion":"12","continue":"abc+/="},"items":[)",
                     PodJson("a", 10), ",", PodJson("bad", 11, R"(,"spec":{"priority":"high"})"),
                     R"(,{"metadata":{"namespace":"ns"},"spec":{"priority":"x"}}]})"),
        "application/json");
  });
  std::unique_ptr<HttpListerWatcher> lw = PodsOver(server);
  ListOptions options;
  options.resource_version = "0";
  options.limit = 500;
  absl::StatusOr<ListPage> page = lw->List(options);
  ASSERT_TRUE(page.ok()) << page.status();
  const std::string target = absl::StrCat("/api/v1/pods?", kPodSelector, "&resourceVersion=0&limit=500");
  EXPECT_THAT(server.targets(), ElementsAre(target));
  EXPECT_EQ(page->resource_version, "12");
  EXPECT_EQ(page->continue_token, "abc+/=");
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(ResourceVersionOf(*page->items[0]), "10");
  EXPECT_NE(ObjectAs<Pod>(page->items[0]), nullptr);
  ASSERT_EQ(page->undecodable.size(), 2u);
  EXPECT_EQ(page->undecodable[0].key, "ns/bad");
  EXPECT_THAT(page->undecodable[0].error.message(),
              HasSubstr(absl::StrCat("GET ", target, ": Pod ns/bad: spec.priority")));
  EXPECT_EQ(page->undecodable[1].key, "");
  EXPECT_THAT(page->undecodable[1].error.message(),
              HasSubstr(absl::StrCat("GET ", target, ": items[2]: ")));

  // A continuation page: the token is escaped, no resourceVersion is sent.
  options.resource_version = "";
  options.continue_token = "abc+/=";
  ASSERT_TRUE(lw->List(options).ok());
  EXPECT_EQ(server.targets().back(),
            absl::StrCat("/api/v1/pods?", kPodSelector, "&limit=500&continue=abc%2B%2F%3D"));
}

Pod PodNamed(const std::string& name, int version) {
  Pod pod;
  pod.mutable_metadata()->set_namespace_("ns");
  pod.mutable_metadata()->set_name(name);
  pod.mutable_metadata()->set_resourceversion(absl::StrCat(version));
  return pod;
}

// The default content type is kube-scheduler's: protobuf, with JSON as the
// fallback. A protobuf list is read item by item, and a protobuf watch
// frame that does not decode costs only that event.
TEST(HttpListerWatcherTest, ProtobufListsAndWatchStreams) {
  TestServer server;
  std::vector<std::string> accepts;
  std::mutex accepts_mu;
  server.Get("/api/v1/pods", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(accepts_mu);
      accepts.push_back(req.get_header_value("Accept"));
    }
    if (!req.has_param("watch")) {
      ::k8s::io::api::core::v1::PodList list;
      list.mutable_metadata()->set_resourceversion("12");
      list.mutable_metadata()->set_continue_("next");
      *list.add_items() = PodNamed("a", 10);
      *list.add_items() = PodNamed("b", 11);
      std::string bytes = *EncodeProtobuf(list);
      // A third item whose bytes are not a Pod: field 1 (metadata) is a
      // varint where a message belongs... and its length runs off the end.
      std::string runt = PodNamed("c", 12).SerializeAsString();
      runt.push_back('\x0a');  // metadata again, length 0x7f, 1 byte there
      runt.push_back('\x7f');
      runt.push_back('x');
      // Re-wrap: the list's raw bytes + item 3, in a new envelope.
      ::k8s::io::api::core::v1::PodList unwrapped;
      ASSERT_TRUE(DecodeProtobuf(bytes, &unwrapped, "fixture").ok());
      std::string raw = unwrapped.SerializeAsString();
      raw.push_back('\x12');  // items, length-delimited
      raw.push_back(static_cast<char>(runt.size()));
      raw += runt;
      ::k8s::io::apimachinery::pkg::runtime::Unknown envelope;
      envelope.mutable_typemeta()->set_apiversion("v1");
      envelope.mutable_typemeta()->set_kind("PodList");
      envelope.set_raw(raw);
      res.set_content(std::string(kProtobufMagic) + envelope.SerializeAsString(),
                      kContentTypeProtobuf);
      return;
    }
    std::string stream = *EncodeWatchFrame(WatchFormat::kLengthDelimited, "ADDED", PodNamed("d", 13));
    // A whole frame whose event is not a WatchEvent.
    stream += std::string("\0\0\0\x02\x0a\x05", 6);
    stream += *EncodeWatchFrame(WatchFormat::kLengthDelimited, "DELETED", PodNamed("a", 14));
    res.set_content(stream, kContentTypeProtobufWatch);
  });
  std::unique_ptr<HttpListerWatcher> lw = PodsOver(server);
  ListOptions options;
  options.limit = 500;
  absl::StatusOr<ListPage> page = lw->List(options);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->resource_version, "12");
  EXPECT_EQ(page->continue_token, "next");
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(*KeyOf(*page->items[1]), "ns/b");
  ASSERT_EQ(page->undecodable.size(), 1u);
  EXPECT_EQ(page->undecodable[0].key, "ns/c");
  EXPECT_THAT(page->undecodable[0].error.message(),
              HasSubstr("&limit=500: Pod ns/c: malformed protobuf"));

  WatchOptions watch;
  watch.resource_version = "12";
  std::unique_ptr<WatchStream> stream = *lw->Watch(watch);
  std::vector<std::string> answers = Drain(*stream);
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[0], "ADDED rv=13 ns/d");
  EXPECT_THAT(answers[1], HasSubstr("status DATA_LOSS: GET /api/v1/pods?watch=true"));
  EXPECT_THAT(answers[1], HasSubstr(": event 2: malformed WatchEvent"));
  EXPECT_EQ(answers[2], "DELETED rv=14 ns/a");
  EXPECT_EQ(answers[3], "END");
  std::lock_guard<std::mutex> lock(accepts_mu);
  EXPECT_THAT(accepts, ElementsAre("application/vnd.kubernetes.protobuf, application/json",
                                   "application/vnd.kubernetes.protobuf, application/json"));
}

// JSON when the client is configured for it (clientConnection.contentType).
TEST(HttpListerWatcherTest, JsonWhenConfigured) {
  TestServer server;
  std::string accept;
  server.Get("/api/v1/nodes", [&](const httplib::Request& req, httplib::Response& res) {
    accept = req.get_header_value("Accept");
    res.set_content(R"({"kind":"NodeList","metadata":{"resourceVersion":"3"},"items":[]})",
                    "application/json");
  });
  ClientOptions json;
  json.content_type = kContentTypeJson;
  std::unique_ptr<HttpListerWatcher> lw = *HttpListerWatcher::Create(server.config(), NodesResource(), json);
  ASSERT_TRUE(lw->List(ListOptions()).ok());
  EXPECT_EQ(accept, "application/json");
}

TEST(HttpListerWatcherTest, ListErrorsAndBadAnswersNameTheRequest) {
  TestServer server;
  server.Get("/api/v1/pods", [](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("continue")) {
      res.status = 410;
      res.set_content(
          R"({"kind":"Status","status":"Failure","message":"The provided continue parameter is too old","reason":"Expired","code":410})",
          "application/json");
    } else {
      res.set_content(R"([1, 2, 3])", "application/json");
    }
  });
  std::unique_ptr<HttpListerWatcher> lw = PodsOver(server);
  ListOptions options;
  options.continue_token = "x";
  absl::StatusOr<ListPage> page = lw->List(options);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(page.status().message(),
            absl::StrCat("GET /api/v1/pods?", kPodSelector,
                         "&continue=x: The provided continue parameter is too old"));
  page = lw->List(ListOptions());
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(page.status().message(), absl::StrCat("GET /api/v1/pods?", kPodSelector,
                                                  ": the answer is not a JSON object: [1, 2, 3]"));
}

TEST(HttpListerWatcherTest, WatchDecodesEachLineAndSkipsTheOnesThatDoNotDecode) {
  TestServer server;
  const std::string added = EventLine("ADDED", PodJson("a", 6));
  server.Get("/api/v1/pods",
             TestServer::Stream(
                 {added.substr(0, 20), added.substr(20),  // a line split across chunks
                  "this is not json\n",
                  EventLine("MODIFIED", PodJson("a", 7, R"(,"spec":{"priority":"high"})")),
                  EventLine("SYNC", PodJson("a", 8)), "\n",
                  EventLine("BOOKMARK", R"({"kind":"Pod","metadata":{"resourceVersion":"9"}})"),
                  EventLine("DELETED", PodJson("a", 10)),
                  EventLine("ERROR",
                            R"json({"kind":"Status","message":"too old resource version: 5 (10)","reason":"Expired","code":410})json")},
                 /*end=*/true));
  std::unique_ptr<HttpListerWatcher> lw = PodsOver(server);
  WatchOptions options;
  options.resource_version = "5";
  options.timeout_seconds = 300;
  absl::StatusOr<std::unique_ptr<WatchStream>> stream = lw->Watch(options);
  ASSERT_TRUE(stream.ok()) << stream.status();
  const std::string target = absl::StrCat("/api/v1/pods?watch=true&", kPodSelector,
                                          "&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=300");
  const std::string what = "GET " + target;
  std::vector<std::string> answers = Drain(**stream);
  EXPECT_THAT(server.targets(), ElementsAre(target));
  ASSERT_EQ(answers.size(), 8u);
  EXPECT_EQ(answers[0], "ADDED rv=6 ns/a");
  EXPECT_EQ(answers[1], absl::StrCat("status DATA_LOSS: ", what,
                                     ": event 2: not a watch event {\"type\": ..., \"object\": "
                                     "{...}}: \"this is not json\""));
  EXPECT_THAT(answers[2], HasSubstr(absl::StrCat("status DATA_LOSS: ", what,
                                                 ": event 3: MODIFIED Pod ns/a: spec.priority")));
  EXPECT_EQ(answers[3], absl::StrCat("status DATA_LOSS: ", what,
                                     ": event 4: unknown watch event type \"SYNC\""));
  EXPECT_EQ(answers[4], "BOOKMARK rv=9");
  EXPECT_EQ(answers[5], "DELETED rv=10 ns/a");
  EXPECT_EQ(answers[6],
            absl::StrCat("ERROR OUT_OF_RANGE: ", what, ": too old resource version: 5 (10)"));
  EXPECT_EQ(answers[7], "END");
}

TEST(HttpListerWatcherTest, StreamEndingOrBrokenInsideAnEventIsUnavailable) {
  struct Case {
    std::string name;
    std::string last_chunk;
    bool end;
    std::vector<std::string> want;  // after the first event
  };
  const std::string half = EventLine("ADDED", PodJson("b", 7)).substr(0, 30);
  const std::string whole_without_newline = EventLine("ADDED", PodJson("b", 7));
  const Case cases[] = {
      {"cut", half, false, {"status UNAVAILABLE"}},
      {"ended", half, true, {"status UNAVAILABLE"}},
      {"no final newline", whole_without_newline.substr(0, whole_without_newline.size() - 1), true,
       {"ADDED rv=7 ns/b", "END"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestServer server;
    server.Get("/api/v1/pods",
               TestServer::Stream({EventLine("ADDED", PodJson("a", 6)), c.last_chunk}, c.end));
    std::unique_ptr<HttpListerWatcher> lw = PodsOver(server);
    WatchOptions options;
    options.resource_version = "5";
    std::unique_ptr<WatchStream> stream = *lw->Watch(options);
    std::vector<std::string> answers = Drain(*stream);
    ASSERT_EQ(answers.size(), 1 + c.want.size());
    EXPECT_EQ(answers[0], "ADDED rv=6 ns/a");
    for (size_t i = 0; i < c.want.size(); ++i) EXPECT_THAT(answers[i + 1], HasSubstr(c.want[i]));
    if (c.want[0] == "status UNAVAILABLE") {
      EXPECT_THAT(answers[1], HasSubstr("GET /api/v1/pods?watch=true"));
      EXPECT_THAT(answers[1], HasSubstr("event 2: the stream ended inside the event"));
    }
  }
}

TEST(HttpListerWatcherTest, WatchRequestErrorsComeFromNextNamingTheRequest) {
  TestServer server;
  server.Get("/api/v1/pods", [](const httplib::Request& req, httplib::Response& res) {
    const bool gone = req.get_param_value("resourceVersion") == "1";
    res.status = gone ? 410 : 403;
    res.set_content(absl::StrCat(R"({"kind":"Status","message":")",
                                 gone ? "too old resource version: 1 (10)" : "pods is forbidden",
                                 R"(","code":)", res.status, "}"),
                    "application/json");
  });
  std::unique_ptr<HttpListerWatcher> lw = PodsOver(server);
  WatchOptions options;
  options.resource_version = "1";
  std::unique_ptr<WatchStream> stream = *lw->Watch(options);
  Answer a = stream->Next();
  EXPECT_EQ(a.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(a.status().message(), HasSubstr("resourceVersion=1"));
  EXPECT_THAT(a.status().message(), HasSubstr(": too old resource version: 1 (10)"));
  options.resource_version = "2";
  stream = *lw->Watch(options);
  a = stream->Next();
  EXPECT_EQ(a.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(a.status().message(), HasSubstr(": pods is forbidden"));
}

TEST(HttpListerWatcherTest, UnreachableServerIsUnavailable) {
  Config config;
  {
    TestServer gone;  // a port that nobody listens on once it is closed
    config = gone.config();
  }
  absl::StatusOr<std::unique_ptr<HttpListerWatcher>> lw =
      HttpListerWatcher::Create(config, NodesResource());
  ASSERT_TRUE(lw.ok());
  WatchOptions options;
  options.resource_version = "3";
  std::unique_ptr<WatchStream> stream = *(*lw)->Watch(options);
  Answer a = stream->Next();
  EXPECT_EQ(a.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(a.status().message(),
              HasSubstr("GET /api/v1/nodes?watch=true&resourceVersion=3&allowWatchBookmarks=true: "));
  EXPECT_EQ((*lw)->List(ListOptions()).status().code(), absl::StatusCode::kUnavailable);
}

// A watch with nothing to say: the server sends blank keep-alive lines
// until the client goes.
httplib::Server::Handler Quiet(const TestServer* server, absl::Notification* started) {
  return [server, started](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "application/json", [server, started](size_t, httplib::DataSink& sink) {
          if (!started->HasBeenNotified()) started->Notify();
          while (!server->closing()) {
            if (!sink.write("\n", 1)) return false;
            absl::SleepFor(absl::Milliseconds(5));
          }
          return false;
        });
  };
}

TEST(HttpListerWatcherTest, StopEndsAQuietWatchPromptly) {
  TestServer server;
  absl::Notification started;
  server.Get("/api/v1/pods", Quiet(&server, &started));
  std::unique_ptr<HttpListerWatcher> lw = PodsOver(server);
  WatchOptions options;
  options.resource_version = "5";
  std::unique_ptr<WatchStream> stream = *lw->Watch(options);
  Answer answer;
  std::thread next([&] { answer = stream->Next(); });
  started.WaitForNotification();
  stream->Stop();
  next.join();
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kCancelled);
  stream.reset();  // joins the reader
}

TEST(HttpListerWatcherTest, SilentConnectionCountsAsDropped) {
  TestServer server;
  server.Get("/api/v1/pods", [&server](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [&server](size_t, httplib::DataSink&) {
      while (!server.closing()) absl::SleepFor(absl::Milliseconds(5));
      return false;
    });
  });
  std::unique_ptr<Client> client = *Client::Create(server.config());
  Request request;
  request.path = "/api/v1/pods?watch=true";
  request.idle_timeout = absl::Seconds(1);
  Client::StreamHandler handler;
  handler.on_start = [](const Response&) { return absl::OkStatus(); };
  handler.on_data = [](absl::string_view) { return absl::OkStatus(); };
  absl::Status s = client->Stream(request, handler, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("GET /api/v1/pods?watch=true: nothing arrived for 1s"));
}

TEST(HttpListerWatcherTest, WatchIdleTimeoutIsTheServersTimeoutAndAMinute) {
  WatchOptions options;
  options.timeout_seconds = 300;
  EXPECT_EQ(WatchIdleTimeout(options), absl::Seconds(360));
  options.timeout_seconds = 0;
  EXPECT_EQ(WatchIdleTimeout(options), absl::Hours(1));
}

// The informer over HTTP: list, watch, handlers.
TEST(HttpListerWatcherTest, InformerFollowsAServerOverHttp) {
  TestServer server;
  server.Get("/api/v1/pods", [&server](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("watch")) {
      res.set_content(absl::StrCat(R"({"kind":"PodList","metadata":{"resourceVersion":"12"},"items":[)",
                                   PodJson("a", 10), ",", PodJson("b", 11), "]}"),
                      "application/json");
      return;
    }
    const std::string events = EventLine("MODIFIED", PodJson("a", 13)) +
                               EventLine("DELETED", PodJson("b", 14)) +
                               EventLine("ADDED", PodJson("c", 15));
    res.set_chunked_content_provider(
        "application/json", [events, &server](size_t, httplib::DataSink& sink) {
          sink.write(events.data(), events.size());
          while (!server.closing()) {
            if (!sink.write("\n", 1)) return false;
            absl::SleepFor(absl::Milliseconds(5));
          }
          return false;
        });
  });
  Informer informer(PodsOver(server), ReflectorOptions());
  std::mutex mu;
  std::condition_variable logged;
  std::vector<std::string> log;
  auto record = [&](std::string line) {
    {
      std::lock_guard<std::mutex> lock(mu);
      log.push_back(std::move(line));
    }
    logged.notify_all();
  };
  EventHandlers handlers;
  handlers.on_add = [&](const Object& o) { record("ADD " + *KeyOf(*o)); };
  handlers.on_update = [&](const Object& old_object, const Object& o) {
    record(absl::StrCat("UPDATE ", *KeyOf(*o), " ", ResourceVersionOf(*old_object), "->",
                        ResourceVersionOf(*o)));
  };
  handlers.on_delete = [&](const DeletedObject& d) { record("DELETE " + *KeyOf(*LastState(d))); };
  ASSERT_TRUE(informer.AddEventHandler(handlers).ok());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(absl::Seconds(60)));
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(logged.wait_for(lock, std::chrono::seconds(60), [&] { return log.size() == 5; }));
  }
  informer.Stop();
  EXPECT_THAT(log, ElementsAre("ADD ns/a", "ADD ns/b", "UPDATE ns/a 10->13", "DELETE ns/b", "ADD ns/c"));
  EXPECT_THAT(informer.store().ListKeys(), ElementsAre("ns/a", "ns/c"));
  EXPECT_EQ(informer.LastSyncResourceVersion(), "15");
  EXPECT_THAT(server.targets(),
              ElementsAre(absl::StrCat("/api/v1/pods?", kPodSelector, "&resourceVersion=0&limit=500"),
                          ::testing::StartsWith(absl::StrCat("/api/v1/pods?watch=true&", kPodSelector,
                                                             "&resourceVersion=12&allowWatchBookmarks=true&timeoutSeconds="))));
}

}  // namespace
}  // namespace kestrel::kube
