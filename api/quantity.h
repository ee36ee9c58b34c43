// File: quantity.h
// -----------------------------------------------------------------------------
//
// `kestrel::api::Quantity` is a Kubernetes `resource.Quantity`: a fixed-point
// number with an optional suffix, such as "100m" (0.1), "1Gi" (2^30) or "1e3".
// Parsing follows k8s.io/apimachinery/pkg/api/resource (quantity.go,
// suffix.go): the same grammar, the same three error messages, and the same
// rounding: a value is rounded away from zero to a whole nano-unit at parse
// time, and `Value()` / `MilliValue()` round away from zero again.
//
// Arithmetic is exact (decimal digits and 128-bit integers, no floating
// point). Magnitudes beyond what int64 can report saturate.
//
// Example:
//
//   absl::StatusOr<Quantity> cpu = Quantity::Parse("250m");
//   if (!cpu.ok()) return cpu.status();
//   int64_t millicores = cpu->MilliValue();  // 250
//   int64_t cores = cpu->Value();            // 1 (rounded up)

#ifndef KESTREL_API_QUANTITY_H_
#define KESTREL_API_QUANTITY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kestrel::api {

// Upstream's error messages, verbatim, so that users see what kubectl says.
inline constexpr absl::string_view kQuantityFormatError =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
inline constexpr absl::string_view kQuantityNumericError =
    "unable to parse quantity's numeric value";
inline constexpr absl::string_view kQuantitySuffixError =
    "unable to parse quantity's suffix";

class Quantity {
 public:
  // The suffix family the quantity was written in.
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  // Zero.
  Quantity() = default;

  // Parse()
  //
  // Parses `text` as upstream's `resource.ParseQuantity` does. Errors are
  // InvalidArgument with one of the messages above.
  static absl::StatusOr<Quantity> Parse(absl::string_view text);

  // Value()
  //
  // The quantity in whole units, rounded away from zero ("100m" -> 1).
  // Saturates at the int64 limits.
  int64_t Value() const;

  // MilliValue()
  //
  // The quantity in thousandths, rounded away from zero ("0.0001" -> 1).
  // Saturates at the int64 limits.
  int64_t MilliValue() const;

  // ToString()
  //
  // A canonical decimal form: "1", "100m", "5n", "-2"; binary and exponent
  // suffixes are not reproduced ("1Ki" prints as "1024").
  std::string ToString() const;

  // String()
  //
  // Upstream Quantity.String(): the canonical form in the quantity's own
  // suffix family, as the API server prints quantities in its messages:
  // "1500m", "2k", "1536Mi", "1e3", "-1". Binary quantities below 1Ki or
  // that are not whole units print as decimal ("512", "1500m").
  std::string String() const;

  // Nanos()
  //
  // The exact value in nano-units (10^-9 of the unit), signed, for sums that
  // must round once, at the end, as upstream's Quantity arithmetic does.
  __int128 Nanos() const {
    return negative_ ? -static_cast<__int128>(nanos_) : static_cast<__int128>(nanos_);
  }

  Format format() const { return format_; }
  bool negative() const { return negative_; }

  friend bool operator==(const Quantity& a, const Quantity& b) {
    return a.negative_ == b.negative_ && a.nanos_ == b.nanos_;
  }
  friend bool operator!=(const Quantity& a, const Quantity& b) {
    return !(a == b);
  }

 private:
  // Magnitude in nano-units, already rounded up; saturates at kMaxNanos.
  unsigned __int128 nanos_ = 0;
  bool negative_ = false;
  Format format_ = Format::kDecimalSI;

  int64_t ScaledValue(unsigned __int128 divisor) const;
};

}  // namespace kestrel::api

#endif  // KESTREL_API_QUANTITY_H_
