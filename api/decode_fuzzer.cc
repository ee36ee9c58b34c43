// libFuzzer entry point for the YAML/JSON decoder: any input must yield
// objects or an error, never a crash, a hang or unbounded memory. See
// api/FUZZING.md for the clang command line; under Bazel the same entry
// point replays the seed corpus (decode_fuzz_replay_test).

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "api/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view content(reinterpret_cast<const char*>(data), size);
  // The result is irrelevant; only crashes and sanitizer reports count.
  (void)kestrel::api::DecodeObjects("fuzz.yaml", content);
  return 0;
}
