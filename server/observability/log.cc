#include "server/observability/log.h"

#include <cstdio>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/core/json.h"

namespace magiclink {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace

void Log(LogLevel level, absl::string_view event,
         std::initializer_list<std::pair<absl::string_view, std::string>> fields) {
  std::string line = "{\"time\":";
  AppendJsonString(absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()), line);
  line += ",\"level\":";
  AppendJsonString(LevelName(level), line);
  line += ",\"event\":";
  AppendJsonString(event, line);
  for (const auto& [key, value] : fields) {
    line.push_back(',');
    AppendJsonString(key, line);
    line.push_back(':');
    AppendJsonString(value, line);
  }
  line += "}\n";
  static absl::Mutex mu(absl::kConstInit);
  absl::MutexLock lock(&mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace magiclink
