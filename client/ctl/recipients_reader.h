// Reads the recipients of `magiclinkctl issue`: CSV with a header row holding
// an `email` column (every other column becomes per-recipient metadata), or
// JSON lines, one object per line with an "email" key (every other key, and
// the entries of an optional "metadata" object, become metadata).
//
//   email,name,team              {"email": "ann@example.com", "name": "Ann"}
//   ann@example.com,Ann,blue     {"email": "bob@example.com", "metadata": {"team": "red"}}
//
//   absl::StatusOr<RecipientTable> table = ReadRecipients(text, InputFormat::kCsv);
#ifndef MAGICLINK_CLIENT_CTL_RECIPIENTS_READER_H_
#define MAGICLINK_CLIENT_CTL_RECIPIENTS_READER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace magiclink::ctl {

enum class InputFormat { kCsv, kJsonLines };

struct RecipientRow {
  int line = 0;  // where the recipient starts in the input, for error messages
  std::string email;
  // Empty CSV cells and JSON nulls are left out.
  std::map<std::string, std::string> metadata;
};

struct RecipientTable {
  // Metadata keys in the order they first appear (CSV: header order), for
  // output columns and template placeholders.
  std::vector<std::string> metadata_columns;
  std::vector<RecipientRow> rows;
};

// The format named by `flag` ("csv", "jsonl"), else by the file name's
// extension (.csv; .jsonl, .ndjson, .json), else by the first non-blank
// character of `text` ('{' means JSON lines). INVALID_ARGUMENT for an
// unknown flag value.
absl::StatusOr<InputFormat> DetectInputFormat(absl::string_view flag, absl::string_view path,
                                              absl::string_view text);

// Parses `text`. INVALID_ARGUMENT naming the line for malformed CSV or JSON,
// a missing email column or key, a CSV row with the wrong number of fields, a
// repeated column, or a JSON metadata value that is an array or object. The
// addresses themselves are left for the server to judge.
absl::StatusOr<RecipientTable> ReadRecipients(absl::string_view text, InputFormat format);

}  // namespace magiclink::ctl

#endif  // MAGICLINK_CLIENT_CTL_RECIPIENTS_READER_H_
