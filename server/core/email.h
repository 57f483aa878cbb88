// Email address validation and normalisation, so "A@Example.COM " and
// "A@example.com" are one recipient. Local parts keep their case (RFC 5321
// leaves them case-sensitive); domains are lower-cased.
//
//   absl::StatusOr<std::string> e = NormalizeEmail(" Ann@Example.COM", 254);
//   // e == "Ann@example.com"
#ifndef MAGICLINK_SERVER_CORE_EMAIL_H_
#define MAGICLINK_SERVER_CORE_EMAIL_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace magiclink {

// Returns the normalised address, or INVALID_ARGUMENT whose message says what
// is wrong (never echoing more than the caller sent). Accepts dot-atom local
// parts and ASCII domain names with at least two labels.
absl::StatusOr<std::string> NormalizeEmail(absl::string_view raw, size_t max_length);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_EMAIL_H_
