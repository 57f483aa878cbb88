// Structured logs: one JSON object per line on stderr, with a timestamp, a
// level and an event name. Callers pass only values that are safe to log:
// never a token, link, API key or secret.
//
//   Log(LogLevel::kInfo, "listening", {{"address", "127.0.0.1:50051"}});
#ifndef MAGICLINK_SERVER_OBSERVABILITY_LOG_H_
#define MAGICLINK_SERVER_OBSERVABILITY_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace magiclink {

enum class LogLevel { kInfo, kWarning, kError };

// Writes one log line; thread-safe.
void Log(LogLevel level, absl::string_view event,
         std::initializer_list<std::pair<absl::string_view, std::string>> fields = {});

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_OBSERVABILITY_LOG_H_
