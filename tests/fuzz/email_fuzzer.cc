// Email validation and normalisation from arbitrary bytes: never crashes, and
// a normalised address is short enough, printable ASCII with one '@', and is
// its own normal form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/core/email.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> email = magiclink::NormalizeEmail(raw, 254);
  if (!email.ok()) return 0;
  if (email->size() > 254 || email->find('@') == std::string::npos ||
      email->find('@') != email->rfind('@')) {
    std::abort();
  }
  for (unsigned char c : *email) {
    if (c <= 0x20 || c >= 0x7F) std::abort();
  }
  absl::StatusOr<std::string> again = magiclink::NormalizeEmail(*email, 254);
  if (!again.ok() || *again != *email) std::abort();
  return 0;
}
