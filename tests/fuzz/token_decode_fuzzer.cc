// Token decoding from arbitrary bytes: base64url and hex decoding never
// crash, decoding is the exact inverse of encoding (one encoding per byte
// string), and IsWellFormedToken accepts only 43-character encodings of 32
// bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/core/crypto.h"
#include "server/core/links.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::optional<std::string> bytes = magiclink::Base64UrlDecode(text);
  if (bytes && magiclink::Base64UrlEncode(*bytes) != text) std::abort();
  const bool well_formed = magiclink::IsWellFormedToken(text);
  if (well_formed && (!bytes || bytes->size() != 32 || text.size() != 43)) std::abort();
  if (!well_formed && bytes && bytes->size() == 32) std::abort();
  if (magiclink::Base64UrlDecode(magiclink::Base64UrlEncode(text)) != text) std::abort();
  std::optional<std::string> hex = magiclink::HexDecode(text);
  if (hex && magiclink::HexDecode(magiclink::HexEncode(*hex)) != hex) std::abort();
  return 0;
}
