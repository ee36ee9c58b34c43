#include "kube/lease_lock.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/coordination.pb.h"
#include "api/decode.h"

namespace kestrel::kube {
namespace {

namespace coordination = ::k8s::io::api::coordination::v1;

constexpr char kLeases[] = "/apis/coordination.k8s.io/v1/namespaces/";

std::string MicroTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::Time FromMicroTime(const ::k8s::io::apimachinery::pkg::apis::meta::v1::MicroTime& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// client-go's LeaseSpecToLeaderElectionRecord: absent fields stay zero.
LeaderElectionRecord RecordOf(const coordination::LeaseSpec& spec) {
  LeaderElectionRecord r;
  r.holder_identity = spec.holderidentity();
  r.lease_duration_seconds = spec.leasedurationseconds();
  r.leader_transitions = spec.leasetransitions();
  if (spec.has_acquiretime()) r.acquire_time = FromMicroTime(spec.acquiretime());
  if (spec.has_renewtime()) r.renew_time = FromMicroTime(spec.renewtime());
  return r;
}

}  // namespace

nlohmann::json LeaseSpecJson(const LeaderElectionRecord& record) {
  return {
      {"holderIdentity", record.holder_identity},
      {"leaseDurationSeconds", record.lease_duration_seconds},
      {"acquireTime", MicroTime(record.acquire_time)},
      {"renewTime", MicroTime(record.renew_time)},
      {"leaseTransitions", record.leader_transitions},
  };
}

HttpLeaseLock::HttpLeaseLock(Client* client, std::string lease_namespace, std::string name)
    : client_(client), namespace_(std::move(lease_namespace)), name_(std::move(name)) {}

std::string HttpLeaseLock::Describe() const { return absl::StrCat(namespace_, "/", name_); }

std::string HttpLeaseLock::Path() const {
  return absl::StrCat(kLeases, namespace_, "/leases/", name_);
}

absl::StatusOr<VersionedRecord> HttpLeaseLock::Get() {
  absl::StatusOr<Response> r = client_->Get(Path());
  if (!r.ok()) return r.status();
  return Keep(absl::StrCat("GET ", Path()), r->body);
}

absl::StatusOr<std::string> HttpLeaseLock::Create(const LeaderElectionRecord& record) {
  const nlohmann::json lease = {
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", {{"name", name_}, {"namespace", namespace_}}},
      {"spec", LeaseSpecJson(record)},
  };
  const std::string path = absl::StrCat(kLeases, namespace_, "/leases");
  absl::StatusOr<Response> r = client_->Post(path, lease.dump());
  if (!r.ok()) return r.status();
  absl::StatusOr<VersionedRecord> kept = Keep(absl::StrCat("POST ", path), r->body);
  if (!kept.ok()) return kept.status();
  return kept->resource_version;
}

absl::StatusOr<std::string> HttpLeaseLock::Update(const LeaderElectionRecord& record,
                                                  const std::string& resource_version) {
  if (lease_.is_null()) {
    return absl::FailedPreconditionError("lease not initialized, call get or create first");
  }
  nlohmann::json lease = lease_;
  if (!lease["spec"].is_object()) lease["spec"] = nlohmann::json::object();
  const nlohmann::json spec = LeaseSpecJson(record);
  for (const auto& field : spec.items()) lease["spec"][field.key()] = field.value();
  lease["metadata"]["resourceVersion"] = resource_version;
  absl::StatusOr<Response> r = client_->Put(Path(), lease.dump());
  if (!r.ok()) return r.status();
  absl::StatusOr<VersionedRecord> kept = Keep(absl::StrCat("PUT ", Path()), r->body);
  if (!kept.ok()) return kept.status();
  return kept->resource_version;
}

absl::StatusOr<VersionedRecord> HttpLeaseLock::Keep(const std::string& request,
                                                    const std::string& body) {
  const std::string context = absl::StrCat(request, ": Lease ", Describe());
  nlohmann::json lease = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!lease.is_object() || !lease["metadata"].is_object()) {
    return absl::InternalError(absl::StrCat(context, ": the answer is not a Lease object"));
  }
  coordination::Lease decoded;
  absl::Status s = api::DecodeInto(body, &decoded, context);
  if (!s.ok()) return absl::InternalError(s.message());
  if (decoded.metadata().resourceversion().empty()) {
    return absl::InternalError(absl::StrCat(context, ": metadata.resourceVersion: missing"));
  }
  lease_ = std::move(lease);
  return VersionedRecord{RecordOf(decoded.spec()), decoded.metadata().resourceversion()};
}

}  // namespace kestrel::kube
