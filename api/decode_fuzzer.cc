// libFuzzer entry point for the decoder's three front ends (YAML, JSON by
// simdjson, Kubernetes protobuf): any input must yield objects or an error,
// never a crash, a hang or unbounded memory. DecodeObjects picks the front
// end by the first bytes; an input whose first byte is 0x01 has it replaced
// by the `k8s\x00` magic, so the fuzzer reaches the protobuf envelope
// without guessing four bytes. See api/FUZZING.md for the clang command
// line; under Bazel the same entry point replays the seed corpus
// (decode_fuzz_replay_test).

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "api/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view content(reinterpret_cast<const char*>(data), size);
  std::string protobuf;
  if (!content.empty() && content[0] == '\x01') {
    protobuf = std::string("k8s\0", 4);
    protobuf.append(content.data() + 1, content.size() - 1);
    content = protobuf;
  }
  // The result is irrelevant; only crashes and sanitizer reports count.
  (void)kestrel::api::DecodeObjects("fuzz", content);
  return 0;
}
