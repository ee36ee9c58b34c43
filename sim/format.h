// File: format.h
// -----------------------------------------------------------------------------
//
// The file formats `kestrel generate` writes, and the conversion from the
// YAML stream the generator produces into each: the same objects in the
// same order, as `kubectl get -o yaml`, `-o json` (a v1 List) or an API
// server's protobuf (a v1 List in the `k8s\x00` envelope, each item a
// RawExtension holding its object in the envelope, as upstream's protobuf
// serializer writes lists). All three load into the same cluster
// (api/decode reads each).
//
// Example:
//
//   absl::StatusOr<OutputFormat> format = ParseOutputFormat("json");
//   RETURN_IF_ERROR(Reencode(yaml_text, *format, std::cout));

#ifndef KESTREL_SIM_FORMAT_H_
#define KESTREL_SIM_FORMAT_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kestrel::sim {

enum class OutputFormat { kYaml, kJson, kProtobuf };

// ParseOutputFormat()
//
// "yaml", "json" or "protobuf"; anything else is InvalidArgument naming the
// three.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name);

// The name ParseOutputFormat takes for `format`.
absl::string_view OutputFormatName(OutputFormat format);

// Reencode()
//
// Writes the objects of the YAML stream `yaml` to `out` in `format` (YAML
// is copied as it is). Objects api/decode does not know are dropped from
// JSON and protobuf output. Errors: the YAML does not decode (Internal: the
// generator wrote it), or `out` fails.
absl::Status Reencode(absl::string_view yaml, OutputFormat format, std::ostream& out);

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_FORMAT_H_
