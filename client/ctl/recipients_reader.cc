#include "client/ctl/recipients_reader.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/ctl/text_formats.h"

namespace magiclink::ctl {
namespace {

absl::Status LineError(int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
}

void AddColumn(RecipientTable& table, std::set<std::string>& known, const std::string& key) {
  if (known.insert(key).second) table.metadata_columns.push_back(key);
}

absl::StatusOr<RecipientTable> ReadCsv(absl::string_view text) {
  absl::StatusOr<std::vector<CsvRow>> rows = ParseCsv(text);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::InvalidArgumentError("the CSV input is empty (no header row)");
  const CsvRow& header = rows->front();
  RecipientTable table;
  int email_column = -1;
  std::set<std::string> seen;
  std::vector<std::string> names;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name(absl::StripAsciiWhitespace(header.fields[i]));
    if (name.empty()) return LineError(header.line, absl::StrCat("column ", i + 1, " has no name"));
    if (!seen.insert(absl::AsciiStrToLower(name)).second) {
      return LineError(header.line, absl::StrCat("column \"", name, "\" appears twice"));
    }
    if (absl::AsciiStrToLower(name) == "email") {
      email_column = static_cast<int>(i);
    } else {
      table.metadata_columns.push_back(name);
    }
    names.push_back(std::move(name));
  }
  if (email_column < 0) return LineError(header.line, "the header has no \"email\" column");
  for (size_t r = 1; r < rows->size(); ++r) {
    const CsvRow& row = (*rows)[r];
    if (row.fields.size() != names.size()) {
      return LineError(row.line, absl::StrCat("has ", row.fields.size(), " fields, the header has ",
                                              names.size()));
    }
    RecipientRow recipient;
    recipient.line = row.line;
    for (size_t i = 0; i < names.size(); ++i) {
      if (static_cast<int>(i) == email_column) {
        recipient.email = row.fields[i];
      } else if (!row.fields[i].empty()) {
        recipient.metadata[names[i]] = row.fields[i];
      }
    }
    table.rows.push_back(std::move(recipient));
  }
  return table;
}

// A JSON scalar as metadata text; numbers print as integers when they are.
absl::StatusOr<std::string> ScalarText(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return value.string_value();
    case google::protobuf::Value::kBoolValue:
      return std::string(value.bool_value() ? "true" : "false");
    case google::protobuf::Value::kNumberValue:
      return absl::StrCat(value.number_value());
    default:
      return absl::InvalidArgumentError("metadata values must be strings, numbers or booleans");
  }
}

absl::Status AddJsonMetadata(const std::string& key, const google::protobuf::Value& value, int line,
                             RecipientRow& recipient, RecipientTable& table,
                             std::set<std::string>& known) {
  if (value.kind_case() == google::protobuf::Value::kNullValue) return absl::OkStatus();
  absl::StatusOr<std::string> text = ScalarText(value);
  if (!text.ok()) return LineError(line, absl::StrCat("\"", key, "\": ", text.status().message()));
  recipient.metadata[key] = *std::move(text);
  AddColumn(table, known, key);
  return absl::OkStatus();
}

absl::StatusOr<RecipientTable> ReadJsonLines(absl::string_view text) {
  RecipientTable table;
  std::set<std::string> known;
  int line = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line;
    const absl::string_view json = absl::StripAsciiWhitespace(raw);
    if (json.empty()) continue;
    google::protobuf::Struct object;
    const auto parsed = google::protobuf::util::JsonStringToMessage(std::string(json), &object);
    if (!parsed.ok()) return LineError(line, "not a JSON object");
    if (object.fields().count("email") == 0) return LineError(line, "\"email\" is missing");
    RecipientRow recipient;
    recipient.line = line;
    // Struct fields are a map; sort the keys so columns come out stable.
    std::vector<std::string> keys;
    for (const auto& [key, value] : object.fields()) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (const std::string& key : keys) {
      const google::protobuf::Value& value = object.fields().at(key);
      if (key == "email") {
        if (value.kind_case() != google::protobuf::Value::kStringValue) {
          return LineError(line, "\"email\" must be a string");
        }
        recipient.email = value.string_value();
      } else if (key == "metadata" && value.kind_case() == google::protobuf::Value::kStructValue) {
        std::vector<std::string> nested_keys;
        for (const auto& [k, v] : value.struct_value().fields()) nested_keys.push_back(k);
        std::sort(nested_keys.begin(), nested_keys.end());
        for (const std::string& k : nested_keys) {
          absl::Status added = AddJsonMetadata(k, value.struct_value().fields().at(k), line,
                                               recipient, table, known);
          if (!added.ok()) return added;
        }
      } else if (absl::Status added = AddJsonMetadata(key, value, line, recipient, table, known);
                 !added.ok()) {
        return added;
      }
    }
    table.rows.push_back(std::move(recipient));
  }
  return table;
}

}  // namespace

absl::StatusOr<InputFormat> DetectInputFormat(absl::string_view flag, absl::string_view path,
                                              absl::string_view text) {
  if (flag == "csv") return InputFormat::kCsv;
  if (flag == "jsonl") return InputFormat::kJsonLines;
  if (!flag.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--input_format must be csv or jsonl, not \"", flag, "\""));
  }
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".csv")) return InputFormat::kCsv;
  if (absl::EndsWith(lower, ".jsonl") || absl::EndsWith(lower, ".ndjson") ||
      absl::EndsWith(lower, ".json")) {
    return InputFormat::kJsonLines;
  }
  const absl::string_view start = absl::StripLeadingAsciiWhitespace(text);
  return !start.empty() && start.front() == '{' ? InputFormat::kJsonLines : InputFormat::kCsv;
}

absl::StatusOr<RecipientTable> ReadRecipients(absl::string_view text, InputFormat format) {
  return format == InputFormat::kCsv ? ReadCsv(text) : ReadJsonLines(text);
}

}  // namespace magiclink::ctl
