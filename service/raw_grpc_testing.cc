#include "service/raw_grpc_testing.h"

#include <chrono>
#include <cstdint>
#include <future>
#include <vector>

#include "grpcpp/generic/generic_stub.h"

namespace kestrel::service {
namespace {

std::string Bytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(30);
}

}  // namespace

std::pair<grpc::Status, std::string> RawCall(grpc::Channel* channel, const std::string& method,
                                             const std::string& bytes,
                                             const std::string& authorization) {
  grpc::GenericStub stub(channel->shared_from_this());
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  return {s, s.ok() ? Bytes(response) : std::string()};
}

std::pair<grpc::Status, std::string> ReflectionListServices(grpc::Channel* channel) {
  grpc::GenericStub stub(channel->shared_from_this());
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  // Each step completes with its own tag, in order.
  auto step = [&](intptr_t want) {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok && reinterpret_cast<intptr_t>(tag) == want;
  };
  grpc::Status status;
  grpc::ByteBuffer response;
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(1)) {
    status = grpc::Status(grpc::StatusCode::UNKNOWN, "starting the call failed");
  } else {
    grpc::Slice slice(std::string("\x3a\x00", 2));
    grpc::ByteBuffer request(&slice, 1);
    call->Write(request, reinterpret_cast<void*>(2));
    if (!step(2)) {
      status = grpc::Status(grpc::StatusCode::UNKNOWN, "writing the request failed");
    } else {
      call->WritesDone(reinterpret_cast<void*>(3));
      if (!step(3)) status = grpc::Status(grpc::StatusCode::UNKNOWN, "closing the stream failed");
    }
  }
  if (status.ok()) {
    call->Read(&response, reinterpret_cast<void*>(4));
    if (!step(4)) status = grpc::Status(grpc::StatusCode::UNKNOWN, "reading the answer failed");
  }
  // The final status, whatever came before (a failed step's wins).
  grpc::Status final_status;
  call->Finish(&final_status, reinterpret_cast<void*>(5));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  if (status.ok()) status = final_status;
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return {status, status.ok() ? Bytes(response) : std::string()};
}

}  // namespace kestrel::service
