// File: raw_grpc_testing.h
//
// gRPC calls made with raw bytes, for the service tests: a unary call to
// any method (what a client that sends garbage, or no token, does), and
// server reflection's list_services stream (what `grpcurl list` sends).
// Test-only.

#ifndef KESTREL_SERVICE_RAW_GRPC_TESTING_H_
#define KESTREL_SERVICE_RAW_GRPC_TESTING_H_

#include <string>
#include <utility>

#include "grpcpp/grpcpp.h"

namespace kestrel::service {

// Calls `method` ("/pkg.Service/Method") with `bytes` as the request, with
// `authorization` as that metadata when not empty; returns the status and,
// when it is OK, the response bytes. 30 s deadline.
std::pair<grpc::Status, std::string> RawCall(grpc::Channel* channel, const std::string& method,
                                             const std::string& bytes,
                                             const std::string& authorization = "");

// One ServerReflectionRequest{list_services: ""} (the bytes 3a 00) on
// grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo, then the
// stream closed: the call's final status and the first response's bytes.
// A step of the stream that fails gives an UNKNOWN status naming it.
std::pair<grpc::Status, std::string> ReflectionListServices(grpc::Channel* channel);

}  // namespace kestrel::service

#endif  // KESTREL_SERVICE_RAW_GRPC_TESTING_H_
