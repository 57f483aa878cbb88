// Stored-metadata JSON decoding from arbitrary bytes: never crashes, and what
// decodes re-encodes to JSON that decodes to the same map.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/core/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<magiclink::Metadata> decoded = magiclink::DecodeMetadataJson(json);
  if (!decoded.ok()) return 0;
  const std::string encoded = magiclink::EncodeMetadataJson(*decoded);
  absl::StatusOr<magiclink::Metadata> again = magiclink::DecodeMetadataJson(encoded);
  if (!again.ok() || *again != *decoded) std::abort();
  return 0;
}
