// Tests for Client::Stream and Client::Watch (kube/client.h) over HTTP on
// loopback: protobuf and JSON watch streams, a stream cut inside a frame, a
// connection dropped mid-stream, errors before the stream starts, and
// cancellation from another thread.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "api/core.pb.h"
#include "api/meta.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "kube/client.h"
#include "kube/codec.h"
#include "kube/fake_clock.h"
#include "kube/test_servers.h"

namespace kestrel::kube {
namespace {

namespace core = ::k8s::io::api::core::v1;
namespace meta = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

core::Pod PodNamed(const std::string& name) {
  core::Pod pod;
  pod.mutable_metadata()->set_name(name);
  return pod;
}

// The frames a server sends for ADDED a, MODIFIED b, in the format the
// request accepted.
std::string TwoEvents(WatchFormat format) {
  return *EncodeWatchFrame(format, "ADDED", PodNamed("a")) +
         *EncodeWatchFrame(format, "MODIFIED", PodNamed("b"));
}

WatchFormat FormatFor(const httplib::Request& req) {
  return absl::StrContains(req.get_header_value("Accept"), kContentTypeProtobuf)
             ? WatchFormat::kLengthDelimited
             : WatchFormat::kJsonLines;
}

std::string ContentTypeOf(WatchFormat format) {
  return format == WatchFormat::kLengthDelimited ? kContentTypeProtobufWatch : kContentTypeJson;
}

class WatchTest : public ::testing::Test {
 protected:
  void TearDown() override {
    stop_streaming_ = true;
    server_.Stop();
  }

  std::unique_ptr<Client> Connect(ClientOptions options = {}) {
    EXPECT_TRUE(server_.Start());
    Config config;
    config.server = server_.url();
    options.clock = &clock_;
    return *Client::Create(config, options);
  }

  // Watches `path` and records "TYPE name" per event.
  absl::Status WatchPods(Client& c, const std::string& path, std::vector<std::string>* seen,
                         Cancellation* cancel = nullptr) {
    return c.Watch(
        path, core::Pod::default_instance(),
        [&](DecodedEvent e) {
          if (e.type == "ERROR") {
            seen->push_back(absl::StrCat(
                "ERROR ", static_cast<const meta::Status&>(*e.object).message()));
          } else {
            seen->push_back(absl::StrCat(
                e.type, " ", static_cast<const core::Pod&>(*e.object).metadata().name()));
          }
          return absl::OkStatus();
        },
        cancel);
  }

  HttpTestServer server_;
  AutoAdvanceClock clock_;
  std::atomic<bool> stop_streaming_{false};
};

// The server writes `body` in pieces of `piece` bytes as chunks, then ends
// the response; `drop` makes it drop the connection instead of ending it.
void ServeInPieces(httplib::Response& res, const std::string& content_type, std::string body,
                   size_t piece, bool drop) {
  res.set_chunked_content_provider(
      content_type, [body = std::move(body), piece, drop](size_t offset, httplib::DataSink& sink) {
        if (offset >= body.size()) {
          if (drop) return false;  // the connection goes without the last chunk
          sink.done();
          return true;
        }
        return sink.write(body.data() + offset, std::min(piece, body.size() - offset));
      });
}

TEST_F(WatchTest, ProtobufAndJsonStreams) {
  server_.http().Get("/api/v1/pods", [](const httplib::Request& req, httplib::Response& res) {
    const WatchFormat format = FormatFor(req);
    ServeInPieces(res, ContentTypeOf(format), TwoEvents(format), 7, /*drop=*/false);
  });
  for (const std::string content_type : {kContentTypeProtobuf, kContentTypeJson}) {
    SCOPED_TRACE(content_type);
    ClientOptions options;
    options.content_type = content_type;
    server_.Stop();
    std::unique_ptr<Client> c = Connect(options);
    std::vector<std::string> seen;
    EXPECT_TRUE(WatchPods(*c, "/api/v1/pods?watch=1", &seen).ok());
    EXPECT_THAT(seen, ElementsAre("ADDED a", "MODIFIED b"));
  }
}

TEST_F(WatchTest, StreamEndingInsideAFrameIsDataLoss) {
  server_.http().Get("/api/v1/pods", [](const httplib::Request&, httplib::Response& res) {
    const std::string events = TwoEvents(WatchFormat::kLengthDelimited);
    // The second frame is cut 10 bytes in: 6 of its 40 bytes came.
    ServeInPieces(res, kContentTypeProtobufWatch,
                  events.substr(0, events.size() - 40 + 6), 5, /*drop=*/false);
  });
  std::unique_ptr<Client> c = Connect();
  std::vector<std::string> seen;
  absl::Status s = WatchPods(*c, "/api/v1/pods?watch=1", &seen);
  EXPECT_EQ(s, absl::DataLossError("GET /api/v1/pods?watch=1: event 2: the stream ended inside "
                                   "the frame (6 of 40 bytes)"));
  EXPECT_THAT(seen, ElementsAre("ADDED a"));
}

TEST_F(WatchTest, DroppedConnectionIsUnavailableAndNotRetried) {
  server_.http().Get("/api/v1/pods", [](const httplib::Request&, httplib::Response& res) {
    const std::string events = TwoEvents(WatchFormat::kLengthDelimited);
    ServeInPieces(res, kContentTypeProtobufWatch, events.substr(0, events.size() - 20), 1000,
                  /*drop=*/true);
  });
  std::unique_ptr<Client> c = Connect();
  std::vector<std::string> seen;
  absl::Status s = WatchPods(*c, "/api/v1/pods?watch=1", &seen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("GET /api/v1/pods?watch=1: "));
  EXPECT_THAT(seen, ElementsAre("ADDED a"));
  EXPECT_EQ(server_.requests(), 1);  // the caller resumes from what it saw
}

TEST_F(WatchTest, ErrorsBeforeTheStreamAreStatuses) {
  std::atomic<int> calls{0};
  server_.http().Get("/api/v1/pods", [&](const httplib::Request& req, httplib::Response& res) {
    if (calls++ == 0) {  // one 503 first: retried, as for any GET
      res.status = 503;
      return;
    }
    res.status = 410;
    meta::Status status;
    status.set_message("too old resource version: 1 (9)");
    status.set_reason("Expired");
    status.set_code(410);
    res.set_content(*EncodeProtobuf(status), kContentTypeProtobuf);
  });
  std::unique_ptr<Client> c = Connect();
  std::vector<std::string> seen;
  absl::Status s = WatchPods(*c, "/api/v1/pods?watch=1&resourceVersion=1", &seen);
  EXPECT_EQ(s, absl::OutOfRangeError("GET /api/v1/pods?watch=1&resourceVersion=1: too old "
                                     "resource version: 1 (9) (after 2 attempts)"));
  EXPECT_THAT(seen, IsEmpty());
  EXPECT_THAT(clock_.waits(), ElementsAre(absl::Seconds(1)));
}

TEST_F(WatchTest, NotAWatchContentType) {
  server_.http().Get("/api/v1/pods", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html></html>", "text/html");
  });
  std::unique_ptr<Client> c = Connect();
  std::vector<std::string> seen;
  EXPECT_EQ(WatchPods(*c, "/api/v1/pods?watch=1", &seen),
            absl::InvalidArgumentError(
                "GET /api/v1/pods?watch=1: not a watch stream: content type \"text/html\""));
}

TEST_F(WatchTest, ErrorEventsCarryAStatus) {
  server_.http().Get("/api/v1/pods", [](const httplib::Request&, httplib::Response& res) {
    meta::Status status;
    status.set_message("too old resource version");
    status.set_code(410);
    ServeInPieces(res, kContentTypeProtobufWatch,
                  *EncodeWatchFrame(WatchFormat::kLengthDelimited, "ERROR", status), 100, false);
  });
  std::unique_ptr<Client> c = Connect();
  std::vector<std::string> seen;
  EXPECT_TRUE(WatchPods(*c, "/api/v1/pods?watch=1", &seen).ok());
  EXPECT_THAT(seen, ElementsAre("ERROR too old resource version"));
}

// A watch that would run forever stops when another thread cancels it.
TEST_F(WatchTest, CancelledFromAnotherThread) {
  server_.http().Get("/api/v1/pods", [this](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        kContentTypeProtobufWatch, [this](size_t offset, httplib::DataSink& sink) {
          if (offset == 0) {
            const std::string first =
                *EncodeWatchFrame(WatchFormat::kLengthDelimited, "ADDED", PodNamed("a"));
            return sink.write(first.data(), first.size());
          }
          // Then nothing, until the test ends.
          while (!stop_streaming_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          return false;
        });
  });
  std::unique_ptr<Client> c = Connect();
  Cancellation cancel;
  absl::Notification first_event;
  std::vector<std::string> seen;
  absl::Status result;
  std::thread watcher([&] {
    result = c->Watch(
        "/api/v1/pods?watch=1", core::Pod::default_instance(),
        [&](DecodedEvent e) {
          seen.push_back(e.type);
          first_event.Notify();
          return absl::OkStatus();
        },
        &cancel);
  });
  first_event.WaitForNotification();
  cancel.Cancel();
  watcher.join();
  EXPECT_EQ(result, absl::CancelledError("GET /api/v1/pods?watch=1: cancelled"));
  EXPECT_THAT(seen, ElementsAre("ADDED"));
  // A cancelled Cancellation stops the next one before it starts.
  EXPECT_EQ(WatchPods(*c, "/api/v1/pods?watch=1", &seen, &cancel).code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(server_.requests(), 1);
}

// Stream() hands over the body as it comes, with the response's type.
TEST_F(WatchTest, StreamHandsOverChunksAndTheContentType) {
  server_.http().Get("/logs", [](const httplib::Request&, httplib::Response& res) {
    ServeInPieces(res, "text/plain", "line 1\nline 2\n", 7, false);
  });
  std::unique_ptr<Client> c = Connect();
  std::string content_type;
  std::string body;
  Client::StreamHandler handler;
  handler.on_start = [&](const Response& head) {
    content_type = head.content_type;
    return absl::OkStatus();
  };
  handler.on_data = [&](absl::string_view chunk) {
    body.append(chunk.data(), chunk.size());
    return absl::OkStatus();
  };
  Request r;
  r.path = "/logs";
  EXPECT_TRUE(c->Stream(r, handler, nullptr).ok());
  EXPECT_EQ(content_type, "text/plain");
  EXPECT_EQ(body, "line 1\nline 2\n");
  // An error from the handler ends the stream and comes back as is.
  handler.on_data = [](absl::string_view) { return absl::AbortedError("stop"); };
  EXPECT_EQ(c->Stream(r, handler, nullptr), absl::AbortedError("stop"));
}

}  // namespace
}  // namespace kestrel::kube
