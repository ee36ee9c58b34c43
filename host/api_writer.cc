#include "host/api_writer.h"

#include <pthread.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kube/codec.h"
#include "nlohmann/json.hpp"

namespace kestrel::host {
namespace {

using Json = nlohmann::json;

std::string PodPath(const PodRef& pod) {
  return absl::StrCat("/api/v1/namespaces/", pod.ns, "/pods/", pod.name);
}

std::string Hostname() {
  char name[256] = "";
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

Json ObjectReference(const PodRef& pod) {
  Json ref = {{"kind", "Pod"}, {"apiVersion", "v1"}, {"namespace", pod.ns}, {"name", pod.name}};
  if (!pod.uid.empty()) ref["uid"] = pod.uid;
  return ref;
}

}  // namespace

ApiWriter::ApiWriter(std::shared_ptr<kube::Client> client, ApiWriterOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  hostname_ = options_.hostname.empty() ? Hostname() : options_.hostname;
  const int workers = std::max(1, options_.workers);
  for (int i = 0; i < workers; ++i) {
    workers_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "api-writer");
      Work();
    });
  }
}

ApiWriter::~ApiWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ApiWriter::DetectEventsApi() {
  absl::StatusOr<kube::Response> r = client_->Get("/apis/events.k8s.io/v1");
  // Only a clear "not served" switches to core/v1; an unreachable server
  // says nothing about the group.
  events_k8s_io_ = !(!r.ok() && absl::IsNotFound(r.status()));
}

void ApiWriter::Submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  work_.notify_one();
}

void ApiWriter::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return jobs_.empty() && running_ == 0;
  });
}

void ApiWriter::Work() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return stopping_ || !jobs_.empty();
      });
      if (jobs_.empty()) return;  // stopping, and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    job();
    bool idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle = --running_ == 0 && jobs_.empty();
    }
    if (idle) idle_.notify_all();
  }
}

int64_t ApiWriter::refused_writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

absl::Status ApiWriter::Allowed(const std::string& what) {
  if (options_.may_write == nullptr || options_.may_write()) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++refused_;
  }
  return absl::FailedPreconditionError(absl::StrCat(what, ": not sent: not the leader"));
}

absl::Status ApiWriter::Bind(const PodRef& pod, const std::string& node) {
  const std::string path = PodPath(pod) + "/binding";
  if (absl::Status s = Allowed("POST " + path); !s.ok()) return s;
  Json metadata = {{"name", pod.name}, {"namespace", pod.ns}};
  if (!pod.uid.empty()) metadata["uid"] = pod.uid;
  const Json binding = {{"apiVersion", "v1"},
                        {"kind", "Binding"},
                        {"metadata", metadata},
                        {"target", {{"kind", "Node"}, {"name", node}}}};
  return client_->Post(path, binding.dump()).status();
}

absl::Status ApiWriter::PatchScheduledCondition(const PodRef& pod, const std::string& reason,
                                                const std::string& message,
                                                const std::string* nominated) {
  const std::string path = PodPath(pod) + "/status";
  if (absl::Status s = Allowed("PATCH " + path); !s.ok()) return s;
  Json status = {{"conditions",
                  Json::array({{{"type", "PodScheduled"},
                                {"status", "False"},
                                {"reason", reason},
                                {"message", message},
                                {"lastProbeTime", nullptr},
                                {"lastTransitionTime", kube::TimeString(Now())}}})}};
  if (nominated != nullptr) {
    status["nominatedNodeName"] = nominated->empty() ? Json(nullptr) : Json(*nominated);
  }
  return client_
      ->Patch(path, "application/strategic-merge-patch+json", Json{{"status", status}}.dump())
      .status();
}

absl::Status ApiWriter::ClearNominatedNodeName(const PodRef& pod) {
  const std::string path = PodPath(pod) + "/status";
  if (absl::Status s = Allowed("PATCH " + path); !s.ok()) return s;
  return client_
      ->Patch(path, "application/merge-patch+json",
              Json{{"status", {{"nominatedNodeName", nullptr}}}}.dump())
      .status();
}

absl::Status ApiWriter::PatchDisruptionTarget(const PodRef& victim,
                                              const std::string& scheduler_name) {
  const std::string path = PodPath(victim) + "/status";
  if (absl::Status s = Allowed("PATCH " + path); !s.ok()) return s;
  const Json patch = {
      {"status",
       {{"conditions",
         Json::array({{{"type", "DisruptionTarget"},
                       {"status", "True"},
                       {"reason", "PreemptionByScheduler"},
                       {"message", absl::StrCat(scheduler_name,
                                                ": preempting to accommodate a higher "
                                                "priority pod")},
                       {"lastTransitionTime", kube::TimeString(Now())}}})}}}};
  absl::Status s =
      client_->Patch(path, "application/strategic-merge-patch+json", patch.dump()).status();
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

absl::Status ApiWriter::DeletePod(const PodRef& pod) {
  const std::string path = PodPath(pod);
  if (absl::Status s = Allowed("DELETE " + path); !s.ok()) return s;
  kube::Request r;
  r.method = "DELETE";
  r.path = path;
  r.content_type = "application/json";
  Json options = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!pod.uid.empty()) options["preconditions"] = {{"uid", pod.uid}};
  r.body = options.dump();
  r.idempotent = true;  // a second delete finds the pod gone or terminating
  absl::Status s = client_->Do(r).status();
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

absl::Status ApiWriter::Event(const std::string& controller, const PodRef& regarding,
                              const PodRef* related, const std::string& type,
                              const std::string& reason, const std::string& action,
                              const std::string& note) {
  const absl::Time now = Now();
  const std::string name =
      absl::StrFormat("%s.%x", regarding.name, absl::ToUnixNanos(now));
  const std::string instance = absl::StrCat(controller, "-", hostname_);
  if (events_k8s_io_) {
    const std::string path =
        absl::StrCat("/apis/events.k8s.io/v1/namespaces/", regarding.ns, "/events");
    if (absl::Status s = Allowed("POST " + path); !s.ok()) return s;
    Json event = {{"apiVersion", "events.k8s.io/v1"},
                  {"kind", "Event"},
                  {"metadata", {{"name", name}, {"namespace", regarding.ns}}},
                  {"eventTime", kube::MicroTimeString(now)},
                  {"reportingController", controller},
                  {"reportingInstance", instance},
                  {"action", action},
                  {"reason", reason},
                  {"regarding", ObjectReference(regarding)},
                  {"note", note},
                  {"type", type}};
    if (related != nullptr) event["related"] = ObjectReference(*related);
    return events_client().Post(path, event.dump()).status();
  }
  const std::string path = absl::StrCat("/api/v1/namespaces/", regarding.ns, "/events");
  if (absl::Status s = Allowed("POST " + path); !s.ok()) return s;
  Json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}, {"namespace", regarding.ns}}},
                {"involvedObject", ObjectReference(regarding)},
                {"reason", reason},
                {"message", note},
                {"source", {{"component", controller}}},
                {"firstTimestamp", kube::TimeString(now)},
                {"lastTimestamp", kube::TimeString(now)},
                {"count", 1},
                {"type", type},
                {"eventTime", kube::MicroTimeString(now)},
                {"action", action},
                {"reportingComponent", controller},
                {"reportingInstance", instance}};
  if (related != nullptr) event["related"] = ObjectReference(*related);
  return events_client().Post(path, event.dump()).status();
}

}  // namespace kestrel::host
