// magiclinkctl's CSV reader from arbitrary bytes: never crashes, rows' line
// numbers only grow and stay within the input, and every non-empty field it
// reads comes back unchanged through CsvField and ParseCsv.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "client/ctl/text_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<magiclink::ctl::CsvRow>> rows = magiclink::ctl::ParseCsv(text);
  if (!rows.ok()) return 0;
  const int max_line = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n') +
                                            std::count(text.begin(), text.end(), '\r'));
  int previous = 0;
  for (const magiclink::ctl::CsvRow& row : *rows) {
    if (row.line <= previous || row.line > max_line || row.fields.empty()) std::abort();
    previous = row.line;
    for (const std::string& field : row.fields) {
      if (field.empty() || absl::StartsWith(field, "\xEF\xBB\xBF")) continue;
      auto again = magiclink::ctl::ParseCsv(magiclink::ctl::CsvField(field) + "\n");
      if (!again.ok() || again->size() != 1 || (*again)[0].fields.size() != 1 ||
          (*again)[0].fields[0] != field) {
        std::abort();
      }
    }
  }
  return 0;
}
