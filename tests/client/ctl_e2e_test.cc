// magiclinkctl, the binary, against a real magiclinkd: files in, files out,
// exit codes and what it prints.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "client/ctl/text_formats.h"
#include "magiclink/client/client.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "tests/client/ctl_runner.h"
#include "tests/testing/issue_requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::ctl {
namespace {

using ::magiclink::ctl::testing::CtlRun;
using ::magiclink::ctl::testing::ReadFile;
using ::magiclink::ctl::testing::RunCtl;
using ::magiclink::ctl::testing::WriteFile;
using ::magiclink::testing::Email;
using ::magiclink::testing::MagiclinkdPath;
using ::magiclink::testing::ServerProcess;
using ::magiclink::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

// "email,name" plus `count` rows user<i>@example.com,"User <i>, Jr.".
std::string RecipientsCsv(size_t count) {
  std::string csv = "email,name\n";
  for (size_t i = 0; i < count; ++i) absl::StrAppend(&csv, Email(i), ",\"User ", i, ", Jr.\"\n");
  return csv;
}

std::string TokenOf(const std::string& url) { return url.substr(url.find("token=") + 6); }

class CtlE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_dir_ = new TempDir();
    server_ = new ServerProcess(MagiclinkdPath(), {"--data_dir=" + server_dir_->path()},
                                server_dir_->File("server.log"));
    ASSERT_TRUE(server_->Start().ok());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete server_dir_;
  }

  // Runs magiclinkctl with --server pointing at the test server (unless
  // `server` says otherwise), `stdin_text` on stdin.
  CtlRun Ctl(std::vector<std::string> args, const std::string& stdin_text = "",
             const std::string& server = "") {
    args.insert(args.begin(), "--server=" + (server.empty() ? server_->address() : server));
    return RunCtl(dir_, std::move(args), stdin_text);
  }

  client::Client Library() {
    client::ConnectionOptions options;
    options.target = server_->address();
    return client::Client(*client::MakeConnection(options));
  }

  std::vector<CsvRow> CsvRows(const std::string& text) {
    absl::StatusOr<std::vector<CsvRow>> rows = ParseCsv(text);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<CsvRow>{};
  }

  // Issues one link with the library and returns its token.
  std::string IssueOne(const std::string& email) {
    v1::IssueBatchRequest request;
    request.set_purpose("invite");
    request.set_redirect_url("http://localhost:3000/welcome");
    request.add_recipients()->set_email(email);
    absl::StatusOr<client::IssueBatchResult> issued = Library().IssueBatch(request);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->links.at(0).token : "";
  }

  std::vector<std::string> IssueArgs() {
    return {"issue", "--purpose=invite", "--redirect_url=http://localhost:3000/welcome"};
  }

  TempDir dir_;
  static TempDir* server_dir_;
  static ServerProcess* server_;
};

TempDir* CtlE2eTest::server_dir_ = nullptr;
ServerProcess* CtlE2eTest::server_ = nullptr;

TEST_F(CtlE2eTest, CsvInCsvOutInInputOrderWithMetadataAndWorkingLinks) {
  WriteFile(dir_.File("in.csv"), RecipientsCsv(250));
  std::vector<std::string> args = IssueArgs();
  args.insert(args.end(), {"--input=" + dir_.File("in.csv"), "--chunk_size=100",
                           "--output=" + dir_.File("links.csv")});
  const CtlRun run = Ctl(args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("issued 250 link(s) in 3 batch(es)"));

  const std::vector<CsvRow> rows = CsvRows(ReadFile(dir_.File("links.csv")));
  ASSERT_THAT(rows, SizeIs(251));
  EXPECT_THAT(rows[0].fields,
              ElementsAre("email", "url", "token", "expires_at", "batch_id", "name"));
  for (size_t i = 0; i < 250; ++i) {
    ASSERT_EQ(rows[i + 1].fields[0], Email(i));
    ASSERT_EQ(rows[i + 1].fields[5], absl::StrCat("User ", i, ", Jr."));
    ASSERT_EQ(TokenOf(rows[i + 1].fields[1]), rows[i + 1].fields[2]);
  }
  struct stat info;
  ASSERT_EQ(stat(dir_.File("links.csv").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("links.csv.partial")));

  absl::StatusOr<v1::VerifyResponse> claims = Library().Consume(rows[250].fields[2], "invite");
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->email(), Email(249));
  EXPECT_EQ(claims->metadata().at("name"), "User 249, Jr.");
}

TEST_F(CtlE2eTest, RoundRobinOverAnAddressListWorksAndAnUnknownPolicyIsRefused) {
  WriteFile(dir_.File("in.csv"), RecipientsCsv(3));
  std::vector<std::string> args = IssueArgs();
  args.insert(args.end(), {"--input=" + dir_.File("in.csv"), "--output=" + dir_.File("rr.csv"),
                           "--load_balancing=round_robin"});
  const CtlRun run = Ctl(args, "", "ipv4:" + server_->address() + "," + server_->address());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(CsvRows(ReadFile(dir_.File("rr.csv"))), SizeIs(4));

  args.back() = "--load_balancing=random";
  const CtlRun refused = Ctl(args);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;  // a usage error
  EXPECT_THAT(refused.err, HasSubstr("load_balancing_policy"));
}

TEST_F(CtlE2eTest, JsonLinesOnStdinToJsonLinesOnStdout) {
  std::vector<std::string> args = IssueArgs();
  args.push_back("--format=jsonl");
  args.push_back("--metadata=campaign=spring");
  const CtlRun run = Ctl(args,
                         "{\"email\": \"ann@example.com\", \"name\": \"Ann\"}\n"
                         "{\"email\": \"bob@example.com\", \"metadata\": {\"team\": \"red\"}}\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> lines = absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(2));
  google::protobuf::Struct bob;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[1], &bob).ok());
  EXPECT_EQ(bob.fields().at("email").string_value(), "bob@example.com");
  EXPECT_EQ(bob.fields().at("metadata").struct_value().fields().at("team").string_value(), "red");
  absl::StatusOr<v1::VerifyResponse> claims =
      Library().Peek(bob.fields().at("token").string_value());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->metadata().at("campaign"), "spring");
  EXPECT_EQ(claims->metadata().at("team"), "red");
}

TEST_F(CtlE2eTest, ResendPayloadFilesHoldAtMostOneHundredWorkingLinksEach) {
  WriteFile(dir_.File("in.csv"), RecipientsCsv(250));
  WriteFile(dir_.File("invite.html"), "<p>Hi {{name}}, <a href=\"{{link}}\">join</a></p>");
  WriteFile(dir_.File("invite.txt"), "Hi {{name}}, join: {{link}}");
  std::vector<std::string> args = IssueArgs();
  args.insert(
      args.end(),
      {"--input=" + dir_.File("in.csv"), "--format=resend", "--out_dir=" + dir_.File("payloads"),
       "--from=Acme <hello@acme.dev>", "--subject=Your invite, {{name}}",
       "--template=" + dir_.File("invite.html"), "--text_template=" + dir_.File("invite.txt")});
  const CtlRun run = Ctl(args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "");

  size_t next = 0;
  client::Client library = Library();
  for (const char* name : {"out-0001.json", "out-0002.json", "out-0003.json"}) {
    google::protobuf::ListValue messages;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ReadFile(dir_.File("payloads/") + name),
                                                            &messages)
                    .ok())
        << name;
    EXPECT_LE(messages.values_size(), 100) << name;
    for (const google::protobuf::Value& value : messages.values()) {
      const auto& m = value.struct_value().fields();
      EXPECT_EQ(m.at("from").string_value(), "Acme <hello@acme.dev>");
      ASSERT_EQ(m.at("to").list_value().values(0).string_value(), Email(next));
      EXPECT_EQ(m.at("subject").string_value(), absl::StrCat("Your invite, User ", next, ", Jr."));
      EXPECT_THAT(m.at("html").string_value(), StartsWith("<p>Hi User "));
      const std::string text = m.at("text").string_value();
      const std::string url = text.substr(text.find("http://"));
      EXPECT_THAT(m.at("html").string_value(), HasSubstr(url));
      absl::StatusOr<v1::VerifyResponse> claims = library.Consume(TokenOf(url), "invite");
      ASSERT_TRUE(claims.ok()) << name << ": " << claims.status();
      ASSERT_EQ(claims->email(), Email(next));
      ++next;
    }
  }
  EXPECT_EQ(next, 250u);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("payloads/out-0004.json")));
}

TEST_F(CtlE2eTest, UnknownTemplatePlaceholderFailsBeforeAnythingIsIssued) {
  WriteFile(dir_.File("in.csv"), RecipientsCsv(3));
  WriteFile(dir_.File("bad.html"), "Hi {{nmae}}: {{link}}");
  WriteFile(dir_.File("good.html"), "Hi {{name}}: {{link}}");
  std::vector<std::string> args = IssueArgs();
  args.insert(args.end(),
              {"--input=" + dir_.File("in.csv"), "--format=resend", "--request_id=ctl-template",
               "--progress", "--from=a@acme.dev", "--subject=Hi"});
  std::vector<std::string> bad = args;
  bad.push_back("--template=" + dir_.File("bad.html"));
  bad.push_back("--out_dir=" + dir_.File("bad"));
  const CtlRun failed = Ctl(bad);
  EXPECT_EQ(failed.exit_code, 2);
  EXPECT_THAT(failed.err, HasSubstr("{{nmae}}"));

  // Had the failed run issued anything, this run would be a replay.
  std::vector<std::string> good = args;
  good.push_back("--template=" + dir_.File("good.html"));
  good.push_back("--out_dir=" + dir_.File("good"));
  const CtlRun first = Ctl(good);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.err, Not(HasSubstr("replayed")));
}

TEST_F(CtlE2eTest, SameRequestIdGivesTheSameLinksAgain) {
  WriteFile(dir_.File("in.csv"), RecipientsCsv(30));
  std::vector<std::string> args = IssueArgs();
  args.insert(args.end(), {"--input=" + dir_.File("in.csv"), "--request_id=ctl-resume",
                           "--chunk_size=10", "--progress"});
  const CtlRun first = Ctl(args);
  const CtlRun second = Ctl(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(first.out, second.out);
  EXPECT_THAT(second.err, HasSubstr("issued 30/30 recipients (chunk 3 of 3, replayed)"));
}

TEST_F(CtlE2eTest, ForcedProgressPrintsOneLinePerChunkWhenStderrIsNotATerminal) {
  std::vector<std::string> args = IssueArgs();
  args.insert(args.end(), {"--chunk_size=100", "--progress"});
  const CtlRun run = Ctl(args, RecipientsCsv(250));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("issued 100/250 recipients (chunk 1 of 3)\n"));
  EXPECT_THAT(run.err, HasSubstr("issued 200/250 recipients (chunk 2 of 3)\n"));
  EXPECT_THAT(run.err, HasSubstr("issued 250/250 recipients (chunk 3 of 3)\n"));

  args.pop_back();
  const CtlRun quiet = Ctl(args, RecipientsCsv(250));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_THAT(quiet.err, Not(HasSubstr("recipients (chunk")));
}

TEST_F(CtlE2eTest, VerifyingAUsedTokenExitsThreeWithTheReasonAndNeverPrintsTheToken) {
  const std::string token = IssueOne("carol@example.com");
  const CtlRun first = Ctl({"verify", "--token=-", "--purpose=invite"}, token + "\n");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("\"email\":\"carol@example.com\""));
  EXPECT_THAT(first.out, HasSubstr("\"consumed_at\""));

  const CtlRun again = Ctl({"verify", "--token=-"}, token + "\n");
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_THAT(again.err, HasSubstr("TOKEN_ALREADY_USED"));
  for (const CtlRun* run : {&first, &again}) {
    EXPECT_THAT(run->out, Not(HasSubstr(token)));
    EXPECT_THAT(run->err, Not(HasSubstr(token)));
  }
}

TEST_F(CtlE2eTest, PeekRevokeBatchAndLinks) {
  const std::string token = IssueOne("dave@example.com");
  const CtlRun peek = Ctl({"peek", "--token=" + token});
  ASSERT_EQ(peek.exit_code, 0) << peek.err;
  google::protobuf::Struct claims;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(peek.out, &claims).ok()) << peek.out;
  const std::string batch_id = claims.fields().at("batch_id").string_value();
  EXPECT_EQ(claims.fields().count("consumed_at"), 0u);

  const CtlRun revoke = Ctl({"revoke", "--token=-"}, token);
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(revoke.out, "{\"revoked_count\":1}\n");
  const CtlRun revoke_again = Ctl({"revoke", "--batch=" + batch_id});
  EXPECT_EQ(revoke_again.out, "{\"revoked_count\":0}\n");

  const CtlRun peek_revoked = Ctl({"peek", "--token=" + token});
  EXPECT_EQ(peek_revoked.exit_code, 3);
  EXPECT_THAT(peek_revoked.err, HasSubstr("TOKEN_REVOKED"));

  const CtlRun batch = Ctl({"batch", "--batch", batch_id});
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_THAT(batch.out, HasSubstr("\"total\":1,\"outstanding\":0,\"consumed\":0,\"revoked\":1"));

  const CtlRun links = Ctl({"links", "--batch=" + batch_id, "--format=csv"});
  ASSERT_EQ(links.exit_code, 0) << links.err;
  const std::vector<CsvRow> rows = CsvRows(links.out);
  ASSERT_THAT(rows, SizeIs(2));
  EXPECT_EQ(rows[1].fields[1], "dave@example.com");
  EXPECT_EQ(rows[1].fields[2], "revoked");
  EXPECT_THAT(links.out, Not(HasSubstr(token)));

  const CtlRun missing = Ctl({"batch", "--batch=b_nope"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_THAT(missing.err, HasSubstr("BATCH_NOT_FOUND"));
}

TEST_F(CtlE2eTest, LinksWalksEveryPage) {
  std::vector<std::string> args = IssueArgs();
  const CtlRun issued = Ctl(args, RecipientsCsv(25));
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  const std::string batch_id = CsvRows(issued.out).at(1).fields.at(4);
  const CtlRun links = Ctl({"links", "--batch=" + batch_id, "--page_size=10"});
  ASSERT_EQ(links.exit_code, 0) << links.err;
  const std::vector<std::string> lines = absl::StrSplit(links.out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(25));
  EXPECT_THAT(lines[24], HasSubstr(Email(24)));
  EXPECT_THAT(lines[24], HasSubstr("\"index\":24"));
}

TEST_F(CtlE2eTest, UnreachableServerExitsFour) {
  const CtlRun batch = Ctl({"--max_attempts=2", "batch", "--batch=b_1"}, "", "127.0.0.1:1");
  EXPECT_EQ(batch.exit_code, 4);
  EXPECT_THAT(batch.err, HasSubstr("UNAVAILABLE"));

  // A failed run leaves an earlier output file as it was.
  WriteFile(dir_.File("links.csv"), "earlier links\n");
  std::vector<std::string> args = IssueArgs();
  args.push_back("--output=" + dir_.File("links.csv"));
  const CtlRun issue = Ctl(args, RecipientsCsv(2), "127.0.0.1:1");
  EXPECT_EQ(issue.exit_code, 4);
  // It failed while validating, before anything could be issued.
  EXPECT_THAT(issue.err, HasSubstr("nothing was issued"));
  EXPECT_EQ(ReadFile(dir_.File("links.csv")), "earlier links\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("links.csv.partial")));
}

TEST_F(CtlE2eTest, UsageErrorsExitOne) {
  EXPECT_EQ(Ctl({}).exit_code, 1);
  EXPECT_EQ(Ctl({"frobnicate"}).exit_code, 1);
  EXPECT_EQ(Ctl({"batch", "--bacth=b_1"}).exit_code, 1);
  EXPECT_EQ(Ctl({"issue", "--redirect_url=http://localhost/"}).exit_code, 1);
  std::vector<std::string> resend = IssueArgs();
  resend.push_back("--format=resend");
  EXPECT_EQ(Ctl(resend).exit_code, 1);
  EXPECT_EQ(Ctl({"revoke", "--token=t", "--batch=b"}).exit_code, 1);
  EXPECT_EQ(Ctl({"--timeout=soon", "batch", "--batch=b"}).exit_code, 1);
}

TEST_F(CtlE2eTest, HelpIsAvailableForEveryCommand) {
  const CtlRun overview = Ctl({"--help"});
  EXPECT_EQ(overview.exit_code, 0);
  EXPECT_THAT(overview.out, HasSubstr("Exit codes:"));
  for (const char* command : {"issue", "verify", "peek", "revoke", "batch", "links"}) {
    const CtlRun help = Ctl({command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.out, HasSubstr(absl::StrCat("Usage: magiclinkctl ", command))) << command;
    EXPECT_EQ(Ctl({"help", command}).out, help.out) << command;
  }
}

TEST_F(CtlE2eTest, InvalidInputExitsTwoAndPointsAtTheInputLine) {
  EXPECT_EQ(Ctl(IssueArgs(), "name\nAnn\n").exit_code, 2);

  const CtlRun refused = Ctl(IssueArgs(), "email\nann@example.com\nnot-an-email\n");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("INVALID_REQUEST"));
  EXPECT_THAT(refused.err, HasSubstr("invalid line 3 (not-an-email): "));
  EXPECT_THAT(refused.err, HasSubstr("nothing was issued"));

  // A request-level problem (here the redirect rules) is reported as the
  // server words it, before anything is issued.
  std::vector<std::string> bad_url = IssueArgs();
  bad_url[2] = "--redirect_url=http://localhost:3000/auth/%2E%2e/admin";
  const CtlRun refused_url = Ctl(bad_url, "email\nann@example.com\n");
  EXPECT_EQ(refused_url.exit_code, 2);
  EXPECT_THAT(refused_url.err, HasSubstr("redirect_url: path holds a '.' or '..' segment"));

  std::vector<std::string> skip = IssueArgs();
  skip.push_back("--skip_invalid");
  const CtlRun skipped = Ctl(skip, "email\nerin@example.com\nnot-an-email\n");
  EXPECT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_THAT(skipped.err, HasSubstr("rejected line 3 (not-an-email)"));
  EXPECT_THAT(CsvRows(skipped.out), SizeIs(2));
}

// Records the authorization header of each call, to see what magiclinkctl
// sends without a server that checks keys.
class KeyRecordingService final : public v1::MagicLinkService::Service {
 public:
  grpc::Status GetBatch(grpc::ServerContext* context, const v1::GetBatchRequest* request,
                        v1::GetBatchResponse* response) override {
    auto it = context->client_metadata().find("authorization");
    absl::MutexLock lock(&mu_);
    authorization_ = it == context->client_metadata().end()
                         ? "(none)"
                         : std::string(it->second.data(), it->second.size());
    response->set_batch_id(request->batch_id());
    return grpc::Status::OK;
  }
  std::string authorization() {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }

 private:
  absl::Mutex mu_;
  std::string authorization_ ABSL_GUARDED_BY(mu_);
};

class CtlCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  CtlRun Batch(std::vector<std::string> flags,
               const std::vector<std::pair<std::string, std::string>>& env) {
    flags.insert(flags.begin(), "--server=127.0.0.1:" + std::to_string(port_));
    flags.insert(flags.end(), {"batch", "--batch=b_1"});
    return RunCtl(dir_, std::move(flags), "", env);
  }

  TempDir dir_;
  KeyRecordingService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(CtlCredentialsTest, ApiKeyComesFromTheEnvironmentAFileOrTheFlagAndIsNeverPrinted) {
  const CtlRun from_env = Batch({}, {{"MAGICLINK_API_KEY", "env-key-1234"}});
  ASSERT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_EQ(service_.authorization(), "Bearer env-key-1234");

  WriteFile(dir_.File("key"), "file-key-5678\n");
  const CtlRun from_file =
      Batch({"--api_key_file=" + dir_.File("key")}, {{"MAGICLINK_API_KEY", "env-key-1234"}});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(service_.authorization(), "Bearer file-key-5678");

  const CtlRun from_flag = Batch({"--api_key=flag-key-9012"}, {});
  ASSERT_EQ(from_flag.exit_code, 0) << from_flag.err;
  EXPECT_EQ(service_.authorization(), "Bearer flag-key-9012");

  const CtlRun none = Batch({}, {});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(service_.authorization(), "(none)");

  const CtlRun bad = Batch({"--api_key=bad key-3456"}, {});
  EXPECT_EQ(bad.exit_code, 1);
  for (const CtlRun* run : {&from_env, &from_file, &from_flag, &bad}) {
    EXPECT_THAT(run->out + run->err, Not(HasSubstr("key-")));
  }
}

}  // namespace
}  // namespace magiclink::ctl
