// File: lease_lock.h
//
// The LeaseLock of a real cluster: one coordination.k8s.io/v1 Lease, read
// and written through kube::Client as client-go's resourcelock.LeaseLock
// does it:
//
//   Get     GET  /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}
//   Create  POST /apis/coordination.k8s.io/v1/namespaces/{ns}/leases
//   Update  PUT  /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}
//
// An update sends the whole Lease as last read or written, with the record's
// five spec fields replaced (holderIdentity, leaseDurationSeconds,
// acquireTime and renewTime as MicroTime, leaseTransitions) and
// metadata.resourceVersion set to the version the elector names, so the API
// server answers 409 (Aborted) when someone wrote since. Other fields
// (labels, spec.strategy, ...) are sent back as they were.
//
// PUT, not a merge patch: kube-scheduler's RBAC role (system:kube-scheduler)
// grants create on leases and get and update on its own, not patch.
//
// Give it a Client whose timeout is LeaseRequestTimeout(renew_deadline), as
// client-go's NewFromKubeconfig does, so one hung request cannot outlast the
// renew deadline.
//
// Example:
//   HttpLeaseLock lock(client.get(), "kube-system", "kube-scheduler");
//   auto elector = LeaderElector::Create(config, &lock, RealClock());

#ifndef KESTREL_KUBE_LEASE_LOCK_H_
#define KESTREL_KUBE_LEASE_LOCK_H_

#include <string>

#include "absl/status/statusor.h"
#include "kube/client.h"
#include "kube/leader_election.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube {

// Thread-compatible: used from the elector's thread only.
class HttpLeaseLock : public LeaseLock {
 public:
  // `client` must outlive the lock.
  HttpLeaseLock(Client* client, std::string lease_namespace, std::string name);

  absl::StatusOr<VersionedRecord> Get() override;
  absl::StatusOr<std::string> Create(const LeaderElectionRecord& record) override;
  // FailedPrecondition before the first successful Get or Create (client-go:
  // "lease not initialized, call get or create first").
  absl::StatusOr<std::string> Update(const LeaderElectionRecord& record,
                                     const std::string& resource_version) override;
  std::string Describe() const override;

 private:
  std::string Path() const;
  // Parses a Lease answered by the server for `request` ("GET <path>"),
  // keeps it, and reads its record and resourceVersion.
  absl::StatusOr<VersionedRecord> Keep(const std::string& request, const std::string& body);

  Client* const client_;
  const std::string namespace_;
  const std::string name_;
  // The Lease as last read or written (client-go's ll.lease); null before.
  nlohmann::json lease_;
};

// The LeaseSpec JSON of `record`, as client-go's LeaderElectionRecordToLeaseSpec
// writes it (times as MicroTime: "2024-01-02T03:04:05.123456Z").
nlohmann::json LeaseSpecJson(const LeaderElectionRecord& record);

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_LEASE_LOCK_H_
