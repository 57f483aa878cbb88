#include "server/core/metadata.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/core/json.h"

namespace magiclink {
namespace {

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A cursor over JSON text; every method returns false on malformed input.
class JsonReader {
 public:
  explicit JsonReader(absl::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }
  bool ReadHex4(uint32_t& out) {
    if (pos_ + 4 > text_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') out |= c - '0';
      else if (c >= 'a' && c <= 'f') out |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') out |= c - 'A' + 10;
      else return false;
    }
    return true;
  }
  bool ReadString(std::string& out) {
    if (!Consume('"')) return false;
    out.clear();
    while (pos_ < text_.size()) {
      const unsigned char c = text_[pos_++];
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= text_.size()) return false;
      const char e = text_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!ReadHex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (pos_ + 2 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') return false;
            pos_ += 2;
            if (!ReadHex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

void CheckMetadata(const Metadata& metadata, const Limits& limits, absl::string_view field,
                   std::vector<FieldViolation>& out) {
  if (metadata.size() > static_cast<size_t>(limits.max_metadata_entries)) {
    out.push_back({std::string(field), absl::StrCat("has ", metadata.size(), " entries; at most ",
                                                    limits.max_metadata_entries, " are allowed")});
  }
  size_t bytes = 0;
  for (const auto& [key, value] : metadata) {
    bytes += key.size() + value.size();
    if (key.empty() || key.size() > limits.max_metadata_key_length) {
      out.push_back({absl::StrCat(field, "[", absl::CHexEscape(key.substr(0, 64)), "]"),
                     absl::StrCat("keys must be 1-", limits.max_metadata_key_length,
                                  " characters")});
    }
  }
  if (bytes > limits.max_metadata_bytes) {
    out.push_back({std::string(field), absl::StrCat("holds ", bytes, " bytes; at most ",
                                                    limits.max_metadata_bytes, " are allowed")});
  }
}

Metadata MergeMetadata(const Metadata& base, const Metadata& overrides) {
  Metadata out = base;
  for (const auto& [key, value] : overrides) out[key] = value;
  return out;
}

std::string EncodeMetadataJson(const Metadata& metadata) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : metadata) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(key, out);
    out.push_back(':');
    AppendJsonString(value, out);
  }
  out.push_back('}');
  return out;
}

absl::StatusOr<Metadata> DecodeMetadataJson(absl::string_view json) {
  JsonReader reader(json);
  Metadata out;
  const absl::Status malformed = absl::InvalidArgumentError("stored metadata is not a JSON string map");
  if (!reader.Consume('{')) return malformed;
  if (!reader.Consume('}')) {
    do {
      std::string key, value;
      if (!reader.ReadString(key) || !reader.Consume(':') || !reader.ReadString(value)) {
        return malformed;
      }
      out[std::move(key)] = std::move(value);
    } while (reader.Consume(','));
    if (!reader.Consume('}')) return malformed;
  }
  if (!reader.AtEnd()) return malformed;
  return out;
}

}  // namespace magiclink
