// JSON string quoting, shared by the metadata encoding and the JSON logs.
#ifndef MAGICLINK_SERVER_CORE_JSON_H_
#define MAGICLINK_SERVER_CORE_JSON_H_

#include <string>

#include "absl/strings/string_view.h"

namespace magiclink {

// Appends `s` to `out` as a quoted JSON string (control characters escaped;
// other bytes, including UTF-8, copied as they are).
void AppendJsonString(absl::string_view s, std::string& out);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_JSON_H_
