// Token metadata: a small string map copied into a token's claims, checked
// against the limits, and stored as a flat JSON object so the database stays
// readable by operators.
//
//   Metadata m = {{"team", "blue"}};
//   std::string json = EncodeMetadataJson(m);    // {"team":"blue"}
//   absl::StatusOr<Metadata> back = DecodeMetadataJson(json);
#ifndef MAGICLINK_SERVER_CORE_METADATA_H_
#define MAGICLINK_SERVER_CORE_METADATA_H_

#include <map>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/errors.h"
#include "server/core/limits.h"

namespace magiclink {

// Ordered, so encodings and request fingerprints are deterministic.
using Metadata = std::map<std::string, std::string>;

// Appends a violation to `out` for every limit `metadata` breaks; `field` is
// the field name used in the violations (e.g. "metadata").
void CheckMetadata(const Metadata& metadata, const Limits& limits, absl::string_view field,
                   std::vector<FieldViolation>& out);

// Returns `base` overlaid with `overrides` (overrides win).
Metadata MergeMetadata(const Metadata& base, const Metadata& overrides);

// Encodes as a compact JSON object.
std::string EncodeMetadataJson(const Metadata& metadata);

// Decodes a flat JSON object of strings (any whitespace, escapes including
// \uXXXX surrogate pairs). INVALID_ARGUMENT for anything else.
absl::StatusOr<Metadata> DecodeMetadataJson(absl::string_view json);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_METADATA_H_
