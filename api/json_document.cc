// simdjson's On-Demand API validates what it is asked to read, so the
// builder reads every value: each string is unescaped, each atom checked,
// each number's text matched against JSON's grammar, and the document must
// end after its value. simdjson reports where it stopped; the builder knows
// what it was reading there, which is what the message says was expected.

#include "api/json_document.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace kestrel::api {

namespace od = ::simdjson::ondemand;

struct JsonDocument::Storage {
  simdjson::padded_string input;
  od::parser parser;
};

bool LooksLikeJson(absl::string_view content) {
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
  for (char c : content) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{' || c == '[';
  }
  return false;
}

// --- JsonRef ------------------------------------------------------------------

bool JsonRef::IsNull() const {
  return doc_ == nullptr || (!key_ && doc_->nodes_[index_].type == Type::kNull);
}

bool JsonRef::IsMap() const {
  return doc_ != nullptr && !key_ && doc_->nodes_[index_].type == Type::kObject;
}

bool JsonRef::IsSequence() const {
  return doc_ != nullptr && !key_ && doc_->nodes_[index_].type == Type::kArray;
}

bool JsonRef::IsScalar() const {
  if (doc_ == nullptr) return false;
  if (key_) return true;
  const Type type = doc_->nodes_[index_].type;
  return type == Type::kBool || type == Type::kNumber || type == Type::kString;
}

bool JsonRef::IsQuoted() const {
  return doc_ != nullptr && (key_ || doc_->nodes_[index_].type == Type::kString);
}

absl::string_view JsonRef::Scalar() const {
  if (doc_ == nullptr) return {};
  const JsonDocument::Node& node = doc_->nodes_[index_];
  return key_ ? node.key : node.text;
}

size_t JsonRef::size() const {
  if (doc_ == nullptr || key_) return 0;
  return doc_->nodes_[index_].size;
}

JsonRef::iterator JsonRef::begin() const {
  if (!IsMap() && !IsSequence()) return end();
  return iterator(doc_, index_ + 1, IsMap());
}

JsonRef::iterator JsonRef::end() const {
  if (doc_ == nullptr) return iterator(nullptr, 0, false);
  return iterator(doc_, key_ ? index_ : doc_->nodes_[index_].end, false);
}

JsonEntry JsonRef::iterator::operator*() const {
  JsonEntry entry;
  static_cast<JsonRef&>(entry) = JsonRef(doc_, index_, false);
  if (object_) {
    entry.first = JsonRef(doc_, index_, /*key=*/true);
    entry.second = JsonRef(doc_, index_, false);
  }
  return entry;
}

JsonRef::iterator& JsonRef::iterator::operator++() {
  index_ = doc_->nodes_[index_].end;
  return *this;
}

// --- Parsing ------------------------------------------------------------------

namespace {

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// (simdjson On-Demand checks a number only when it is converted.)
bool IsJsonNumber(absl::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

absl::string_view TrimTrailingSpace(absl::string_view t) {
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' ||
                        t.back() == '\r')) {
    t.remove_suffix(1);
  }
  return t;
}

// Where the string that never closes begins, or npos.
size_t UnclosedStringStart(absl::string_view content) {
  bool in_string = false;
  size_t start = absl::string_view::npos;
  for (size_t i = 0; i < content.size(); ++i) {
    const char c = content[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      start = i;
    }
  }
  return in_string ? start : absl::string_view::npos;
}

// The offset of the first byte that is not valid UTF-8 (overlong forms,
// surrogates and code points past U+10FFFF included), or npos.
size_t InvalidUtf8At(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return i;
    }
    i += len;
  }
  return absl::string_view::npos;
}

// Where the brackets of `content` first go wrong, for the errors simdjson's
// first pass reports without a place: a closing bracket that does not
// match, text after the top-level value, or (at the end) a bracket never
// closed. Strings are skipped.
struct BracketProblem {
  size_t offset;
  std::string expected;
};
BracketProblem FindBracketProblem(absl::string_view content) {
  std::string open;  // the stack of '{' and '['
  bool done = false;  // the top-level value has ended
  for (size_t i = 0; i < content.size(); ++i) {
    const char c = content[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (done) return {i, "expected the end of the input after the top-level value"};
    if (c == '"') {
      for (++i; i < content.size() && content[i] != '"'; ++i) {
        if (content[i] == '\\') ++i;
      }
    } else if (c == '{' || c == '[') {
      open.push_back(c);
    } else if (c == '}' || c == ']') {
      const char want = c == '}' ? '{' : '[';
      if (open.empty() || open.back() != want) {
        return {i, open.empty() ? "expected the end of the input after the top-level value"
                                : (open.back() == '{' ? "expected '}' to close the object"
                                                       : "expected ']' to close the array")};
      }
      open.pop_back();
    }
    if (open.empty()) done = true;
  }
  if (!open.empty()) {
    return {content.size(), open.back() == '{' ? "expected ',' or '}' to close the object"
                                                : "expected ',' or ']' to close the array"};
  }
  return {0, ""};
}

// What stood at `offset`, for "found ..." in messages.
std::string Found(absl::string_view content, size_t offset) {
  if (offset >= content.size()) return "the end of the input";
  const unsigned char c = static_cast<unsigned char>(content[offset]);
  if (c >= 0x20 && c < 0x7F) return absl::StrCat("'", std::string(1, c), "'");
  return absl::StrCat("byte 0x", absl::Hex(c, absl::kZeroPad2));
}

}  // namespace

std::string JsonDocument::Position(absl::string_view content, size_t offset) {
  offset = std::min(offset, content.size());
  const absl::string_view before = content.substr(0, offset);
  const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
  const size_t last_newline = before.rfind('\n');
  const size_t column =
      1 + (last_newline == absl::string_view::npos ? offset : offset - last_newline - 1);
  return absl::StrCat(line, ":", column);
}

// Reads one document into nodes_, depth first.
class JsonDocument::Builder {
 public:
  Builder(absl::string_view file_name, absl::string_view content, JsonDocument* doc,
          int max_depth)
      : file_name_(file_name),
        content_(content),
        base_(doc->storage_->input.data()),
        nodes_(doc->nodes_),
        max_depth_(max_depth) {}

  absl::Status BuildRoot(od::document& root) {
    if (absl::Status s = Build(root, 0, {}); !s.ok()) return s;
    // current_location() answers only while tokens remain (a scalar root
    // is checked by simdjson itself).
    const char* rest = nullptr;
    if (nodes_[0].type != JsonRef::Type::kObject && nodes_[0].type != JsonRef::Type::kArray) {
      return absl::OkStatus();
    }
    if (root.current_location().get(rest) == simdjson::SUCCESS && rest != nullptr) {
      return ErrorAt(static_cast<size_t>(rest - base_),
                     "expected the end of the input after the top-level value");
    }
    return absl::OkStatus();
  }

  // An error at `offset`: "file:line:column: <expected>, found <what>".
  absl::Status ErrorAt(size_t offset, absl::string_view expected) const {
    return absl::InvalidArgumentError(absl::StrCat(file_name_, ":",
                                                   JsonDocument::Position(content_, offset),
                                                   ": ", expected, ", found ",
                                                   Found(content_, offset)));
  }

  // Where simdjson stopped (the end of the input when it ran off it).
  template <typename V>
  size_t Offset(V& v) const {
    const char* at = nullptr;
    if (v.current_location().get(at) != simdjson::SUCCESS || at == nullptr) {
      return content_.size();
    }
    return std::min(static_cast<size_t>(at - base_), content_.size());
  }

  // A scalar's error where its token starts.
  template <typename V>
  static simdjson::simdjson_result<std::string_view> RawToken(V& v) {
    return v.raw_json_token();
  }

  template <typename V>
  size_t TokenOffset(V& v) const {
    std::string_view token;
    if (RawToken(v).get(token) != simdjson::SUCCESS) return Offset(v);
    return std::min(static_cast<size_t>(token.data() - base_), content_.size());
  }

  // What an error code means where the builder met it.
  static std::string Expected(simdjson::error_code code, absl::string_view where) {
    switch (code) {
      case simdjson::STRING_ERROR:
      case simdjson::UNESCAPED_CHARS:
        return "expected a valid string (escapes as \\n, \\\", \\uXXXX; no raw control "
               "characters)";
      case simdjson::T_ATOM_ERROR:
        return "expected true";
      case simdjson::F_ATOM_ERROR:
        return "expected false";
      case simdjson::N_ATOM_ERROR:
        return "expected null";
      case simdjson::NUMBER_ERROR:
      case simdjson::NUMBER_OUT_OF_RANGE:
        return "expected a number";
      case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
        return absl::StrCat("expected the rest of ", where, " (it is not closed)");
      case simdjson::DEPTH_ERROR:
        return "expected less nesting";
      case simdjson::TRAILING_CONTENT:
        return "expected the end of the input after the top-level value";
      default:
        return absl::StrCat("expected ", where);
    }
  }

 private:
  // Appends the node for `v` (whose member key is `key`) and its subtree.
  template <typename V>
  absl::Status Build(V& v, int depth, absl::string_view key) {
    if (depth > max_depth_) {
      return ErrorAt(Offset(v), absl::StrCat("expected at most ", max_depth_,
                                             " levels of nesting"));
    }
    od::json_type type;
    if (auto error = v.type().get(type); error) {
      return ErrorAt(Offset(v), Expected(error, "a value"));
    }
    const uint32_t index = static_cast<uint32_t>(nodes_.size());
    nodes_.emplace_back();
    nodes_[index].key = key;
    switch (type) {
      case od::json_type::object: {
        nodes_[index].type = JsonRef::Type::kObject;
        od::object object;
        if (auto error = v.get_object().get(object); error) {
          return ErrorAt(Offset(v), Expected(error, "an object"));
        }
        uint32_t count = 0;
        for (auto field : object) {
          constexpr absl::string_view kMember =
              "a member (\"name\": value), ',' or '}' in an object";
          if (field.error()) return ErrorAt(Offset(v), Expected(field.error(), kMember));
          std::string_view name;
          if (auto error = field.unescaped_key().get(name); error) {
            return ErrorAt(Offset(v), Expected(error, kMember));
          }
          od::value value;
          if (auto error = field.value().get(value); error) {
            return ErrorAt(Offset(v), Expected(error, "a value after ':'"));
          }
          if (absl::Status s = Build(value, depth + 1, absl::string_view(name.data(), name.size()));
              !s.ok()) {
            return s;
          }
          ++count;
        }
        nodes_[index].size = count;
        break;
      }
      case od::json_type::array: {
        nodes_[index].type = JsonRef::Type::kArray;
        od::array array;
        if (auto error = v.get_array().get(array); error) {
          return ErrorAt(Offset(v), Expected(error, "an array"));
        }
        uint32_t count = 0;
        for (auto element : array) {
          od::value value;
          if (auto error = element.get(value); error) {
            return ErrorAt(Offset(v), Expected(error, "a value, ',' or ']' in an array"));
          }
          if (absl::Status s = Build(value, depth + 1, {}); !s.ok()) return s;
          ++count;
        }
        nodes_[index].size = count;
        break;
      }
      case od::json_type::string: {
        nodes_[index].type = JsonRef::Type::kString;
        std::string_view text;
        if (auto error = v.get_string().get(text); error) {
          return ErrorAt(TokenOffset(v), Expected(error, "a string"));
        }
        nodes_[index].text = absl::string_view(text.data(), text.size());
        break;
      }
      case od::json_type::number: {
        nodes_[index].type = JsonRef::Type::kNumber;
        std::string_view token;
        if (auto error = RawToken(v).get(token); error) {
          return ErrorAt(Offset(v), Expected(error, "a number"));
        }
        const absl::string_view text = TrimTrailingSpace(absl::string_view(token.data(), token.size()));
        if (!IsJsonNumber(text)) {
          return ErrorAt(static_cast<size_t>(token.data() - base_),
                         "expected a number like -12, 0.5 or 1e3");
        }
        nodes_[index].text = text;
        break;
      }
      case od::json_type::boolean: {
        nodes_[index].type = JsonRef::Type::kBool;
        bool value;
        if (auto error = v.get_bool().get(value); error) {
          return ErrorAt(TokenOffset(v), Expected(error, "true or false"));
        }
        nodes_[index].text = value ? "true" : "false";
        break;
      }
      case od::json_type::null: {
        nodes_[index].type = JsonRef::Type::kNull;
        bool is_null = false;
        if (auto error = v.is_null().get(is_null); error || !is_null) {
          return ErrorAt(TokenOffset(v), "expected null");
        }
        nodes_[index].text = "null";
        break;
      }
    }
    nodes_[index].end = static_cast<uint32_t>(nodes_.size());
    return absl::OkStatus();
  }

  absl::string_view file_name_;
  absl::string_view content_;
  const char* base_;
  std::vector<Node>& nodes_;
  int max_depth_;
};

JsonDocument::~JsonDocument() = default;

absl::StatusOr<std::unique_ptr<JsonDocument>> JsonDocument::Parse(absl::string_view file_name,
                                                                  absl::string_view content,
                                                                  int max_depth) {
  auto error_at = [&](size_t offset, absl::string_view expected) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ":", Position(content, offset),
                                                   ": ", expected, ", found ",
                                                   Found(content, offset)));
  };
  std::unique_ptr<JsonDocument> doc(new JsonDocument());
  doc->storage_ = std::make_unique<Storage>();
  Storage& storage = *doc->storage_;
  storage.input = simdjson::padded_string(content.data(), content.size());
  // simdjson's own depth limit stays above ours, so ours gives the message.
  const size_t capacity = std::max<size_t>(content.size(), 64);
  if (auto error = storage.parser.allocate(capacity, static_cast<size_t>(max_depth) + 8); error) {
    return absl::ResourceExhaustedError(
        absl::StrCat(file_name, ": cannot parse JSON: ", simdjson::error_message(error)));
  }
  od::document root;
  if (auto error = storage.parser.iterate(storage.input).get(root); error) {
    // simdjson's first pass reports these without a place; find it.
    if (const size_t bad = InvalidUtf8At(content); bad != absl::string_view::npos) {
      return error_at(bad, "expected UTF-8 text");
    }
    if (const size_t open = UnclosedStringStart(content); open != absl::string_view::npos) {
      return error_at(open, "expected a string that ends (no closing '\"' before the end)");
    }
    if (error == simdjson::EMPTY) return error_at(content.size(), "expected a JSON value");
    if (BracketProblem problem = FindBracketProblem(content); !problem.expected.empty()) {
      return error_at(problem.offset, problem.expected);
    }
    return error_at(0, Builder::Expected(error, "a JSON value"));
  }
  // Every value but the root follows a '[', '{' or ',' (some of those are
  // in strings: an upper bound), so the nodes never move as they grow: a
  // move of a 100 MB list's nodes costs more than the count. Reserved
  // pages that are never written cost nothing.
  size_t values = 1;
  for (const char c : content) values += (c == ',') | (c == '[') | (c == '{');
  doc->nodes_.reserve(values);
  Builder builder(file_name, content, doc.get(), max_depth);
  absl::Status built = builder.BuildRoot(root);
  // simdjson finds unbalanced brackets where it first needs them (often
  // at the root); the scan says where they go wrong. It also catches text
  // after a scalar root, which simdjson does not look past.
  if (!built.ok() || (doc->nodes_[0].type != JsonRef::Type::kObject &&
                      doc->nodes_[0].type != JsonRef::Type::kArray)) {
    if (BracketProblem problem = FindBracketProblem(content); !problem.expected.empty()) {
      return error_at(problem.offset, problem.expected);
    }
  }
  if (!built.ok()) return built;
  return doc;
}

}  // namespace kestrel::api
