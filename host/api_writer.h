// File: api_writer.h
//
// Every write `kestrel scheduler` makes to the API server, as kube-scheduler
// makes them, run on a pool of workers so that no scheduling cycle waits for
// the network and bindings do not wait behind each other:
//
//   POST   pods/{name}/binding        the binding cycle (DefaultBinder)
//   PATCH  pods/{name}/status         PodScheduled=False and nominatedNodeName
//                                     (strategic merge, conditions by type),
//                                     DisruptionTarget on a preemption victim
//   DELETE pods/{name}                a preemption victim (UID precondition)
//   POST   events                     events.k8s.io/v1, or core/v1 where the
//                                     group is not served
//
// Every write first asks `may_write` (the host: "am I the leader?"); when it
// says no, nothing is sent and the write fails with FailedPrecondition. The
// events are upstream's: reason, action, note and type as kube-scheduler
// records them, reportingController the profile's schedulerName,
// reportingInstance "<controller>-<hostname>", the event named
// "<pod>.<nanoseconds in hex>". Not done: upstream's event series and
// aggregation of repeats (each event here is one object).
//
// Thread-safe.

#ifndef KESTREL_HOST_API_WRITER_H_
#define KESTREL_HOST_API_WRITER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "kube/client.h"

namespace kestrel::host {

// The pod a write is about.
struct PodRef {
  std::string ns;
  std::string name;
  std::string uid;
};

struct ApiWriterOptions {
  // Requests in flight at once.
  int workers = 16;
  // For reportingInstance; "": gethostname().
  std::string hostname;
  // Asked before every write; null: always.
  std::function<bool()> may_write;
  // The time events carry; null: absl::Now().
  std::function<absl::Time()> clock;
  // Events go through this client when set: kube-scheduler gives events a
  // clientset of their own (createClients' eventClient), so that they do
  // not spend the token bucket bindings and status patches draw on.
  std::shared_ptr<kube::Client> event_client;
};

class ApiWriter {
 public:
  ApiWriter(std::shared_ptr<kube::Client> client, ApiWriterOptions options);
  // Runs what was submitted, then stops the workers.
  ~ApiWriter();
  ApiWriter(const ApiWriter&) = delete;
  ApiWriter& operator=(const ApiWriter&) = delete;

  // DetectEventsApi()
  //
  // Whether the server serves events.k8s.io/v1 (GET /apis/events.k8s.io/v1);
  // core/v1 events are written otherwise. Until called, events.k8s.io.
  void DetectEventsApi();

  // Submit()
  //
  // Runs `job` on a worker.
  void Submit(std::function<void()> job) ABSL_LOCKS_EXCLUDED(mu_);

  // Drain()
  //
  // Waits until every job submitted before it has run.
  void Drain() ABSL_LOCKS_EXCLUDED(mu_);

  // The writes; each blocks for its request (call them from a job).

  // POST pods/{name}/binding, as DefaultBinder: the binding names the pod's
  // UID, so a pod deleted and re-created under its name is not bound.
  absl::Status Bind(const PodRef& pod, const std::string& node);

  // PATCH pods/{name}/status: the PodScheduled condition (status False,
  // `reason`, `message`, lastTransitionTime now) and, when `nominated` is
  // set, status.nominatedNodeName (an empty string clears it).
  absl::Status PatchScheduledCondition(const PodRef& pod, const std::string& reason,
                                       const std::string& message,
                                       const std::string* nominated);

  // PATCH pods/{name}/status: clears status.nominatedNodeName.
  absl::Status ClearNominatedNodeName(const PodRef& pod);

  // PATCH pods/{name}/status: the DisruptionTarget condition a preemption
  // victim gets (reason PreemptionByScheduler, message "<schedulerName>:
  // preempting to accommodate a higher priority pod").
  absl::Status PatchDisruptionTarget(const PodRef& victim, const std::string& scheduler_name);

  // DELETE pods/{name} with a UID precondition; NotFound counts as done.
  absl::Status DeletePod(const PodRef& pod);

  // POST an event about `regarding` (and `related`, may be null) by
  // `controller` (the profile's schedulerName). `type` "Normal" or
  // "Warning". Failures are returned, never retried past the client's own.
  absl::Status Event(const std::string& controller, const PodRef& regarding,
                     const PodRef* related, const std::string& type, const std::string& reason,
                     const std::string& action, const std::string& note);

  // Counts, for tests and metrics.
  int64_t refused_writes() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status Allowed(const std::string& what) ABSL_LOCKS_EXCLUDED(mu_);
  kube::Client& events_client() const {
    return options_.event_client != nullptr ? *options_.event_client : *client_;
  }
  absl::Time Now() const { return options_.clock ? options_.clock() : absl::Now(); }
  void Work() ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<kube::Client> client_;
  const ApiWriterOptions options_;
  std::string hostname_;
  std::atomic<bool> events_k8s_io_{true};

  // std::mutex, for ThreadSanitizer (Debian's Abseil is not built for it).
  mutable std::mutex mu_;
  // A job was submitted, or the writer stops: one worker is woken per job
  // (waking all of them for every job had them fight over mu_).
  std::condition_variable work_;
  // The last job finished: Drain() waits on it.
  std::condition_variable idle_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> workers_;
};


}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_WRITER_H_
