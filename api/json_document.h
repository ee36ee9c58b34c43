// File: json_document.h
// -----------------------------------------------------------------------------
//
// A JSON text parsed by simdjson (On-Demand) into a compact read-only tree,
// for api/decode's JSON front end. The decoder walks YAML nodes and these
// trees through the same rules, so it needs from a JSON value what a YAML
// node gives it: its type, a scalar's text as written (a number's own
// digits, so `1.50` and `1e3` reach Quantity::Parse unchanged), whether a
// scalar was quoted, and the members of an object in order (duplicates
// kept, as the YAML path keeps them).
//
// Strings are unescaped once, into the document's own buffer; numbers and
// atoms point into the input. Nodes sit in one vector in document order, each
// knowing where its subtree ends, so a 100 MB list costs one allocation per
// few thousand values rather than one per value.
//
// Syntax errors name the line and column and say what was expected:
//
//   cluster.json:3:17: expected ',' or '}' after an object member, found '"'
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<JsonDocument>> doc =
//       JsonDocument::Parse("cluster.json", content);
//   if (!doc.ok()) return doc.status();
//   for (const JsonEntry& member : (*doc)->root()) {
//     Use(member.first.Scalar(), member.second);
//   }
//
// Threading: a parsed document is immutable; JsonRef values may be read from
// many threads at once.

#ifndef KESTREL_API_JSON_DOCUMENT_H_
#define KESTREL_API_JSON_DOCUMENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kestrel::api {

class JsonDocument;

// LooksLikeJson()
//
// Whether `content` starts, after whitespace and a UTF-8 byte order mark,
// with `{` or `[`: such files take the JSON front end.
bool LooksLikeJson(absl::string_view content);

// One value of a JsonDocument, or an object member's key (a quoted scalar),
// or nothing (a lookup that found no member). Cheap to copy. Its accessors
// mirror YAML::Node's, so that one decoder template reads both.
class JsonRef {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  // Nothing: IsDefined() is false, and it reads as null.
  JsonRef() = default;

  bool IsDefined() const { return doc_ != nullptr; }
  bool IsNull() const;
  bool IsMap() const;
  bool IsSequence() const;
  bool IsScalar() const;
  // A string (or key) rather than a number, boolean or null literal.
  bool IsQuoted() const;
  // A scalar's text: a string unescaped, a number or literal as written.
  absl::string_view Scalar() const;
  // Elements of an array, members of an object.
  size_t size() const;

  class iterator;
  iterator begin() const;
  iterator end() const;

 private:
  friend class JsonDocument;
  friend class iterator;
  JsonRef(const JsonDocument* doc, uint32_t index, bool key)
      : doc_(doc), index_(index), key_(key) {}

  const JsonDocument* doc_ = nullptr;
  uint32_t index_ = 0;
  // This is the key of the member at index_, not its value.
  bool key_ = false;
};

// What iterating a JsonRef yields: for an array, the element itself; for an
// object, the member's key and value in `first` and `second` (as iterating a
// YAML map does).
struct JsonEntry : JsonRef {
  JsonRef first;
  JsonRef second;
};

class JsonRef::iterator {
 public:
  iterator(const JsonDocument* doc, uint32_t index, bool object)
      : doc_(doc), index_(index), object_(object) {}
  JsonEntry operator*() const;
  iterator& operator++();
  bool operator!=(const iterator& other) const { return index_ != other.index_; }
  bool operator==(const iterator& other) const { return index_ == other.index_; }

 private:
  const JsonDocument* doc_;
  uint32_t index_;
  bool object_;
};

class JsonDocument {
 public:
  // Parse()
  //
  // Parses one JSON value (and nothing after it but whitespace). Errors are
  // InvalidArgument: "<file_name>:<line>:<column>: <what was expected>".
  // Nesting deeper than `max_depth` is an error too.
  static absl::StatusOr<std::unique_ptr<JsonDocument>> Parse(absl::string_view file_name,
                                                             absl::string_view content,
                                                             int max_depth = 1024);

  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;
  ~JsonDocument();

  JsonRef root() const { return JsonRef(this, 0, false); }

  // "line:column" (1-based; columns count bytes) of a byte offset.
  static std::string Position(absl::string_view content, size_t offset);

 private:
  friend class JsonRef;
  friend class JsonRef::iterator;
  class Builder;

  struct Node {
    absl::string_view text;  // scalars: the value's text
    absl::string_view key;   // members of an object: the key, unescaped
    uint32_t end = 0;        // index past this node's subtree
    uint32_t size = 0;       // arrays and objects: how many children
    JsonRef::Type type = JsonRef::Type::kNull;
  };

  JsonDocument() = default;

  std::vector<Node> nodes_;
  // The padded input and the parser whose buffer holds the unescaped
  // strings: what the nodes point into.
  struct Storage;
  std::unique_ptr<Storage> storage_;
};

}  // namespace kestrel::api

#endif  // KESTREL_API_JSON_DOCUMENT_H_
