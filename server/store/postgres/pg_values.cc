#include "server/store/postgres/pg_values.h"

#include "pqxx/pqxx"

namespace magiclink {

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }

absl::Time FromMicros(int64_t micros) { return absl::FromUnixMicros(micros); }

std::optional<absl::Time> OptionalTime(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return FromMicros(field.as<int64_t>());
}

std::string Bytes(const pqxx::field& field) {
  if (field.is_null()) return std::string();
  return pqxx::binarystring(field).str();
}

namespace {

void AppendHex(std::string& out, absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
}

}  // namespace

std::string ByteaHex(absl::string_view bytes) {
  std::string out;
  out.reserve(2 + 2 * bytes.size());
  out += "\\x";
  AppendHex(out, bytes);
  return out;
}

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
  literal += "\"\\\\x";
  AppendHex(literal, bytes);
  literal.push_back('"');
}

std::string ByteaArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  out.reserve(2 + values.size() * (6 + 64));
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendByteaArrayElement(out, values[i]);
  }
  out.push_back('}');
  return out;
}

std::string TextArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendArrayElement(out, values[i]);
  }
  out.push_back('}');
  return out;
}

}  // namespace magiclink
