#include "server/store/postgres/pg_values.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"
#include "server/core/crypto.h"

namespace magiclink {

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }

absl::Time FromMicros(int64_t micros) { return absl::FromUnixMicros(micros); }

std::string Bytes(const pqxx::field& field) {
  if (field.is_null()) return std::string();
  return pqxx::binarystring(field).str();
}

std::string PgRow::Text(int column) const { return row_[column].as<std::string>(); }

int64_t PgRow::Int(int column) const { return row_[column].as<int64_t>(); }

std::optional<int64_t> PgRow::OptionalInt(int column) const {
  if (row_[column].is_null()) return std::nullopt;
  return row_[column].as<int64_t>();
}

std::string PgRow::Blob(int column) const { return Bytes(row_[column]); }

void AppendArrayElement(std::string& literal, absl::string_view value) {
  // Quoted, so NULL, commas, braces and spaces are plain text; inside the
  // quotes only '"' and '\' need a backslash.
  literal.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') literal.push_back('\\');
    literal.push_back(c);
  }
  literal.push_back('"');
}

void AppendByteaArrayElement(std::string& literal, absl::string_view bytes) {
  // The element's backslash is escaped inside the quotes: "\\x0a1b...".
  absl::StrAppend(&literal, "\"\\\\x", HexEncode(bytes), "\"");
}

void ArrayLiteral::Separate() {
  if (count_++ > 0) literal_.push_back(',');
}

void ArrayLiteral::AddNumber(int64_t value) {
  Separate();
  absl::StrAppend(&literal_, value);
}

void ArrayLiteral::AddText(absl::string_view value) {
  Separate();
  AppendArrayElement(literal_, value);
}

void ArrayLiteral::AddBytea(absl::string_view bytes) {
  Separate();
  AppendByteaArrayElement(literal_, bytes);
}

std::string ArrayLiteral::Finish() && {
  literal_.push_back('}');
  return std::move(literal_);
}

std::string ByteaArrayLiteral(const std::vector<std::string>& values) {
  ArrayLiteral out;
  for (const std::string& value : values) out.AddBytea(value);
  return std::move(out).Finish();
}

std::string TextArrayLiteral(const std::vector<std::string>& values) {
  ArrayLiteral out;
  for (const std::string& value : values) out.AddText(value);
  return std::move(out).Finish();
}

}  // namespace magiclink
