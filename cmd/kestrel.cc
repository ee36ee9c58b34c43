// The `kestrel` binary: flags and wiring only. See DESIGN.md section 7.
//
// Exit status: 0 success, 2 bad input or usage, 1 an internal failure.

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/config/leader_election.h"
#include "cmd/flags.h"
#include "host/live_whatif.h"
#include "host/scheduler_host.h"
#include "host/serving/delegating_auth.h"
#include "kube/client.h"
#include "kube/testing/standalone.h"
#include "rescheduler/api_host.h"
#include "rescheduler/rescheduler.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"
#include "service/server.h"
#include "service/whatif_service.h"
#include "sim/cluster.h"
#include "sim/explain.h"
#include "sim/generate.h"
#include "sim/html_report.h"
#include "sim/progress.h"
#include "sim/report.h"
#include "service/grpc_auth.h"
#include "service/server.h"
#include "service/whatif_service.h"
#include "sim/simulator.h"
#include "sim/whatif.h"
#include "util/klog/klog.h"

namespace kestrel::cmd {
namespace {

constexpr char kUsage[] = R"(usage: kestrel <command> [flags]

commands:
  simulate  --cluster=F [--pods=F] [--config=F] [--seed=N] [--threads=N] [--output=text|json] [--summary]
            [--report=FILE.html [--group-by=NODE_LABEL]]
            schedule every unbound pod offline, by priority then file order, with
            preemption, then run the critical-addon rescheduler in virtual time;
            Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs in the
            files become the pods their controllers would create;
            --scale=KIND/NAME=N (repeatable; deployment, replicaset, statefulset,
            job) asks what if that workload had N replicas (a Job: parallelism);
            [--rescheduler=true|false] [--system-namespace=kube-system]
            [--housekeeping-interval=10s] [--initial-delay=2m]
            [--pod-scheduled-timeout=10m]
  explain   --cluster=F --pod=NS/NAME [--pods=F] [--config=F] [--seed=N] [--output=text|json]
            per node: every filter verdict, every score, the selected node
  simulate and explain also take --alpha-annotations=true|false: read the
            Kubernetes 1.4 scheduler.alpha.kubernetes.io annotations (default:
            the config's alphaAnnotations, true when unset)
  generate  --workload=NAME --nodes=N [--init-pods=M] [--pods=K] [--seed=N]
            [--format=yaml|json|protobuf]
            write a synthetic cluster (scheduler_perf workloads) as YAML
  rescheduler [--kubeconfig=F [--context=NAME]] [--master=URL] [--config=F] [--passes=N]
            the critical-addon rescheduler against an API server (without
            --kubeconfig: the config's clientConnection.kubeconfig, else the
            pod's service account), with the 1.4 flags
            --housekeeping-interval, --system-namespace, --initial-delay and
            --pod-scheduled-timeout; --passes=N stops after N passes (0: never);
            --kube-api-qps, --kube-api-burst and --kube-api-content-type
            override the config's clientConnection (defaults 50, 100 and
            application/vnd.kubernetes.protobuf)
  scheduler [--config=F] [--kubeconfig=F [--context=NAME]] [--master=URL] [--leader-elect=true|false]
            [--secure-port=10259] [--bind-address=0.0.0.0] [--tls-cert-file=F
            --tls-private-key-file=F] [--authorization-always-allow-paths=P,...]
            [--v=N] [--kube-api-qps=Q] [--kube-api-burst=B] [--kube-api-content-type=T]
            [--rescheduler[=true|false]] with the rescheduler's flags above
            Kestrel as the cluster's scheduler, kube-scheduler's flags: pods of
            the config's profiles are scheduled and bound; health, readiness,
            /metrics and /configz over HTTPS on --secure-port (0: none); runs
            until SIGINT or SIGTERM; exits 1 when leadership is lost
  place     --cluster=F --pods=F [--config=F] [--seed=N] [--threads=N]
            [--preemption=true|false] [--output=text|json]
            where would the pods of --pods go in the cluster (its bound pods;
            its unbound pods are ignored): the placements simulate would report
  capacity  --cluster=F --template=POD.yaml [--limit=N] [--config=F] [--seed=N]
            [--threads=N] [--output=text|json]
            how many more copies of the pod fit, scheduled one after another
            with the full profile and no preemption; per node; what stopped it
  scaleup   --cluster=F --templates=NODES.yaml [--pods=F] [--max-count=10] [--config=F]
            [--seed=N] [--threads=N] [--output=text|json]
            which pods land if nodes of each template are added, and how many
            nodes each template needs (each template on its own; no preemption):
            the Nodes of --templates are the templates (annotation
            kestrel.io/max-count caps each, else --max-count); without --pods,
            the cluster's unbound pods
  drain     --cluster=F --nodes=A,B [--delete-local-data] [--config=F] [--seed=N]
            [--threads=N] [--output=text|json]
            could the nodes be drained together: DaemonSet and mirror pods stay;
            pods with emptyDir volumes (unless --delete-local-data), without a
            controller, or whose PodDisruptionBudget allows no more disruption
            block it; the rest are rescheduled onto the other nodes
  serve     --listen=ADDR (--cluster=F... | [--kubeconfig=F [--context=NAME]] [--master=URL])
            [--config=F] [--tls-cert-file=F --tls-private-key-file=F
            [--client-ca-file=F]] [--max-pods-per-request=N] [--max-capacity=N]
            [--max-request-bytes=N] [--threads-per-request=N]
            [--fork-ttl=5m] [--max-forks=100]
            the gRPC what-if service (api/service.proto: Place, Explain,
            Capacity, ScaleUp, Drain), with grpc.health.v1 and server
            reflection; a request may keep its fork (keep_fork) for --fork-ttl
            and later ones build on it (fork_id); the --cluster files are read
            again on SIGHUP; without --cluster, the cluster of
            --kubeconfig (else the config's clientConnection.kubeconfig, else
            the pod's service account), kept current by informers, NOT_SERVING
            until they have synced, every call authorized by TokenReview and
            SubjectAccessReview (non-resource path /kestrel.v1.WhatIf/<RPC>,
            verb post; --authorization-always-allow-paths=P,... skips both,
            "/*" every call; answers kept 10s:
            --authentication-token-webhook-cache-ttl,
            --authorization-webhook-cache-authorized-ttl,
            --authorization-webhook-cache-unauthorized-ttl), with --kube-api-qps,
            --kube-api-burst, --kube-api-content-type and --v; runs until
            SIGINT or SIGTERM
  apiserver --listen=127.0.0.1:PORT [--load=F]... [--kubeconfig-out=F]
            the in-memory API server, for trying Kestrel and kubectl without a
            cluster: loopback only (PORT 0: any free port), the objects of each
            --load file created in order, a kubeconfig written to
            --kubeconfig-out; runs until SIGINT or SIGTERM
)";

int Fail(const absl::Status& s) {
  std::cerr << "kestrel: " << s.message() << "\n";
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 2;
    default:
      return 1;
  }
}

int Usage(const std::string& problem) {
  std::cerr << "kestrel: " << problem << "\n\n" << kUsage;
  return 2;
}

absl::StatusOr<config::KubeSchedulerConfiguration> ConfigFromFlags(const Flags& flags) {
  if (!flags.Has("config")) return scheduler::DefaultConfig();
  return scheduler::LoadConfig(flags.Get("config"), scheduler::InTreeRegistry());
}

// --alpha-annotations overrides the config's alphaAnnotations (default true).
absl::StatusOr<model::CompileOptions> CompileOptionsFrom(
    const Flags& flags, const config::KubeSchedulerConfiguration& config) {
  model::CompileOptions options;
  options.alpha_annotations = !config.has_alphaannotations() || config.alphaannotations();
  if (flags.Has("alpha-annotations")) {
    const std::string v = flags.Get("alpha-annotations");
    if (v != "true" && v != "false") {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --alpha-annotations: \"", v, "\": want true or false"));
    }
    options.alpha_annotations = v == "true";
  }
  return options;
}

absl::StatusOr<sim::Cluster> ClusterFromFlags(const Flags& flags,
                                              const sim::LoadOptions& options) {
  absl::StatusOr<std::string> cluster = flags.Required("cluster");
  if (!cluster.ok()) return cluster.status();
  std::vector<std::string> files = {*cluster};
  if (flags.Has("pods")) files.push_back(flags.Get("pods"));
  return sim::LoadFiles(files, options);
}

absl::StatusOr<sim::SimOptions> OptionsFromFlags(const Flags& flags) {
  sim::SimOptions options;
  absl::StatusOr<int64_t> seed = flags.Int("seed", 1);
  if (!seed.ok()) return seed.status();
  absl::StatusOr<int64_t> threads = flags.Int("threads", 0);
  if (!threads.ok()) return threads.status();
  if (*threads < 0) return absl::InvalidArgumentError("flag --threads: must be >= 0");
  options.seed = static_cast<uint64_t>(*seed);
  options.threads = static_cast<int>(*threads);
  return options;
}

// The rescheduler's flags, as the Kubernetes 1.4 rescheduler had them.
absl::Status ReschedulerOptionsFromFlags(const Flags& flags, rescheduler::Options* options) {
  rescheduler::Options& r = *options;
  for (auto [name, out] : {std::pair<const char*, absl::Duration*>{"housekeeping-interval",
                                                                   &r.housekeeping_interval},
                           {"initial-delay", &r.initial_delay},
                           {"pod-scheduled-timeout", &r.pod_scheduled_timeout}}) {
    if (!flags.Has(name)) continue;
    const std::string v = flags.Get(name);
    absl::Duration d;
    if (!absl::ParseDuration(v, &d) || d < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "flag --", name, ": \"", v, "\": want a duration such as 10s, 2m or 1h30m"));
    }
    *out = d;
  }
  if (r.housekeeping_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("flag --housekeeping-interval: must be positive");
  }
  if (flags.Has("system-namespace")) {
    r.system_namespace = flags.Get("system-namespace");
    if (r.system_namespace.empty()) {
      return absl::InvalidArgumentError("flag --system-namespace: must not be empty");
    }
  }
  return absl::OkStatus();
}

// simulate: the rescheduler's flags, and --rescheduler=false to turn it off.
absl::Status ReschedulerFromFlags(const Flags& flags, sim::SimOptions* options) {
  const std::string on = flags.Get("rescheduler", "true");
  if (on != "true" && on != "false") {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --rescheduler: \"", on, "\": want true or false"));
  }
  options->rescheduler = on == "true";
  return ReschedulerOptionsFromFlags(flags, &options->rescheduler_options);
}

absl::Status CheckOutput(const Flags& flags) {
  const std::string output = flags.Get("output", "text");
  if (output != "text" && output != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --output: \"", output, "\": want text or json"));
  }
  return absl::OkStatus();
}

// What simulate and explain both read from their flags.
struct Inputs {
  bool json = false;
  sim::SimOptions options;
  config::KubeSchedulerConfiguration config;
  sim::Cluster cluster;
};

// `progress`, when set, shows loading and expanding.
absl::StatusOr<Inputs> InputsFromFlags(const Flags& flags, sim::ProgressLine* progress = nullptr) {
  if (auto s = CheckOutput(flags); !s.ok()) return s;
  Inputs in;
  in.json = flags.Get("output", "text") == "json";
  auto options = OptionsFromFlags(flags);
  if (!options.ok()) return options.status();
  in.options = *options;
  auto config = ConfigFromFlags(flags);
  if (!config.ok()) return config.status();
  in.config = *std::move(config);
  auto compile = CompileOptionsFrom(flags, in.config);
  if (!compile.ok()) return compile.status();
  sim::LoadOptions load;
  load.compile = *compile;
  for (const std::string& text : flags.All("scale")) {
    absl::StatusOr<sim::ScaleRequest> scale = sim::ParseScale(text);
    if (!scale.ok()) return scale.status();
    load.scale.push_back(*std::move(scale));
  }
  if (progress != nullptr) {
    load.progress = [progress](absl::string_view phase, size_t done, size_t total) {
      progress->Update(phase, done, total);
    };
  }
  auto cluster = ClusterFromFlags(flags, load);
  if (progress != nullptr) progress->Finish();
  if (!cluster.ok()) return cluster.status();
  for (const std::string& w : cluster->warnings) std::cerr << "kestrel: warning: " << w << "\n";
  in.cluster = *std::move(cluster);
  return in;
}

// --report=FILE.html and --group-by=LABEL.
absl::StatusOr<sim::HtmlReportOptions> HtmlReportFromFlags(const Flags& flags) {
  sim::HtmlReportOptions options;
  if (flags.Has("report") && flags.Get("report").empty()) {
    return absl::InvalidArgumentError("flag --report: must name a file");
  }
  if (flags.Has("group-by")) {
    if (!flags.Has("report")) return absl::InvalidArgumentError("flag --group-by: needs --report");
    options.group_by = flags.Get("group-by");
    if (options.group_by.empty()) {
      return absl::InvalidArgumentError("flag --group-by: must name a node label");
    }
  }
  return options;
}

int Simulate(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(
      args, {"cluster", "pods", "config", "seed", "threads", "output", "summary",
             "alpha-annotations", "rescheduler", "system-namespace", "housekeeping-interval",
             "initial-delay", "pod-scheduled-timeout", "report", "group-by", "scale"},
      {"scale"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  sim::ProgressLine::Options progress_options;
  progress_options.enabled = sim::ProgressLine::StderrIsTerminal();
  sim::ProgressLine progress(&std::cerr, progress_options);
  auto in = InputsFromFlags(*flags, &progress);
  if (!in.ok()) return Fail(in.status());
  if (absl::Status s = ReschedulerFromFlags(*flags, &in->options); !s.ok()) return Fail(s);
  auto html = HtmlReportFromFlags(*flags);
  if (!html.ok()) return Fail(html.status());
  std::optional<sim::ReportRecorder> recorder;
  if (flags->Has("report")) {
    in->options.observer = &recorder.emplace(*html, in->cluster.pending_pods.size());
  }
  in->options.progress = [&progress](size_t done, size_t total) {
    progress.Update("scheduling", done, total);
  };
  auto report = sim::Simulate(in->cluster, in->config, in->options);
  progress.Finish();
  if (!report.ok()) return Fail(report.status());
  if (recorder.has_value()) {
    absl::Status s = sim::WriteHtmlReport(flags->Get("report"), in->cluster, *report, *recorder, *html);
    if (!s.ok()) return Fail(s);
  }
  std::cout << (in->json ? sim::SimulateJson(*report)
                         : sim::SimulateText(*report, !flags->Has("summary")));
  return 0;
}

int Explain(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"cluster", "pods", "pod", "config", "seed", "threads", "output",
                                     "alpha-annotations"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  if (auto s = CheckOutput(*flags); !s.ok()) return Fail(s);
  auto pod = flags->Required("pod");
  if (!pod.ok()) return Fail(pod.status());
  auto in = InputsFromFlags(*flags);
  if (!in.ok()) return Fail(in.status());
  auto explanation = sim::Explain(in->cluster, in->config, *pod, in->options);
  if (!explanation.ok()) return Fail(explanation.status());
  std::cout << (in->json ? sim::ExplainJson(*explanation) : sim::ExplainText(*explanation));
  return 0;
}

// The cluster files and config of place, capacity and serve, loaded as the
// base of the what-if questions.
absl::StatusOr<std::unique_ptr<sim::WhatIf>> WhatIfFromFlags(
    const Flags& flags, const std::vector<std::string>& files) {
  auto config = ConfigFromFlags(flags);
  if (!config.ok()) return config.status();
  auto compile = CompileOptionsFrom(flags, *config);
  if (!compile.ok()) return compile.status();
  auto cluster = sim::LoadFiles(files, *compile);
  if (!cluster.ok()) return cluster.status();
  for (const std::string& w : cluster->warnings) std::cerr << "kestrel: warning: " << w << "\n";
  return sim::WhatIf::Create(*std::move(cluster), *std::move(config));
}

absl::StatusOr<bool> BoolFlag(const Flags& flags, const std::string& name, bool fallback) {
  if (!flags.Has(name)) return fallback;
  const std::string v = flags.Get(name);
  if (v == "true" || v.empty()) return true;
  if (v == "false") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("flag --", name, ": \"", v, "\": want true or false"));
}

absl::StatusOr<sim::WhatIfOptions> WhatIfOptionsFromFlags(const Flags& flags) {
  auto sim_options = OptionsFromFlags(flags);
  if (!sim_options.ok()) return sim_options.status();
  sim::WhatIfOptions options;
  options.seed = sim_options->seed;
  options.threads = sim_options->threads == 0
                        ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))
                        : sim_options->threads;
  auto preemption = BoolFlag(flags, "preemption", true);
  if (!preemption.ok()) return preemption.status();
  options.preemption = *preemption;
  return options;
}

int Place(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"cluster", "pods", "config", "seed", "threads", "preemption",
                                   "output", "alpha-annotations"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  if (auto s = CheckOutput(*flags); !s.ok()) return Fail(s);
  auto cluster = flags->Required("cluster");
  if (!cluster.ok()) return Fail(cluster.status());
  auto pods_file = flags->Required("pods");
  if (!pods_file.ok()) return Fail(pods_file.status());
  auto options = WhatIfOptionsFromFlags(*flags);
  if (!options.ok()) return Fail(options.status());
  auto whatif = WhatIfFromFlags(*flags, {*cluster});
  if (!whatif.ok()) return Fail(whatif.status());
  auto pods = (*whatif)->CompilePodFile(*pods_file);
  if (!pods.ok()) return Fail(pods.status());
  auto placed = (*whatif)->Place(*pods, *options);
  if (!placed.ok()) return Fail(placed.status());
  std::cout << (flags->Get("output", "text") == "json" ? sim::PlaceJson(*placed)
                                                       : sim::PlaceText(*placed));
  return 0;
}

int Capacity(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"cluster", "template", "limit", "config", "seed", "threads",
                                   "output", "alpha-annotations"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  if (auto s = CheckOutput(*flags); !s.ok()) return Fail(s);
  auto cluster = flags->Required("cluster");
  if (!cluster.ok()) return Fail(cluster.status());
  auto template_file = flags->Required("template");
  if (!template_file.ok()) return Fail(template_file.status());
  auto limit = flags->Int("limit", 0);
  if (!limit.ok()) return Fail(limit.status());
  if (*limit < 0) return Fail(absl::InvalidArgumentError("flag --limit: must be >= 0"));
  auto options = WhatIfOptionsFromFlags(*flags);
  if (!options.ok()) return Fail(options.status());
  auto whatif = WhatIfFromFlags(*flags, {*cluster});
  if (!whatif.ok()) return Fail(whatif.status());
  auto pods = (*whatif)->CompilePodFile(*template_file);
  if (!pods.ok()) return Fail(pods.status());
  if (pods->size() != 1) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        *template_file, ": want exactly one Pod, found ", pods->size())));
  }
  auto result = (*whatif)->Capacity(pods->front(), *limit, *options);
  if (!result.ok()) return Fail(result.status());
  std::cout << (flags->Get("output", "text") == "json" ? sim::CapacityJson(*result)
                                                       : sim::CapacityText(*result));
  return 0;
}

int ScaleUp(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"cluster", "templates", "pods", "max-count", "config", "seed",
                                   "threads", "output", "alpha-annotations"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  if (auto s = CheckOutput(*flags); !s.ok()) return Fail(s);
  auto cluster = flags->Required("cluster");
  if (!cluster.ok()) return Fail(cluster.status());
  auto templates_file = flags->Required("templates");
  if (!templates_file.ok()) return Fail(templates_file.status());
  auto max_count = flags->Int("max-count", 10);
  if (!max_count.ok()) return Fail(max_count.status());
  if (*max_count < 1) return Fail(absl::InvalidArgumentError("flag --max-count: must be >= 1"));
  auto options = WhatIfOptionsFromFlags(*flags);
  if (!options.ok()) return Fail(options.status());
  auto templates = sim::ReadNodeTemplates(*templates_file, *max_count);
  if (!templates.ok()) return Fail(templates.status());
  auto whatif = WhatIfFromFlags(*flags, {*cluster});
  if (!whatif.ok()) return Fail(whatif.status());
  std::vector<model::PodPtr> pods;
  if (flags->Has("pods")) {
    auto read = (*whatif)->CompilePodFile(flags->Get("pods"));
    if (!read.ok()) return Fail(read.status());
    pods = *std::move(read);
  }
  auto result = (*whatif)->ScaleUp(pods, *templates, *options);
  if (!result.ok()) {
    // Name the file the templates came from.
    if (result.status().code() == absl::StatusCode::kInvalidArgument &&
        absl::StartsWith(result.status().message(), "node_templates")) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(*templates_file, ": ", result.status().message())));
    }
    return Fail(result.status());
  }
  std::cout << (flags->Get("output", "text") == "json" ? sim::ScaleUpJson(*result)
                                                       : sim::ScaleUpText(*result));
  return 0;
}

int Drain(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"cluster", "nodes", "delete-local-data", "config", "seed",
                                   "threads", "output", "alpha-annotations"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  if (auto s = CheckOutput(*flags); !s.ok()) return Fail(s);
  auto cluster = flags->Required("cluster");
  if (!cluster.ok()) return Fail(cluster.status());
  auto nodes = flags->Required("nodes");
  if (!nodes.ok()) return Fail(nodes.status());
  auto local = BoolFlag(*flags, "delete-local-data", false);
  if (!local.ok()) return Fail(local.status());
  auto options = WhatIfOptionsFromFlags(*flags);
  if (!options.ok()) return Fail(options.status());
  auto whatif = WhatIfFromFlags(*flags, {*cluster});
  if (!whatif.ok()) return Fail(whatif.status());
  sim::DrainOptions drain;
  drain.delete_local_data = *local;
  auto result = (*whatif)->Drain(absl::StrSplit(*nodes, ','), drain, *options);
  if (!result.ok()) {
    return Fail(
        absl::Status(result.status().code(), absl::StrCat("flag --", result.status().message())));
  }
  std::cout << (flags->Get("output", "text") == "json" ? sim::DrainJson(*result)
                                                       : sim::DrainText(*result));
  return 0;
}

// --fork-ttl and --max-forks: how long and how many kept forks (keep_fork)
// the service holds.
absl::Status ForkFlags(const Flags& flags, service::ServiceOptions* options) {
  if (flags.Has("fork-ttl")) {
    const std::string v = flags.Get("fork-ttl");
    if (!absl::ParseDuration(v, &options->fork_ttl) || options->fork_ttl <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --fork-ttl: \"", v, "\": want a positive duration (30s, 5m)"));
    }
  }
  auto max_forks = flags.Int("max-forks", options->max_forks);
  if (!max_forks.ok()) return max_forks.status();
  if (*max_forks < 0 || *max_forks > (int64_t{1} << 31) - 1) {
    return absl::InvalidArgumentError("flag --max-forks: must be >= 0");
  }
  options->max_forks = static_cast<int>(*max_forks);
  return absl::OkStatus();
}

// The API server --kubeconfig (and --context) names, else the config's
// clientConnection.kubeconfig, else the pod's service account; --master
// overrides the server's address, and alone is the address of a server
// that needs no credentials (client-go's BuildConfigFromFlags, as
// kube-scheduler's --master). How `kestrel scheduler`, `kestrel
// rescheduler` and `kestrel serve` find it.
absl::StatusOr<kube::Config> KubeConfigFromFlags(const Flags& flags,
                                                 const config::KubeSchedulerConfiguration& config) {
  const std::string kubeconfig = flags.Get("kubeconfig", config.clientconnection().kubeconfig());
  const std::string master = flags.Get("master");
  if (kubeconfig.empty() && !master.empty()) {
    kube::Config out;
    out.server = master;
    return out;
  }
  absl::StatusOr<kube::Config> out = !kubeconfig.empty()
                                         ? kube::LoadKubeconfig(kubeconfig, flags.Get("context"))
                                         : kube::InClusterConfig();
  if (out.ok() && !master.empty()) out->server = master;
  return out;
}

absl::StatusOr<kube::ClientOptions> ClientOptionsFromFlags(const Flags& flags,
                                                           config::ClientConnection connection);

// The gRPC what-if service. With --cluster, the files are the base and
// SIGHUP reads them (and the config) again; a reload that fails keeps the
// cluster being served. Otherwise the base is the API server's (--kubeconfig,
// else the config's clientConnection.kubeconfig, else the service
// account), kept current by informers, and every call needs a bearer token
// the API server authorizes (service/grpc_auth.h).
int Serve(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(
      args,
      {"listen", "cluster", "config", "tls-cert-file", "tls-private-key-file", "client-ca-file",
       "max-pods-per-request", "max-capacity", "max-request-bytes", "threads-per-request",
       "alpha-annotations", "kubeconfig", "master", "context", "authorization-always-allow-paths",
       "kube-api-qps", "kube-api-burst", "kube-api-content-type", "v",
       "authentication-token-webhook-cache-ttl", "authorization-webhook-cache-authorized-ttl",
       "authorization-webhook-cache-unauthorized-ttl", "fork-ttl", "max-forks"},
      {"cluster"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  auto listen = flags->Required("listen");
  if (!listen.ok()) return Fail(listen.status());
  const std::vector<std::string> files = flags->All("cluster");
  const bool live = !flags->Has("cluster");
  if (!live && (flags->Has("kubeconfig") || flags->Has("master"))) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "flags --cluster and --", flags->Has("kubeconfig") ? "kubeconfig" : "master",
        ": give one or the other (--cluster serves files, --kubeconfig or --master a live "
        "cluster)")));
  }
  if (!live) {
    for (const char* flag :
         {"context", "authorization-always-allow-paths", "kube-api-qps", "kube-api-burst",
          "kube-api-content-type", "authentication-token-webhook-cache-ttl",
          "authorization-webhook-cache-authorized-ttl",
          "authorization-webhook-cache-unauthorized-ttl"}) {
      if (flags->Has(flag)) {
        return Fail(absl::InvalidArgumentError(
            absl::StrCat("flag --", flag, ": only without --cluster (a live cluster)")));
      }
    }
    for (const std::string& file : files) {
      if (file.empty()) return Fail(absl::InvalidArgumentError("flag --cluster: empty file name"));
    }
  }
  absl::StatusOr<int64_t> verbosity = flags->Int("v", 0);
  if (!verbosity.ok()) return Fail(verbosity.status());
  klog::Logger::Global().set_verbosity(static_cast<int>(*verbosity));
  service::ServiceOptions service_options;
  auto max_pods = flags->Int("max-pods-per-request", service_options.max_pods_per_request);
  auto max_capacity = flags->Int("max-capacity", service_options.max_capacity);
  auto threads = flags->Int("threads-per-request", service_options.threads_per_request);
  service::ServerOptions server_options;
  auto max_bytes = flags->Int("max-request-bytes", server_options.max_request_bytes);
  for (const auto* v : {&max_pods, &max_capacity, &threads, &max_bytes}) {
    if (!v->ok()) return Fail(v->status());
  }
  if (*max_pods < 1 || *max_capacity < 1 || *threads < 1 || *max_bytes < 1 ||
      *max_bytes > (int64_t{1} << 31) - 1 || *max_pods > (int64_t{1} << 31) - 1) {
    return Fail(absl::InvalidArgumentError(
        "flags --max-pods-per-request, --max-capacity, --threads-per-request and "
        "--max-request-bytes: must be positive"));
  }
  if (auto s = ForkFlags(*flags, &service_options); !s.ok()) return Fail(s);
  service_options.max_pods_per_request = static_cast<int>(*max_pods);
  service_options.max_capacity = *max_capacity;
  service_options.threads_per_request = static_cast<int>(*threads);
  server_options.max_request_bytes = static_cast<int>(*max_bytes);
  server_options.listen = *listen;
  server_options.tls_cert_file = flags->Get("tls-cert-file");
  server_options.tls_private_key_file = flags->Get("tls-private-key-file");
  server_options.client_ca_file = flags->Get("client-ca-file");

  // Signals are taken by sigwait below: block them before gRPC starts threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (live) {
    auto config = ConfigFromFlags(*flags);
    if (!config.ok()) return Fail(config.status());
    auto compile = CompileOptionsFrom(*flags, *config);
    if (!compile.ok()) return Fail(compile.status());
    absl::StatusOr<kube::ClientOptions> client_options =
        ClientOptionsFromFlags(*flags, config->clientconnection());
    if (!client_options.ok()) return Fail(client_options.status());
    absl::StatusOr<kube::Config> kube_config = KubeConfigFromFlags(*flags, *config);
    if (!kube_config.ok()) return Fail(kube_config.status());
    auto created = kube::Client::Create(*kube_config, *client_options);
    if (!created.ok()) return Fail(created.status());
    std::shared_ptr<kube::Client> client = *std::move(created);
    host::AuthOptions auth_options;
    // Nothing of the WhatIf service is open by default (health and
    // reflection are not its methods, and are never asked about).
    auth_options.always_allow_paths.clear();
    if (flags->Has("authorization-always-allow-paths")) {
      auth_options.always_allow_paths = absl::StrSplit(
          flags->Get("authorization-always-allow-paths"), ',', absl::SkipEmpty());
    }
    // k8s.io/apiserver's DelegatingAuthenticationOptions and
    // DelegatingAuthorizationOptions: how long review answers are kept.
    for (auto [name, out] : {std::pair<const char*, absl::Duration*>{
                                 "authentication-token-webhook-cache-ttl",
                                 &auth_options.token_cache_ttl},
                             {"authorization-webhook-cache-authorized-ttl",
                              &auth_options.allow_cache_ttl},
                             {"authorization-webhook-cache-unauthorized-ttl",
                              &auth_options.deny_cache_ttl}}) {
      if (!flags->Has(name)) continue;
      const std::string v = flags->Get(name);
      absl::Duration d;
      if (!absl::ParseDuration(v, &d) || d < absl::ZeroDuration()) {
        return Fail(absl::InvalidArgumentError(absl::StrCat(
            "flag --", name, ": \"", v, "\": want a duration such as 10s, 2m or 1h30m")));
      }
      *out = d;
    }
    host::DelegatingAuth auth(client.get(), auth_options);
    service::GrpcAuthorizer authorizer(&auth);
    service_options.authorize = authorizer.AsHook();
    service::WhatIfService service(service_options);
    server_options.start_not_serving = true;
    auto running = service::StartServer(server_options, &service);
    if (!running.ok()) return Fail(running.status());
    grpc::Server* server = running->server.get();
    host::LiveWhatIfOptions live_options;
    live_options.config = *config;
    live_options.compile = *compile;
    live_options.on_base = [&service, server](std::shared_ptr<const sim::WhatIf> base) {
      service.SetBase(std::move(base));
      // Ready once the first base (every informer synced) is in place.
      server->GetHealthCheckService()->SetServingStatus(true);
    };
    host::LiveWhatIf state(client, live_options);
    if (absl::Status s = state.Start(); !s.ok()) {
      running->server->Shutdown();
      return Fail(s);
    }
    std::cerr << "kestrel serve: listening on " << server_options.listen << " (port "
              << running->port << "), cluster at " << kube_config->server
              << "; NOT_SERVING until the informers have synced; SIGINT stops" << std::endl;
    int signal = 0;
    while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
      std::cerr << "kestrel serve: SIGHUP ignored: the base follows the cluster" << std::endl;
    }
    running->server->Shutdown();
    state.Stop();
    std::cerr << "kestrel serve: stopped" << std::endl;
    return 0;
  }

  auto whatif = WhatIfFromFlags(*flags, files);
  if (!whatif.ok()) return Fail(whatif.status());
  const size_t nodes = (*whatif)->cluster().nodes.size();
  service::WhatIfService service(service_options);
  service.SetBase(*std::move(whatif));
  auto running = service::StartServer(server_options, &service);
  if (!running.ok()) return Fail(running.status());
  std::cerr << "kestrel serve: listening on " << server_options.listen << " (port "
            << running->port << "), " << nodes << " nodes; SIGHUP reloads, SIGINT stops"
            << std::endl;
  int signal = 0;
  while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    auto reloaded = WhatIfFromFlags(*flags, files);
    if (!reloaded.ok()) {
      std::cerr << "kestrel serve: reload failed, still serving the previous cluster: "
                << reloaded.status().message() << std::endl;
      continue;
    }
    const size_t n = (*reloaded)->cluster().nodes.size();
    service.SetBase(*std::move(reloaded));
    std::cerr << "kestrel serve: reloaded, " << n << " nodes" << std::endl;
  }
  running->server->Shutdown();
  std::cerr << "kestrel serve: stopped" << std::endl;
  return 0;
}

int Generate(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"workload", "nodes", "init-pods", "pods", "seed", "format"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  sim::GenerateOptions options;
  auto workload = flags->Required("workload");
  if (!workload.ok()) return Fail(workload.status());
  options.workload = *workload;
  auto nodes = flags->Int("nodes", 0);
  auto init_pods = flags->Int("init-pods", 0);
  auto pods = flags->Int("pods", 0);
  auto seed = flags->Int("seed", 1);
  for (const auto* v : {&nodes, &init_pods, &pods, &seed}) {
    if (!v->ok()) return Fail(v->status());
  }
  options.nodes = static_cast<int>(*nodes);
  options.init_pods = static_cast<int>(*init_pods);
  options.pods = static_cast<int>(*pods);
  options.seed = static_cast<uint64_t>(*seed);
  auto format = sim::ParseOutputFormat(flags->Get("format", "yaml"));
  if (!format.ok()) return Fail(format.status());
  options.format = *format;
  absl::Status s = sim::Generate(options, std::cout);
  if (!s.ok()) return Fail(s);
  std::cout.flush();
  return 0;
}

// kube-scheduler's --kube-api-qps, --kube-api-burst and
// --kube-api-content-type override the config's clientConnection.
absl::StatusOr<kube::ClientOptions> ClientOptionsFromFlags(
    const Flags& flags, config::ClientConnection connection) {
  absl::StatusOr<double> qps = flags.Double("kube-api-qps", connection.qps());
  if (!qps.ok()) return qps.status();
  absl::StatusOr<int64_t> burst = flags.Int("kube-api-burst", connection.burst());
  if (!burst.ok()) return burst.status();
  connection.set_qps(static_cast<float>(*qps));
  connection.set_burst(static_cast<int32_t>(*burst));
  if (flags.Has("kube-api-content-type")) {
    connection.set_contenttype(flags.Get("kube-api-content-type"));
  }
  return kube::ClientOptionsFromConfig(connection);
}

// The critical-addon rescheduler against an API server: --kubeconfig (and
// --context), else the config's clientConnection.kubeconfig, else the pod's
// service account.
int Rescheduler(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"kubeconfig", "master", "context", "config", "housekeeping-interval",
                                   "system-namespace", "initial-delay", "pod-scheduled-timeout",
                                   "passes", "kube-api-qps", "kube-api-burst",
                                   "kube-api-content-type"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  rescheduler::Options options;
  if (absl::Status s = ReschedulerOptionsFromFlags(*flags, &options); !s.ok()) return Fail(s);
  absl::StatusOr<int64_t> passes = flags->Int("passes", 0);
  if (!passes.ok()) return Fail(passes.status());
  if (*passes < 0) return Fail(absl::InvalidArgumentError("flag --passes: must be >= 0"));
  auto config = ConfigFromFlags(*flags);
  if (!config.ok()) return Fail(config.status());
  absl::StatusOr<kube::ClientOptions> client_options =
      ClientOptionsFromFlags(*flags, config->clientconnection());
  if (!client_options.ok()) return Fail(client_options.status());
  absl::StatusOr<kube::Config> kube_config = KubeConfigFromFlags(*flags, *config);
  if (!kube_config.ok()) return Fail(kube_config.status());
  auto client = kube::Client::Create(*kube_config, *client_options);
  if (!client.ok()) return Fail(client.status());
  rescheduler::ApiCluster cluster(std::shared_ptr<kube::Client>(*std::move(client)), *config);
  rescheduler::Rescheduler r(&cluster, cluster.planner(), options);
  absl::Status s = rescheduler::RunPasses(cluster, r, options, static_cast<int>(*passes),
                                          [](absl::Duration d) { absl::SleepFor(d); });
  if (!s.ok()) return Fail(s);
  return 0;
}

// Waits for SIGINT or SIGTERM on a thread of its own and notifies `stop`;
// the signals are blocked in every other thread (call before any thread).
class SignalWaiter {
 public:
  explicit SignalWaiter(absl::Notification* stop) : stop_(stop) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
    thread_ = std::thread([this] {
      while (!done_.HasBeenNotified()) {
        timespec tick{0, 100 * 1000 * 1000};
        const int signal = sigtimedwait(&set_, nullptr, &tick);
        if (signal == SIGINT || signal == SIGTERM) {
          if (!stop_->HasBeenNotified()) stop_->Notify();
          return;
        }
      }
    });
  }
  ~SignalWaiter() {
    done_.Notify();
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }

 private:
  absl::Notification* stop_;
  absl::Notification done_;
  sigset_t set_;
  sigset_t previous_;
  std::thread thread_;
};

// kube-scheduler's command: --config (else upstream's default
// configuration), --kubeconfig (else the config's clientConnection.kubeconfig,
// else the service account), --leader-elect (else the config's
// leaderElection.leaderElect, true), the secure-serving flags, --v.
int Scheduler(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(
      args, {"config", "kubeconfig", "master", "context", "leader-elect", "secure-port", "bind-address",
             "tls-cert-file", "tls-private-key-file", "authorization-always-allow-paths", "v",
             "kube-api-qps", "kube-api-burst", "kube-api-content-type", "seed", "rescheduler",
             "housekeeping-interval", "system-namespace", "initial-delay",
             "pod-scheduled-timeout"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  auto config = ConfigFromFlags(*flags);
  if (!config.ok()) return Fail(config.status());
  absl::StatusOr<int64_t> verbosity = flags->Int("v", 0);
  if (!verbosity.ok()) return Fail(verbosity.status());
  klog::Logger::Global().set_verbosity(static_cast<int>(*verbosity));
  host::SchedulerHostOptions options;
  options.config = *config;
  auto compile = CompileOptionsFrom(*flags, *config);
  if (!compile.ok()) return Fail(compile.status());
  options.compile = *compile;
  auto election = config::LeaderElectionFromConfig(*config, flags->Get("config", "the default configuration"));
  if (!election.ok()) return Fail(election.status());
  options.leader_election = *election;
  if (flags->Has("leader-elect")) {
    const std::string v = flags->Get("leader-elect");
    if (v != "true" && v != "false") {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("flag --leader-elect: \"", v, "\": want true or false")));
    }
    options.leader_election.leader_elect = v == "true";
  }
  absl::StatusOr<int64_t> port = flags->Int("secure-port", 10259);
  if (!port.ok()) return Fail(port.status());
  if (*port < 0 || *port > 65535) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("flag --secure-port: ", *port, " must be between 0 and 65535, inclusive")));
  }
  options.serve = *port != 0;
  options.serving.secure_port = static_cast<int>(*port);
  options.serving.bind_address = flags->Get("bind-address", "0.0.0.0");
  options.serving.tls_cert_file = flags->Get("tls-cert-file");
  options.serving.tls_private_key_file = flags->Get("tls-private-key-file");
  if (flags->Has("authorization-always-allow-paths")) {
    options.auth.always_allow_paths =
        absl::StrSplit(flags->Get("authorization-always-allow-paths"), ',', absl::SkipEmpty());
  }
  absl::StatusOr<int64_t> seed = flags->Int("seed", 1);
  if (!seed.ok()) return Fail(seed.status());
  options.seed = static_cast<uint64_t>(*seed);
  if (flags->Has("rescheduler")) {
    const std::string v = flags->Get("rescheduler");
    if (v != "true" && v != "false" && !v.empty()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("flag --rescheduler: \"", v, "\": want true or false")));
    }
    options.rescheduler = v != "false";
  }
  if (absl::Status s = ReschedulerOptionsFromFlags(*flags, &options.rescheduler_options);
      !s.ok()) {
    return Fail(s);
  }

  absl::StatusOr<kube::ClientOptions> client_options =
      ClientOptionsFromFlags(*flags, config->clientconnection());
  if (!client_options.ok()) return Fail(client_options.status());
  absl::StatusOr<kube::Config> kube_config = KubeConfigFromFlags(*flags, *config);
  if (!kube_config.ok()) return Fail(kube_config.status());
  auto client = kube::Client::Create(*kube_config, *client_options);
  if (!client.ok()) return Fail(client.status());
  // As kube-scheduler's createClients: events get a client of their own.
  auto event_client = kube::Client::Create(*kube_config, *client_options);
  if (!event_client.ok()) return Fail(event_client.status());
  options.event_client = std::shared_ptr<kube::Client>(*std::move(event_client));

  absl::Notification stop;
  SignalWaiter signals(&stop);
  KLOG.InfoS("Starting Kubernetes Scheduler", {{"version", "kestrel"}});
  host::SchedulerHost host(std::shared_ptr<kube::Client>(*std::move(client)), std::move(options));
  if (absl::Status s = host.Start(); !s.ok()) return Fail(s);
  absl::Status s = host.Wait(stop);
  host.Stop();
  if (!s.ok()) {
    std::cerr << "kestrel: " << s.message() << "\n";
    return 1;
  }
  return 0;
}

// The in-memory API server on its own: --listen (loopback only), --load
// (repeatable, in order), --kubeconfig-out.
int ApiServer(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"listen", "load", "kubeconfig-out"}, {"load"});
  if (!flags.ok()) return Usage(std::string(flags.status().message()));
  auto listen = flags->Required("listen");
  if (!listen.ok()) return Fail(listen.status());
  kube::testing::StandaloneOptions options;
  options.listen = *listen;
  options.load = flags->All("load");
  for (const std::string& file : options.load) {
    if (file.empty()) return Fail(absl::InvalidArgumentError("flag --load: empty file name"));
  }
  if (flags->Has("kubeconfig-out")) {
    options.kubeconfig_out = flags->Get("kubeconfig-out");
    if (options.kubeconfig_out.empty()) {
      return Fail(absl::InvalidArgumentError("flag --kubeconfig-out: empty file name"));
    }
  }
  absl::Status s = kube::testing::RunStandalone(options, std::cout, std::cerr);
  if (!s.ok()) return Fail(s);
  return 0;
}

}  // namespace
}  // namespace kestrel::cmd

int main(int argc, char** argv) {
  if (argc < 2) return kestrel::cmd::Usage("missing command");
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "simulate") return kestrel::cmd::Simulate(args);
  if (command == "explain") return kestrel::cmd::Explain(args);
  if (command == "generate") return kestrel::cmd::Generate(args);
  if (command == "place") return kestrel::cmd::Place(args);
  if (command == "capacity") return kestrel::cmd::Capacity(args);
  if (command == "scaleup") return kestrel::cmd::ScaleUp(args);
  if (command == "drain") return kestrel::cmd::Drain(args);
  if (command == "serve") return kestrel::cmd::Serve(args);
  if (command == "rescheduler") return kestrel::cmd::Rescheduler(args);
  if (command == "apiserver") return kestrel::cmd::ApiServer(args);
  if (command == "scheduler") return kestrel::cmd::Scheduler(args);
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kestrel::cmd::kUsage;
    return 0;
  }
  return kestrel::cmd::Usage(absl::StrCat("unknown command \"", command, "\""));
}
