#include "service/whatif_service.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"

namespace kestrel::service {
namespace {

namespace pb = ::kestrel::v1;

// absl and gRPC number their status codes alike.
grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// The first field of `message` (depth first, in field order) that this
// server's protos do not define, as "<path>: Unknown field: number N", or
// empty. Protobuf keeps unknown fields when it parses (proto3 too, since
// 3.5), so a newer client's field would otherwise be dropped without a
// word and the question answered as if it had not been asked.
std::string UnknownField(const google::protobuf::Message& message, const std::string& path) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown = reflection->GetUnknownFields(message);
  if (!unknown.empty()) {
    return absl::StrCat(path.empty() ? "request" : path, ": Unknown field: number ",
                        unknown.field(0).number(), " (a field this server's protos do not define)");
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string name = path.empty() ? f->name() : absl::StrCat(path, ".", f->name());
    if (f->is_repeated()) {  // maps too: their entries are messages
      for (int i = 0; i < reflection->FieldSize(message, f); ++i) {
        std::string found = UnknownField(reflection->GetRepeatedMessage(message, f, i),
                                         absl::StrCat(name, "[", i, "]"));
        if (!found.empty()) return found;
      }
    } else {
      std::string found = UnknownField(reflection->GetMessage(message, f), name);
      if (!found.empty()) return found;
    }
  }
  return "";
}

grpc::Status CheckKnownFields(const google::protobuf::Message& request) {
  std::string found = UnknownField(request, "");
  return found.empty() ? grpc::Status::OK : Invalid(found);
}

void ToProto(const sim::Placement& p, pb::Placement* out) {
  out->set_pod(p.pod);
  out->set_node(p.node);
  for (const std::string& v : p.victims) out->add_victims(v);
  out->set_nominated_node(p.nominated_node);
  out->set_message(p.message);
}

void ToProto(const sim::Explanation& e, pb::ExplainResponse* out) {
  out->set_pod(e.pod);
  pb::EffectiveRequests* r = out->mutable_requests();
  r->set_milli_cpu(e.requests.milli_cpu);
  r->set_memory(e.requests.memory);
  r->set_ephemeral_storage(e.requests.ephemeral_storage);
  for (const auto& [name, value] : e.requests.scalar) (*r->mutable_scalar())[name] = value;
  r->set_non_zero_milli_cpu(e.requests.non_zero_milli_cpu);
  r->set_non_zero_memory(e.requests.non_zero_memory);
  if (e.pre_filter_rejection.has_value()) {
    out->mutable_pre_filter_rejection()->set_plugin(e.pre_filter_rejection->plugin);
    out->mutable_pre_filter_rejection()->set_message(e.pre_filter_rejection->message);
  }
  for (const std::string& p : e.score_plugins) out->add_score_plugins(p);
  out->set_score_error(e.score_error);
  for (const sim::NodeExplanation& n : e.nodes) {
    pb::NodeExplanation* node = out->add_nodes();
    node->set_node(n.node);
    node->set_feasible(n.feasible);
    for (const auto& [plugin, verdict] : n.filters) {
      pb::PluginVerdict* v = node->add_filters();
      v->set_plugin(plugin);
      v->set_verdict(verdict);
    }
    for (const auto& [plugin, score] : n.scores) {
      pb::PluginScore* s = node->add_scores();
      s->set_plugin(plugin);
      s->set_score(score);
    }
    for (const std::string& p : n.skipped_scores) node->add_skipped_scores(p);
    node->set_total(n.total);
    node->set_excluded(n.excluded);
  }
  out->set_selected(e.selected);
  out->set_message(e.message);
}

}  // namespace

WhatIfService::WhatIfService(ServiceOptions options)
    : options_(std::move(options)),
      forks_(sim::ForkStore::Options{options_.fork_ttl, options_.max_forks, options_.now}) {}

void WhatIfService::SetBase(std::shared_ptr<const sim::WhatIf> base) {
  std::lock_guard<std::mutex> lock(mu_);
  base_ = std::move(base);
}

std::shared_ptr<const sim::WhatIf> WhatIfService::base() const {
  std::lock_guard<std::mutex> lock(mu_);
  return base_;
}

grpc::Status WhatIfService::Authorize(const grpc::ServerContext& context,
                                     absl::string_view rpc) const {
  if (!options_.authorize) return grpc::Status::OK;
  return options_.authorize(context, absl::StrCat("/", pb::WhatIf::service_full_name(), "/", rpc));
}

sim::WhatIfOptions WhatIfService::OptionsFor(grpc::ServerContext* context,
                                             const pb::Options& options) const {
  sim::WhatIfOptions out;
  out.seed = options.has_seed() ? options.seed() : 1;
  out.preemption = options.has_preemption() ? options.preemption() : true;
  out.threads = options_.threads_per_request;
  // Checked before every pod: a question past its deadline stops there
  // rather than finishing work nobody waits for.
  const absl::Time deadline = absl::FromChrono(context->deadline());
  auto now = options_.now;
  out.interrupt = [context, deadline, now]() {
    if (now() > deadline) return absl::DeadlineExceededError("deadline exceeded");
    if (context->IsCancelled()) return absl::CancelledError("cancelled by the client");
    return absl::OkStatus();
  };
  return out;
}

grpc::Status WhatIfService::Prepare(grpc::ServerContext* context, const pb::Options& options,
                                    std::shared_ptr<const sim::WhatIf>* whatif,
                                    sim::WhatIfOptions* out,
                                    std::shared_ptr<const sim::KeptState>* kept) {
  *out = OptionsFor(context, options);
  if (!options.fork_id().empty()) {
    absl::StatusOr<sim::ForkStore::Entry> fork = forks_.Get(options.fork_id());
    if (!fork.ok()) return ToGrpc(fork.status());
    // The fork's own cluster, which a reload since may have replaced.
    *whatif = fork->whatif;
    out->from = fork->state;
  } else {
    *whatif = base();
    if (*whatif == nullptr) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no cluster loaded");
    }
  }
  const pb::ForkDelta& delta = options.delta();
  if (delta.add_pods_size() > options_.max_pods_per_request) {
    return Invalid(absl::StrCat("options.delta.add_pods: Too many: ", delta.add_pods_size(),
                                ": must have at most ", options_.max_pods_per_request, " items"));
  }
  out->delta.remove_pods.assign(delta.remove_pods().begin(), delta.remove_pods().end());
  out->delta.remove_nodes.assign(delta.remove_nodes().begin(), delta.remove_nodes().end());
  out->delta.add_nodes.assign(delta.add_nodes().begin(), delta.add_nodes().end());
  out->delta.add_pods.assign(delta.add_pods().begin(), delta.add_pods().end());
  if (options.keep_fork()) out->keep = kept;
  return grpc::Status::OK;
}

grpc::Status WhatIfService::Begin(grpc::ServerContext* context, absl::string_view rpc,
                                  const google::protobuf::Message& request,
                                  const pb::Options& options, Call* call) {
  if (grpc::Status s = Authorize(*context, rpc); !s.ok()) return s;
  if (grpc::Status s = CheckKnownFields(request); !s.ok()) return s;
  return Prepare(context, options, &call->whatif, &call->opts, &call->kept);
}

grpc::Status WhatIfService::CompilePods(
    const sim::WhatIf& whatif, const google::protobuf::RepeatedPtrField<::k8s::io::api::core::v1::Pod>& pods,
    std::vector<model::PodPtr>* out) const {
  if (pods.size() > options_.max_pods_per_request) {
    return Invalid(absl::StrCat("pods: Too many: ", pods.size(), ": must have at most ",
                                options_.max_pods_per_request, " items"));
  }
  out->reserve(pods.size());
  for (int i = 0; i < pods.size(); ++i) {
    auto pod = whatif.CompilePod(pods[i], absl::StrCat("pods[", i, "]"));
    if (!pod.ok()) return ToGrpc(pod.status());
    out->push_back(*std::move(pod));
  }
  return grpc::Status::OK;
}

grpc::Status WhatIfService::KeepFork(const std::shared_ptr<const sim::WhatIf>& whatif,
                                     std::shared_ptr<const sim::KeptState> kept,
                                     std::string* fork_id) {
  if (kept == nullptr) return grpc::Status::OK;
  absl::StatusOr<std::string> id = forks_.Put({whatif, std::move(kept)});
  if (!id.ok()) return ToGrpc(id.status());
  *fork_id = *std::move(id);
  return grpc::Status::OK;
}

grpc::Status WhatIfService::Place(grpc::ServerContext* context, const pb::PlaceRequest* request,
                                  pb::PlaceResponse* response) {
  Call call;
  if (grpc::Status s = Begin(context, "Place", *request, request->options(), &call); !s.ok()) {
    return s;
  }
  const std::shared_ptr<const sim::WhatIf>& whatif = call.whatif;
  sim::WhatIfOptions& opts = call.opts;
  if (request->pods_size() == 0) return Invalid("pods: Required value");
  std::vector<model::PodPtr> pods;
  if (grpc::Status st = CompilePods(*whatif, request->pods(), &pods); !st.ok()) return st;
  auto placed = whatif->Place(pods, opts);
  if (!placed.ok()) return ToGrpc(placed.status());
  for (const sim::Placement& p : *placed) ToProto(p, response->add_placements());
  return KeepFork(whatif, std::move(call.kept), response->mutable_fork_id());
}

grpc::Status WhatIfService::Explain(grpc::ServerContext* context,
                                    const pb::ExplainRequest* request,
                                    pb::ExplainResponse* response) {
  Call call;
  if (grpc::Status s = Begin(context, "Explain", *request, request->options(), &call); !s.ok()) {
    return s;
  }
  const std::shared_ptr<const sim::WhatIf>& whatif = call.whatif;
  sim::WhatIfOptions& opts = call.opts;
  if (!request->has_pod()) return Invalid("pod: Required value");
  auto pod = whatif->CompilePod(request->pod(), "pod");
  if (!pod.ok()) return ToGrpc(pod.status());
  auto explained = whatif->Explain(*pod, opts);
  if (!explained.ok()) return ToGrpc(explained.status());
  ToProto(*explained, response);
  return KeepFork(whatif, std::move(call.kept), response->mutable_fork_id());
}

grpc::Status WhatIfService::Capacity(grpc::ServerContext* context,
                                     const pb::CapacityRequest* request,
                                     pb::CapacityResponse* response) {
  Call call;
  if (grpc::Status s = Begin(context, "Capacity", *request, request->options(), &call); !s.ok()) {
    return s;
  }
  const std::shared_ptr<const sim::WhatIf>& whatif = call.whatif;
  sim::WhatIfOptions& opts = call.opts;
  if (!request->has_template_()) return Invalid("template: Required value");
  if (request->limit() < 0) {
    return Invalid(absl::StrCat("limit: Invalid value: ", request->limit(),
                                ": must be greater than or equal to 0"));
  }
  if (request->limit() > options_.max_capacity) {
    return Invalid(absl::StrCat("limit: Invalid value: ", request->limit(),
                                ": must be less than or equal to ", options_.max_capacity));
  }
  auto pod = whatif->CompilePod(request->template_(), "template");
  if (!pod.ok()) return ToGrpc(pod.status());
  const int64_t limit = request->limit() == 0 ? options_.max_capacity : request->limit();
  auto result = whatif->Capacity(*pod, limit, opts);
  if (!result.ok()) return ToGrpc(result.status());
  response->set_count(result->count);
  for (const auto& [node, count] : result->per_node) {
    pb::NodeCount* c = response->add_per_node();
    c->set_node(node);
    c->set_count(count);
  }
  response->set_stopped_by(result->stopped_by);
  return KeepFork(whatif, std::move(call.kept), response->mutable_fork_id());
}

grpc::Status WhatIfService::ScaleUp(grpc::ServerContext* context, const pb::ScaleUpRequest* request,
                                    pb::ScaleUpResponse* response) {
  Call call;
  if (grpc::Status s = Begin(context, "ScaleUp", *request, request->options(), &call); !s.ok()) {
    return s;
  }
  const std::shared_ptr<const sim::WhatIf>& whatif = call.whatif;
  sim::WhatIfOptions& opts = call.opts;
  if (request->node_templates_size() > options_.max_node_templates) {
    return Invalid(absl::StrCat("node_templates: Too many: ", request->node_templates_size(),
                                ": must have at most ", options_.max_node_templates, " items"));
  }
  std::vector<sim::NodeTemplate> templates;
  for (int i = 0; i < request->node_templates_size(); ++i) {
    const pb::NodeTemplate& t = request->node_templates(i);
    if (t.max_count() > options_.max_template_nodes) {
      return Invalid(absl::StrCat("node_templates[", i,
                                  "].max_count: Invalid value: ", t.max_count(),
                                  ": must be less than or equal to ", options_.max_template_nodes));
    }
    templates.push_back(sim::NodeTemplate{t.name(), t.node(), t.max_count()});
  }
  std::vector<model::PodPtr> pods;
  if (grpc::Status st = CompilePods(*whatif, request->pods(), &pods); !st.ok()) return st;
  auto result = whatif->ScaleUp(pods, templates, opts);
  if (!result.ok()) return ToGrpc(result.status());
  for (const sim::Placement& p : result->fit_existing) ToProto(p, response->add_fit_existing());
  for (const sim::TemplateScaleUp& t : result->templates) {
    pb::TemplateScaleUp* out = response->add_templates();
    out->set_name(t.name);
    out->set_nodes_needed(t.nodes_needed);
    for (const sim::NewNode& n : t.nodes) {
      pb::NewNode* node = out->add_nodes();
      node->set_name(n.name);
      for (const std::string& p : n.pods) node->add_pods(p);
    }
    for (const sim::Unplaced& u : t.unplaced) {
      pb::UnplacedPod* pod = out->add_unplaced();
      pod->set_pod(u.pod);
      pod->set_message(u.message);
    }
    out->set_max_count_reached(t.max_count_reached);
  }
  for (const sim::Unplaced& u : result->no_template) {
    pb::UnplacedPod* pod = response->add_no_template();
    pod->set_pod(u.pod);
    pod->set_message(u.message);
  }
  return grpc::Status::OK;
}

grpc::Status WhatIfService::Drain(grpc::ServerContext* context, const pb::DrainRequest* request,
                                  pb::DrainResponse* response) {
  Call call;
  if (grpc::Status s = Begin(context, "Drain", *request, request->options(), &call); !s.ok()) {
    return s;
  }
  const std::shared_ptr<const sim::WhatIf>& whatif = call.whatif;
  sim::WhatIfOptions& opts = call.opts;
  const std::vector<std::string> nodes(request->nodes().begin(), request->nodes().end());
  sim::DrainOptions drain;
  drain.delete_local_data = request->delete_local_data();
  auto result = whatif->Drain(nodes, drain, opts);
  if (!result.ok()) return ToGrpc(result.status());
  for (const sim::NodeDrain& n : *result) {
    pb::NodeDrain* node = response->add_nodes();
    node->set_node(n.node);
    node->set_drainable(n.drainable);
    for (const sim::DrainedPod& p : n.pods) {
      pb::DrainedPod* pod = node->add_pods();
      pod->set_pod(p.pod);
      pod->set_action(std::string(sim::ActionName(p.action)));
      pod->set_node(p.node);
      pod->set_reason(p.reason);
    }
  }
  return KeepFork(whatif, std::move(call.kept), response->mutable_fork_id());
}

}  // namespace kestrel::service
