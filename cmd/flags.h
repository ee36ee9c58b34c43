// File: flags.h
//
// The subcommand flag syntax of `kestrel`: `--name=value` and bare `--name`
// (a boolean). Only parsing and lookup; each subcommand names its flags.

#ifndef KESTREL_CMD_FLAGS_H_
#define KESTREL_CMD_FLAGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kestrel::cmd {

class Flags {
 public:
  // Parses `args` against the `known` flag names. Unknown flags, positional
  // arguments and repeated flags are errors.
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::set<std::string>& known);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  absl::StatusOr<std::string> Required(const std::string& name) const;
  // An integer flag; `fallback` when absent.
  absl::StatusOr<int64_t> Int(const std::string& name, int64_t fallback) const;
  // A number flag; `fallback` when absent.
  absl::StatusOr<double> Double(const std::string& name, double fallback) const;

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace kestrel::cmd

#endif  // KESTREL_CMD_FLAGS_H_
