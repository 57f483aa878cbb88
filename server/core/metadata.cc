#include "server/core/metadata.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace magiclink {
void CheckMetadata(const Metadata& metadata, const Limits& limits, absl::string_view field,
                   std::vector<FieldViolation>& out) {
  if (metadata.size() > static_cast<size_t>(limits.max_metadata_entries)) {
    out.push_back({std::string(field), absl::StrCat("has ", metadata.size(), " entries; at most ",
                                                    limits.max_metadata_entries, " are allowed")});
  }
  size_t bytes = 0;
  for (const auto& [key, value] : metadata) {
    bytes += key.size() + value.size();
    if (key.empty() || key.size() > limits.max_metadata_key_length) {
      out.push_back(
          {absl::StrCat(field, "[", absl::CHexEscape(key.substr(0, 64)), "]"),
           absl::StrCat("keys must be 1-", limits.max_metadata_key_length, " characters")});
    }
  }
  if (bytes > limits.max_metadata_bytes) {
    out.push_back({std::string(field), absl::StrCat("holds ", bytes, " bytes; at most ",
                                                    limits.max_metadata_bytes, " are allowed")});
  }
}

Metadata MergeMetadata(const Metadata& base, const Metadata& overrides) {
  Metadata out = base;
  for (const auto& [key, value] : overrides) out[key] = value;
  return out;
}

std::string EncodeMetadataJson(const Metadata& metadata) {
  // Metadata comes from proto strings, which are UTF-8; anything else would be
  // replaced by U+FFFD rather than stored as invalid JSON.
  return nlohmann::json(metadata).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<Metadata> DecodeMetadataJson(absl::string_view json) {
  const absl::Status malformed =
      absl::InvalidArgumentError("stored metadata is not a JSON string map");
  const nlohmann::json parsed =
      nlohmann::json::parse(json.begin(), json.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return malformed;  // also a parse error (is_discarded)
  Metadata out;
  for (const auto& [key, value] : parsed.items()) {
    if (!value.is_string()) return malformed;
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

}  // namespace magiclink
