// Values as they cross the wire to PostgreSQL: absl::Time as microseconds
// since the Unix epoch (the schema converts them to timestamptz with
// magiclink_time() and back with magiclink_micros()), byte strings as bytea
// hex text, and arrays as PostgreSQL array literals so a whole batch or a set
// of candidate hashes travels as one statement parameter.
//
//   tx.exec_prepared("consume", ByteaArrayLiteral(hashes), ToMicros(now), ...);
#ifndef MAGICLINK_SERVER_STORE_POSTGRES_PG_VALUES_H_
#define MAGICLINK_SERVER_STORE_POSTGRES_PG_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pqxx {
class field;
class row;
}  // namespace pqxx

namespace magiclink {

// Microseconds since the Unix epoch (rounded down), PostgreSQL's resolution.
int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t micros);

// The raw bytes of a bytea column ("" when NULL).
std::string Bytes(const pqxx::field& field);

// A result row as token_rows' readers read it (token_rows.h).
class PgRow {
 public:
  explicit PgRow(const pqxx::row& row) : row_(row) {}
  std::string Text(int column) const;
  int64_t Int(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;  // nullopt: NULL
  std::string Blob(int column) const;                    // bytea; "": NULL

 private:
  const pqxx::row& row_;
};

// Appends `value` to an array literal as a quoted element.
void AppendArrayElement(std::string& literal, absl::string_view value);

// Appends `bytes` to a bytea[] literal as a quoted element in bytea hex
// input form ("\\x0a1b...").
void AppendByteaArrayElement(std::string& literal, absl::string_view bytes);

// Builds one array literal element by element:
//
//   ArrayLiteral ids;
//   ids.AddNumber(1);
//   ids.AddNumber(2);
//   std::string literal = std::move(ids).Finish();  // {1,2}
class ArrayLiteral {
 public:
  void AddNumber(int64_t value);
  void AddText(absl::string_view value);   // quoted, as AppendArrayElement
  void AddBytea(absl::string_view bytes);  // as AppendByteaArrayElement
  bool empty() const { return count_ == 0; }
  std::string Finish() &&;

 private:
  void Separate();

  std::string literal_ = "{";
  size_t count_ = 0;
};

// {"\\x..","\\x.."}: a bytea[] literal.
std::string ByteaArrayLiteral(const std::vector<std::string>& values);

// {"a","b"}: a text[] literal.
std::string TextArrayLiteral(const std::vector<std::string>& values);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_PG_VALUES_H_
