#include "server/core/json.h"

#include "nlohmann/json.hpp"

namespace magiclink {

void AppendJsonString(absl::string_view s, std::string& out) {
  // Invalid UTF-8 becomes U+FFFD, so a log line is always valid JSON.
  out +=
      nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace magiclink
