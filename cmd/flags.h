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
  // arguments and repeated flags are errors, except for the flags named in
  // `repeatable` (which must be known too).
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::set<std::string>& known,
                                     const std::set<std::string>& repeatable = {});

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The value of a flag; for a repeatable one, the last given.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value of a flag, in the order given; empty when absent.
  std::vector<std::string> All(const std::string& name) const;
  absl::StatusOr<std::string> Required(const std::string& name) const;
  // An integer flag; `fallback` when absent.
  absl::StatusOr<int64_t> Int(const std::string& name, int64_t fallback) const;
  // A number flag; `fallback` when absent.
  absl::StatusOr<double> Double(const std::string& name, double fallback) const;

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_;
};

}  // namespace kestrel::cmd

#endif  // KESTREL_CMD_FLAGS_H_
