// magiclinkctl's parsers and writers: flags, CSV, JSON lines, templates and
// the Resend payload files.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/ctl/cli_flags.h"
#include "client/ctl/exit_codes.h"
#include "client/ctl/link_writers.h"
#include "client/ctl/message_template.h"
#include "client/ctl/recipients_reader.h"
#include "client/ctl/text_formats.h"
#include "magiclink/client/error.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::ctl {
namespace {

using ::magiclink::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::SizeIs;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(CtlFlagsTest, ParsesEveryFormAndKeepsPositionals) {
  const std::vector<FlagSpec> specs = {
      {"batch", "ID", ""}, {"progress", "", ""}, {"metadata", "K=V", "", true}};
  absl::StatusOr<ParsedFlags> flags = ParseFlags(
      {"--batch", "b_1", "--progress", "--metadata=a=1", "--metadata", "b=2", "extra"}, specs);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->Get("batch"), "b_1");
  EXPECT_TRUE(flags->GetBool("progress"));
  EXPECT_THAT(flags->GetAll("metadata"), ElementsAre("a=1", "b=2"));
  EXPECT_THAT(flags->positional, ElementsAre("extra"));
  EXPECT_FALSE(flags->help);
}

TEST(CtlFlagsTest, RefusesUnknownRepeatedAndValuelessFlags) {
  const std::vector<FlagSpec> specs = {{"batch", "ID", ""}, {"progress", "", ""}};
  EXPECT_FALSE(ParseFlags({"--bacth=b"}, specs).ok());
  EXPECT_FALSE(ParseFlags({"--batch=a", "--batch=b"}, specs).ok());
  EXPECT_FALSE(ParseFlags({"--batch"}, specs).ok());
  EXPECT_FALSE(ParseFlags({"--progress=maybe"}, specs).ok());
  absl::StatusOr<ParsedFlags> off = ParseFlags({"--progress=false", "--help"}, specs);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->GetBool("progress"));
  EXPECT_TRUE(off->help);
}

TEST(CtlExitCodesTest, MapsServerErrorsToTheDocumentedCodes) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitOk);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("")), kExitInvalidInput);
  EXPECT_EQ(ExitCodeFor(absl::AlreadyExistsError("")), kExitInvalidInput);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("")), kExitNotUsable);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("")), kExitNotUsable);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("")), kExitDenied);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("")), kExitDenied);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("")), kExitFailure);
}

TEST(CtlCsvTest, HandlesQuotesEmbeddedLineBreaksCrlfAndByteOrderMark) {
  absl::StatusOr<std::vector<CsvRow>> rows = ParseCsv(
      "\xEF\xBB\xBF"
      "email,note\r\na@x.com,\"two\nlines, \"\"quoted\"\"\"\r\n\r\nb@x.com,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_THAT(*rows, SizeIs(3));
  EXPECT_THAT((*rows)[0].fields, ElementsAre("email", "note"));
  EXPECT_THAT((*rows)[1].fields, ElementsAre("a@x.com", "two\nlines, \"quoted\""));
  EXPECT_EQ((*rows)[1].line, 2);
  EXPECT_THAT((*rows)[2].fields, ElementsAre("b@x.com", ""));
  EXPECT_EQ((*rows)[2].line, 5);
}

TEST(CtlCsvTest, ReportsTheLineOfAnUnclosedQuote) {
  absl::StatusOr<std::vector<CsvRow>> rows = ParseCsv("email\na@x.com\n\"b@x.com\n");
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rows.status().message(), HasSubstr("line 3"));
  EXPECT_FALSE(ParseCsv("\"a\"b\n").ok());
}

TEST(CtlCsvTest, FieldsRoundTrip) {
  const std::vector<std::string> values = {"plain", "a,b", "say \"hi\"", "two\nlines", " pad ", ""};
  std::string line;
  for (size_t i = 0; i < values.size(); ++i) line += (i ? "," : "") + CsvField(values[i]);
  absl::StatusOr<std::vector<CsvRow>> rows = ParseCsv(line + "\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_THAT(*rows, SizeIs(1));
  EXPECT_EQ((*rows)[0].fields, values);
  EXPECT_EQ(CsvField("plain"), "plain");
}

TEST(CtlTextFormatsTest, EscapesJsonAndHtml) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
  EXPECT_EQ(HtmlEscape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
}

TEST(CtlRecipientsReaderTest, CsvColumnsBesidesEmailBecomeMetadata) {
  absl::StatusOr<RecipientTable> table = ReadRecipients(
      "Name,EMAIL,team\nAnn,ann@example.com,blue\nBob,bob@example.com,\n", InputFormat::kCsv);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->metadata_columns, ElementsAre("Name", "team"));
  ASSERT_THAT(table->rows, SizeIs(2));
  EXPECT_EQ(table->rows[0].email, "ann@example.com");
  EXPECT_THAT(table->rows[0].metadata, ElementsAre(Pair("Name", "Ann"), Pair("team", "blue")));
  EXPECT_THAT(table->rows[1].metadata, ElementsAre(Pair("Name", "Bob")));
  EXPECT_EQ(table->rows[1].line, 3);
}

TEST(CtlRecipientsReaderTest, MalformedCsvNamesTheLine) {
  EXPECT_THAT(ReadRecipients("name\nAnn\n", InputFormat::kCsv).status().message(),
              HasSubstr("no \"email\" column"));
  EXPECT_THAT(
      ReadRecipients("email,name\na@x.com,Ann,extra\n", InputFormat::kCsv).status().message(),
      HasSubstr("line 2"));
  EXPECT_THAT(ReadRecipients("email,name,Email\n", InputFormat::kCsv).status().message(),
              HasSubstr("appears twice"));
}

TEST(CtlRecipientsReaderTest, JsonLinesTakeFlatKeysAndAMetadataObject) {
  absl::StatusOr<RecipientTable> table = ReadRecipients(
      "{\"email\": \"ann@example.com\", \"name\": \"Ann\", \"seats\": 3, \"admin\": true}\n"
      "\n"
      "{\"email\": \"bob@example.com\", \"metadata\": {\"team\": \"red\"}, \"note\": null}\n",
      InputFormat::kJsonLines);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_THAT(table->rows, SizeIs(2));
  EXPECT_THAT(table->rows[0].metadata,
              ElementsAre(Pair("admin", "true"), Pair("name", "Ann"), Pair("seats", "3")));
  EXPECT_THAT(table->rows[1].metadata, ElementsAre(Pair("team", "red")));
  EXPECT_EQ(table->rows[1].line, 3);
  EXPECT_THAT(table->metadata_columns, ElementsAre("admin", "name", "seats", "team"));
}

TEST(CtlRecipientsReaderTest, MalformedJsonLinesNameTheLine) {
  EXPECT_THAT(ReadRecipients("{\"email\": \"a@x.com\"}\nnot json\n", InputFormat::kJsonLines)
                  .status()
                  .message(),
              HasSubstr("line 2"));
  EXPECT_THAT(ReadRecipients("{\"name\": \"Ann\"}\n", InputFormat::kJsonLines).status().message(),
              HasSubstr("\"email\" is missing"));
  EXPECT_THAT(ReadRecipients("{\"email\": \"a@x.com\", \"tags\": [1]}\n", InputFormat::kJsonLines)
                  .status()
                  .message(),
              HasSubstr("\"tags\""));
}

TEST(CtlRecipientsReaderTest, FormatComesFromTheFlagThenTheNameThenTheContent) {
  EXPECT_EQ(*DetectInputFormat("jsonl", "list.csv", ""), InputFormat::kJsonLines);
  EXPECT_EQ(*DetectInputFormat("", "list.CSV", "{"), InputFormat::kCsv);
  EXPECT_EQ(*DetectInputFormat("", "list.ndjson", "email"), InputFormat::kJsonLines);
  EXPECT_EQ(*DetectInputFormat("", "-", "  {\"email\":1}"), InputFormat::kJsonLines);
  EXPECT_EQ(*DetectInputFormat("", "-", "email\n"), InputFormat::kCsv);
  EXPECT_FALSE(DetectInputFormat("xml", "-", "").ok());
}

TEST(CtlTemplateTest, RendersPlaceholdersAndEscapesHtmlOnlyWhenAsked) {
  absl::StatusOr<MessageTemplate> t =
      MessageTemplate::Parse("Hi {{ name }}, <a href=\"{{link}}\">join</a>{{missing}}");
  ASSERT_TRUE(t.ok()) << t.status();
  const std::map<std::string, std::string> values = {{"name", "Tom & Jerry"},
                                                     {"link", "https://x/?a=1&token=t"}};
  EXPECT_EQ(t->Render(values, true),
            "Hi Tom &amp; Jerry, <a href=\"https://x/?a=1&amp;token=t\">join</a>");
  EXPECT_EQ(t->Render(values, false),
            "Hi Tom & Jerry, <a href=\"https://x/?a=1&token=t\">join</a>");
}

TEST(CtlTemplateTest, UnknownAndMalformedPlaceholdersAreErrors) {
  absl::StatusOr<MessageTemplate> t = MessageTemplate::Parse("{{link}} {{nmae}}");
  ASSERT_TRUE(t.ok());
  absl::Status checked = t->CheckNames({"link", "email", "name"});
  EXPECT_EQ(checked.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(checked.message(), HasSubstr("{{nmae}}"));
  EXPECT_TRUE(t->CheckNames({"link", "nmae"}).ok());
  EXPECT_FALSE(MessageTemplate::Parse("Hello {{name").ok());
  EXPECT_FALSE(MessageTemplate::Parse("Hello {{ }}").ok());
}

class CtlResendPayloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < 250; ++i) {
      RecipientRow row;
      row.line = static_cast<int>(i) + 2;
      row.email = absl::StrCat("user", i, "@example.com");
      row.metadata["name"] = absl::StrCat("User <", i, ">");
      table_.rows.push_back(row);
      client::IssuedLink link;
      link.index = i;
      link.email = row.email;
      link.token = absl::StrCat("tok", i);
      link.url = absl::StrCat("http://localhost/welcome?token=tok", i);
      link.expires_at.set_seconds(1700000000);
      links_.push_back(link);
    }
    table_.metadata_columns = {"name"};
    options_.out_dir = dir_.File("payloads");
    options_.from = "Acme <hello@acme.dev>";
    options_.subject = *MessageTemplate::Parse("Welcome, {{name}}");
    options_.html = *MessageTemplate::Parse("<p>{{name}}: <a href=\"{{link}}\">join</a></p>");
    options_.text = *MessageTemplate::Parse("{{name}}: {{link}} (until {{expires_at}})");
  }

  TempDir dir_;
  RecipientTable table_;
  std::vector<client::IssuedLink> links_;
  ResendPayloadOptions options_;
};

TEST_F(CtlResendPayloadTest, WritesAtMostOneHundredMessagesPerFileInOrder) {
  ASSERT_TRUE(CheckResendOutDir(options_.out_dir).ok());
  absl::StatusOr<std::vector<std::string>> files = WriteResendPayloads(links_, table_, options_);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_THAT(*files,
              ElementsAre(options_.out_dir + "/out-0001.json", options_.out_dir + "/out-0002.json",
                          options_.out_dir + "/out-0003.json"));
  size_t next = 0;
  for (const std::string& path : *files) {
    struct stat info;
    ASSERT_EQ(stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u) << path;
    google::protobuf::ListValue messages;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ReadFile(path), &messages).ok())
        << path;
    EXPECT_LE(messages.values_size(), 100);
    for (const google::protobuf::Value& value : messages.values()) {
      const auto& m = value.struct_value().fields();
      EXPECT_EQ(m.at("from").string_value(), "Acme <hello@acme.dev>");
      ASSERT_EQ(m.at("to").list_value().values(0).string_value(), links_[next].email);
      EXPECT_EQ(m.at("subject").string_value(), absl::StrCat("Welcome, User <", next, ">"));
      EXPECT_EQ(m.at("html").string_value(), absl::StrCat("<p>User &lt;", next, "&gt;: <a href=\"",
                                                          links_[next].url, "\">join</a></p>"));
      EXPECT_EQ(m.at("text").string_value(), absl::StrCat("User <", next, ">: ", links_[next].url,
                                                          " (until 2023-11-14T22:13:20Z)"));
      ++next;
    }
  }
  EXPECT_EQ(next, 250u);
}

TEST_F(CtlResendPayloadTest, TextIsLeftOutWithoutATextTemplate) {
  options_.text.reset();
  ASSERT_TRUE(CheckResendOutDir(options_.out_dir).ok());
  absl::StatusOr<std::vector<std::string>> files = WriteResendPayloads(links_, table_, options_);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(ReadFile(files->front()), ::testing::Not(HasSubstr("\"text\"")));
}

TEST_F(CtlResendPayloadTest, RefusesAFolderHoldingEarlierPayloads) {
  std::filesystem::create_directories(options_.out_dir);
  std::ofstream(options_.out_dir + "/out-0007.json") << "[]";
  absl::Status checked = CheckResendOutDir(options_.out_dir);
  EXPECT_EQ(checked.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(checked.message(), HasSubstr("out-0007.json"));
}

TEST_F(CtlResendPayloadTest, CsvAndJsonLinesCarryTheRecipientsMetadata) {
  std::ostringstream csv;
  WriteLinksCsv({links_[1]}, table_, csv);
  EXPECT_EQ(csv.str(),
            "email,url,token,expires_at,batch_id,name\n"
            "user1@example.com,http://localhost/welcome?token=tok1,tok1,2023-11-14T22:13:20Z,,"
            "User <1>\n");
  std::ostringstream jsonl;
  WriteLinksJsonLines({links_[1]}, table_, jsonl);
  google::protobuf::Struct object;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(jsonl.str(), &object).ok());
  EXPECT_EQ(object.fields().at("token").string_value(), "tok1");
  EXPECT_EQ(object.fields().at("metadata").struct_value().fields().at("name").string_value(),
            "User <1>");
}

}  // namespace
}  // namespace magiclink::ctl
