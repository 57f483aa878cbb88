// The text formats magiclinkctl reads and writes: CSV (RFC 4180: quoted
// fields, doubled quotes, CRLF or LF, line breaks inside quotes), JSON string
// quoting and HTML escaping.
//
//   absl::StatusOr<std::vector<CsvRow>> rows = ParseCsv("email,name\na@x.com,Ann\n");
//   out << CsvField("Ann, \"the\" admin");  // "Ann, ""the"" admin"
#ifndef MAGICLINK_CLIENT_CTL_TEXT_FORMATS_H_
#define MAGICLINK_CLIENT_CTL_TEXT_FORMATS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace magiclink::ctl {

struct CsvRow {
  int line = 0;  // 1-based line on which the row starts
  std::vector<std::string> fields;
};

// Parses CSV text into rows, skipping blank lines and a leading UTF-8 byte
// order mark. INVALID_ARGUMENT naming the line for an unterminated quote or
// text after a closing quote.
absl::StatusOr<std::vector<CsvRow>> ParseCsv(absl::string_view text);

// `value` as one CSV field, quoted only when it holds a comma, quote or line
// break (or starts or ends with a space).
std::string CsvField(absl::string_view value);

// `value` as a quoted JSON string (control characters escaped; UTF-8 kept,
// invalid UTF-8 replaced by U+FFFD).
std::string JsonString(absl::string_view value);

// `value` with &, <, >, " and ' replaced by HTML entities.
std::string HtmlEscape(absl::string_view value);

}  // namespace magiclink::ctl

#endif  // MAGICLINK_CLIENT_CTL_TEXT_FORMATS_H_
