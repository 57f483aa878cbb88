#include "client/ctl/link_writers.h"

#include <fcntl.h>
#include <google/protobuf/util/time_util.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/ctl/text_formats.h"

namespace magiclink::ctl {
namespace {

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

const RecipientRow& RowOf(const client::IssuedLink& link, const RecipientTable& table) {
  return table.rows.at(link.index);
}

std::string ResendMessage(const client::IssuedLink& link, const RecipientTable& table,
                          const ResendPayloadOptions& options) {
  const std::map<std::string, std::string> values =
      TemplateValues(link, RowOf(link, table), options.batch_metadata);
  std::string json = absl::StrCat(
      "{\"from\":", JsonString(options.from), ",\"to\":[", JsonString(link.email),
      "],\"subject\":", JsonString(options.subject.Render(values, /*html_escape=*/false)),
      ",\"html\":", JsonString(options.html.Render(values, /*html_escape=*/true)));
  if (options.text.has_value()) {
    absl::StrAppend(&json,
                    ",\"text\":", JsonString(options.text->Render(values, /*html_escape=*/false)));
  }
  json += "}";
  return json;
}

std::string PayloadFileName(size_t number) { return absl::StrFormat("out-%04d.json", number); }

}  // namespace

std::map<std::string, std::string> TemplateValues(
    const client::IssuedLink& link, const RecipientRow& row,
    const std::map<std::string, std::string>& batch_metadata) {
  std::map<std::string, std::string> values = batch_metadata;
  for (const auto& [key, value] : row.metadata) values[key] = value;
  values["link"] = link.url;
  values["email"] = link.email;
  values["expires_at"] = Rfc3339(link.expires_at);
  return values;
}

std::set<std::string> KnownTemplateNames(const RecipientTable& table,
                                         const std::map<std::string, std::string>& batch_metadata) {
  std::set<std::string> names = {"link", "email", "expires_at"};
  names.insert(table.metadata_columns.begin(), table.metadata_columns.end());
  for (const auto& [key, value] : batch_metadata) names.insert(key);
  return names;
}

void WriteLinksCsv(const std::vector<client::IssuedLink>& links, const RecipientTable& table,
                   std::ostream& out) {
  out << "email,url,token,expires_at,batch_id";
  for (const std::string& column : table.metadata_columns) out << "," << CsvField(column);
  out << "\n";
  for (const client::IssuedLink& link : links) {
    out << CsvField(link.email) << "," << CsvField(link.url) << "," << CsvField(link.token) << ","
        << Rfc3339(link.expires_at) << "," << CsvField(link.batch_id);
    const RecipientRow& row = RowOf(link, table);
    for (const std::string& column : table.metadata_columns) {
      auto it = row.metadata.find(column);
      out << "," << (it == row.metadata.end() ? "" : CsvField(it->second));
    }
    out << "\n";
  }
}

void WriteLinksJsonLines(const std::vector<client::IssuedLink>& links, const RecipientTable& table,
                         std::ostream& out) {
  for (const client::IssuedLink& link : links) {
    out << "{\"email\":" << JsonString(link.email) << ",\"url\":" << JsonString(link.url)
        << ",\"token\":" << JsonString(link.token)
        << ",\"expires_at\":" << JsonString(Rfc3339(link.expires_at))
        << ",\"batch_id\":" << JsonString(link.batch_id) << ",\"metadata\":{";
    const char* separator = "";
    for (const auto& [key, value] : RowOf(link, table).metadata) {
      out << separator << JsonString(key) << ":" << JsonString(value);
      separator = ",";
    }
    out << "}}\n";
  }
}

absl::Status CreatePrivateFile(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", path));
  close(fd);
  // open() keeps the mode of a file that already existed.
  std::error_code error;
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, error);
  if (error) return absl::InternalError(absl::StrCat("cannot restrict access to ", path));
  return absl::OkStatus();
}

absl::Status CheckResendOutDir(const std::string& out_dir) {
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create --out_dir ", out_dir, ": ", error.message()));
  }
  for (const auto& entry : std::filesystem::directory_iterator(out_dir, error)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "out-") && absl::EndsWith(name, ".json")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--out_dir ", out_dir, " already holds ", name,
                       "; use an empty folder so old payloads cannot be sent with the new ones"));
    }
  }
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read --out_dir ", out_dir, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> WriteResendPayloads(
    const std::vector<client::IssuedLink>& links, const RecipientTable& table,
    const ResendPayloadOptions& options) {
  std::vector<std::string> paths;
  const size_t per_file = std::max<size_t>(1, options.messages_per_file);
  for (size_t first = 0; first < links.size(); first += per_file) {
    const std::string path =
        (std::filesystem::path(options.out_dir) / PayloadFileName(paths.size() + 1)).string();
    if (absl::Status created = CreatePrivateFile(path); !created.ok()) return created;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "[\n";
    const size_t end = std::min(links.size(), first + per_file);
    for (size_t i = first; i < end; ++i) {
      out << ResendMessage(links[i], table, options) << (i + 1 < end ? ",\n" : "\n");
    }
    out << "]\n";
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
    paths.push_back(path);
  }
  return paths;
}

}  // namespace magiclink::ctl
