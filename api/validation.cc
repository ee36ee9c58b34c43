#include "api/validation.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kestrel::api {
namespace {

// The messages of upstream k8s.io/apimachinery/pkg/util/validation.
constexpr char kQualifiedNameErrMsg[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr char kQualifiedNameFmt[] = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr char kLabelValueErrMsg[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";
constexpr char kLabelValueFmt[] = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr char kDns1123SubdomainErrMsg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr char kDns1123SubdomainFmt[] =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr char kDns1123LabelErrMsg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
constexpr char kDns1123LabelFmt[] = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedName(absl::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchesDns1123Label(absl::string_view label) {
  auto lower_alnum = [](char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c); };
  if (label.empty() || !lower_alnum(label.front()) || !lower_alnum(label.back())) return false;
  for (char c : label) {
    if (!lower_alnum(c) && c != '-') return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*
bool MatchesDns1123Subdomain(absl::string_view s) {
  for (absl::string_view label : absl::StrSplit(s, '.')) {
    if (!MatchesDns1123Label(label)) return false;
  }
  return true;
}

}  // namespace

std::string GoQuote(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\x%02x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string RegexError(absl::string_view msg, absl::string_view fmt,
                       const std::vector<absl::string_view>& examples) {
  std::string out = absl::StrCat(msg, " (e.g. ");
  for (size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) absl::StrAppend(&out, " or ");
    absl::StrAppend(&out, "'", examples[i], "', ");
  }
  absl::StrAppend(&out, "regex used for validation is '", fmt, "')");
  return out;
}

std::string MaxLenError(int n) { return absl::StrCat("must be no more than ", n, " characters"); }

std::vector<std::string> Dns1123SubdomainErrors(absl::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(MaxLenError(253));
  if (!MatchesDns1123Subdomain(value)) {
    errs.push_back(RegexError(kDns1123SubdomainErrMsg, kDns1123SubdomainFmt, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> Dns1123LabelErrors(absl::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!MatchesDns1123Label(value)) {
    // A valid subdomain that is no label can only have dots (the length is
    // reported above).
    if (MatchesDns1123Subdomain(value)) {
      errs.push_back("must not contain dots");
    } else {
      errs.push_back(RegexError(kDns1123LabelErrMsg, kDns1123LabelFmt, {"my-name", "123-abc"}));
    }
  }
  return errs;
}

std::string InclusiveRangeError(int64_t lo, int64_t hi) {
  return absl::StrCat("must be between ", lo, " and ", hi, ", inclusive");
}

bool ParseGoInt64(absl::string_view s, int64_t* out) {
  absl::string_view digits = s;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  if (digits.empty()) return false;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(s, out);  // false on overflow
}

std::string InvalidError(absl::string_view path, absl::string_view value,
                         absl::string_view detail) {
  return absl::StrCat(path, ": Invalid value: ", value, detail.empty() ? "" : ": ", detail);
}

std::string RequiredError(absl::string_view path, absl::string_view detail) {
  return absl::StrCat(path, ": Required value", detail.empty() ? "" : ": ", detail);
}

std::string ForbiddenError(absl::string_view path, absl::string_view detail) {
  return absl::StrCat(path, ": Forbidden", detail.empty() ? "" : ": ", detail);
}

std::string NotSupportedError(absl::string_view path, absl::string_view value,
                              const std::vector<absl::string_view>& supported) {
  std::vector<std::string> quoted;
  for (absl::string_view v : supported) quoted.push_back(GoQuote(v));
  return absl::StrCat(path, ": Unsupported value: ", value,
                      quoted.empty() ? "" : ": supported values: ", absl::StrJoin(quoted, ", "));
}

std::string DuplicateError(absl::string_view path, absl::string_view value,
                           absl::string_view detail) {
  return absl::StrCat(path, ": Duplicate value: ", value, detail.empty() ? "" : ": ", detail);
}

std::vector<std::string> QualifiedNameErrors(absl::string_view value) {
  std::vector<std::string> errs;
  std::vector<absl::string_view> parts = absl::StrSplit(value, '/');
  absl::string_view name;
  if (parts.size() == 1) {
    name = parts[0];
  } else if (parts.size() == 2) {
    absl::string_view prefix = parts[0];
    name = parts[1];
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const std::string& e : Dns1123SubdomainErrors(prefix)) {
        errs.push_back(absl::StrCat("prefix part ", e));
      }
    }
  } else {
    errs.push_back(absl::StrCat(
        "a qualified name ",
        RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}),
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"));
    return errs;
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back(absl::StrCat("name part ", MaxLenError(63)));
  }
  if (!MatchesQualifiedName(name)) {
    errs.push_back(absl::StrCat("name part ", RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                                         {"MyName", "my.name", "123-abc"})));
  }
  return errs;
}

std::vector<std::string> LabelValueErrors(absl::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!value.empty() && !MatchesQualifiedName(value)) {
    errs.push_back(RegexError(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

void ValidateLabelName(absl::string_view name, absl::string_view path,
                       std::vector<std::string>& errs) {
  for (const std::string& msg : QualifiedNameErrors(name)) {
    errs.push_back(InvalidError(path, GoQuote(name), msg));
  }
}

absl::Status AggregateErrors(const std::vector<std::string>& errs) {
  std::vector<std::string> unique;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& e : errs) {
    if (seen.insert(e).second) unique.push_back(e);
  }
  if (unique.empty()) return absl::OkStatus();
  if (unique.size() == 1) return absl::InvalidArgumentError(unique[0]);
  return absl::InvalidArgumentError(absl::StrCat("[", absl::StrJoin(unique, ", "), "]"));
}

}  // namespace kestrel::api
