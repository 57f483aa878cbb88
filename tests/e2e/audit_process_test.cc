// Audit events of the real magiclinkd on a real port: a run that uses every
// RPC writes one line per IssueBatch, Verify and Revoke, with the caller, the
// outcome and the batch, position, target and counts; and no line (nor the
// diagnostic log) carries a token, link, API key, consume key, metadata
// value, request_id or, unless the operator turns them on, email address.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "server/core/callers.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kApiKey[] = "mlk_audit_3b9e51c07d2a4f68e1c5b7d9a3f2e6c8";
constexpr char kConsumeKey[] = "consume-key-5d2b8e17";
constexpr char kMetadataValue[] = "meta-value-7f3a90c4";
constexpr char kRequestId[] = "req-audit-9c1e6b2d";
constexpr char kAnn[] = "ann.audit@example.com";
constexpr char kBob[] = "bob.audit@example.com";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The lines of `text` that are audit events, parsed.
std::vector<google::protobuf::Struct> AuditEvents(const std::string& text) {
  std::vector<google::protobuf::Struct> events;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"audit\":true") == std::string::npos) continue;
    google::protobuf::Struct event;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &event).ok()) << line;
    events.push_back(std::move(event));
  }
  return events;
}

std::string Text(const google::protobuf::Struct& event, const std::string& key) {
  auto it = event.fields().find(key);
  return it == event.fields().end() ? "<absent>" : it->second.string_value();
}

double Number(const google::protobuf::Struct& event, const std::string& key) {
  auto it = event.fields().find(key);
  return it == event.fields().end() ? -1 : it->second.number_value();
}

bool Has(const google::protobuf::Struct& event, const std::string& key) {
  return event.fields().count(key) > 0;
}

class AuditProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.File("config.json");
    std::ofstream(config_) << absl::StrCat(
        R"({"callers": [{"name": "auditor", "api_key_sha256": [")", ApiKeySha256Hex(kApiKey),
        R"("], "scopes": ["issue", "verify", "revoke", "read"]}]})");
  }

  ServerProcess MakeServer(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--data_dir=" + dir_.File("data"), "--config=" + config_};
    args.insert(args.end(), extra.begin(), extra.end());
    return ServerProcess(MagiclinkdPath(), args, dir_.File("server.log"));
  }

  static std::unique_ptr<v1::MagicLinkService::Stub> Connect(const ServerProcess& server) {
    return v1::MagicLinkService::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  }

  static void Prepare(grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kApiKey));
  }

  static v1::IssueBatchRequest InviteRequest() {
    v1::IssueBatchRequest req;
    auto* ann = req.add_recipients();
    ann->set_email(kAnn);
    (*ann->mutable_metadata())["name"] = kMetadataValue;
    req.add_recipients()->set_email(kBob);
    (*req.mutable_metadata())["campaign"] = kMetadataValue;
    req.set_purpose("invite");
    req.set_redirect_url("http://localhost/accept");
    req.set_request_id(kRequestId);
    return req;
  }

  static grpc::Status Issue(v1::MagicLinkService::Stub& stub, const v1::IssueBatchRequest& req,
                            v1::IssueBatchResponse* out) {
    grpc::ClientContext ctx;
    Prepare(ctx);
    return stub.IssueBatch(&ctx, req, out);
  }

  static grpc::Status Verify(v1::MagicLinkService::Stub& stub, const std::string& token,
                             v1::VerifyMode mode, const std::string& consume_key = "") {
    v1::VerifyRequest req;
    req.set_token(token);
    req.set_mode(mode);
    req.set_consume_key(consume_key);
    v1::VerifyResponse resp;
    grpc::ClientContext ctx;
    Prepare(ctx);
    return stub.Verify(&ctx, req, &resp);
  }

  static grpc::Status Revoke(v1::MagicLinkService::Stub& stub, v1::RevokeRequest req) {
    v1::RevokeResponse resp;
    grpc::ClientContext ctx;
    Prepare(ctx);
    return stub.Revoke(&ctx, req, &resp);
  }

  TempDir dir_;
  std::string config_;
};

TEST_F(AuditProcessTest, EveryRpcRunWritesTheExpectedEventsAndNoSecret) {
  const std::string audit_path = dir_.File("audit.jsonl");
  ServerProcess server = MakeServer({"--audit_log=" + audit_path});
  ASSERT_OK(server.Start());
  auto stub = Connect(server);

  v1::IssueBatchResponse issued, replayed;
  ASSERT_TRUE(Issue(*stub, InviteRequest(), &issued).ok());
  ASSERT_EQ(issued.links_size(), 2);
  ASSERT_TRUE(Issue(*stub, InviteRequest(), &replayed).ok());
  ASSERT_TRUE(replayed.replayed());
  const std::string& ann_token = issued.links(0).token();
  const std::string& bob_token = issued.links(1).token();
  const std::string unknown_token(43, 'A');
  ASSERT_TRUE(Verify(*stub, ann_token, v1::PEEK).ok());
  ASSERT_TRUE(Verify(*stub, ann_token, v1::CONSUME, kConsumeKey).ok());
  ASSERT_EQ(Verify(*stub, ann_token, v1::CONSUME).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(Verify(*stub, unknown_token, v1::CONSUME).error_code(), grpc::StatusCode::NOT_FOUND);
  {
    v1::GetBatchRequest req;
    req.set_batch_id(issued.batch_id());
    v1::GetBatchResponse resp;
    grpc::ClientContext ctx;
    Prepare(ctx);
    ASSERT_TRUE(stub->GetBatch(&ctx, req, &resp).ok());
  }
  {
    v1::ListLinksRequest req;
    req.set_batch_id(issued.batch_id());
    v1::ListLinksResponse resp;
    grpc::ClientContext ctx;
    Prepare(ctx);
    ASSERT_TRUE(stub->ListLinks(&ctx, req, &resp).ok());
  }
  v1::RevokeRequest by_token, by_email, by_batch;
  by_token.set_token(bob_token);
  by_email.set_email(kAnn);
  by_email.set_purpose("invite");
  by_batch.set_batch_id(issued.batch_id());
  ASSERT_TRUE(Revoke(*stub, by_token).ok());
  ASSERT_TRUE(Revoke(*stub, by_email).ok());
  ASSERT_TRUE(Revoke(*stub, by_batch).ok());
  v1::IssueBatchRequest invalid = InviteRequest();
  invalid.mutable_recipients(1)->set_email("not-an-email");
  invalid.clear_request_id();
  v1::IssueBatchResponse unused;
  ASSERT_EQ(Issue(*stub, invalid, &unused).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(server.Stop(SIGTERM), 0);

  const std::string audit = ReadFile(audit_path);
  const std::string log = ReadFile(dir_.File("server.log"));
  for (const std::string& secret :
       {ann_token, bob_token, unknown_token, issued.links(0).url(), issued.links(1).url(),
        std::string(kApiKey), std::string(kConsumeKey), std::string(kMetadataValue),
        std::string(kRequestId), std::string(kAnn), std::string(kBob),
        std::string("not-an-email")}) {
    EXPECT_THAT(audit, Not(HasSubstr(secret)));
    EXPECT_THAT(log, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(log, Not(HasSubstr("\"audit\":true")));  // the events went to the file only
  struct stat info;
  ASSERT_EQ(stat(audit_path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);

  const std::vector<google::protobuf::Struct> events = AuditEvents(audit);
  ASSERT_EQ(events.size(), 10u) << audit;  // GetBatch and ListLinks are reads: no event
  for (const auto& e : events) {
    EXPECT_EQ(Text(e, "caller"), "auditor");
    EXPECT_TRUE(Has(e, "time"));
    EXPECT_FALSE(Has(e, "email") || Has(e, "emails"));
  }
  const std::string& batch = issued.batch_id();
  // The issue and its request_id replay.
  for (int i : {0, 1}) {
    EXPECT_EQ(Text(events[i], "event"), "IssueBatch");
    EXPECT_EQ(Text(events[i], "code"), "OK");
    EXPECT_EQ(Text(events[i], "purpose"), "invite");
    EXPECT_EQ(Text(events[i], "batch_id"), batch);
    EXPECT_EQ(Number(events[i], "count"), 2);
    EXPECT_TRUE(events[i].fields().at("request_id").bool_value());
    EXPECT_EQ(events[i].fields().at("replayed").bool_value(), i == 1);
  }
  // PEEK, CONSUME, the second CONSUME, an unknown token.
  const std::vector<std::tuple<std::string, std::string, std::string>> verifies = {
      {"PEEK", "OK", "<absent>"},
      {"CONSUME", "OK", "<absent>"},
      {"CONSUME", "FAILED_PRECONDITION", "TOKEN_ALREADY_USED"},
      {"CONSUME", "NOT_FOUND", "TOKEN_NOT_FOUND"}};
  for (size_t i = 0; i < verifies.size(); ++i) {
    const auto& e = events[2 + i];
    const auto& [mode, code, reason] = verifies[i];
    EXPECT_EQ(Text(e, "event"), "Verify");
    EXPECT_EQ(Text(e, "mode"), mode);
    EXPECT_EQ(Text(e, "code"), code);
    EXPECT_EQ(Text(e, "reason"), reason);
    EXPECT_EQ(Text(e, "batch_id"), i < 3 ? batch : "<absent>");
    EXPECT_EQ(Number(e, "position"), i < 3 ? 0 : -1);
  }
  // Revoke by token, by email (nothing outstanding left), by batch.
  const std::vector<std::pair<std::string, double>> revokes = {
      {"token", 1}, {"email", 0}, {"batch", 0}};
  for (size_t i = 0; i < revokes.size(); ++i) {
    const auto& e = events[6 + i];
    EXPECT_EQ(Text(e, "event"), "Revoke");
    EXPECT_EQ(Text(e, "code"), "OK");
    EXPECT_EQ(Text(e, "target"), revokes[i].first);
    EXPECT_EQ(Number(e, "count"), revokes[i].second);
  }
  EXPECT_EQ(Text(events[7], "purpose"), "invite");
  EXPECT_EQ(Text(events[8], "batch_id"), batch);
  // The refused batch: no batch, nothing issued.
  EXPECT_EQ(Text(events[9], "event"), "IssueBatch");
  EXPECT_EQ(Text(events[9], "code"), "INVALID_ARGUMENT");
  EXPECT_EQ(Text(events[9], "reason"), "INVALID_REQUEST");
  EXPECT_FALSE(Has(events[9], "batch_id"));
  EXPECT_EQ(Number(events[9], "count"), 0);
}

TEST_F(AuditProcessTest, ByDefaultEventsGoToStderrAndEmailsOnlyWhenTurnedOn) {
  ServerProcess server = MakeServer({"--audit_include_email"});
  ASSERT_OK(server.Start());
  auto stub = Connect(server);
  v1::IssueBatchResponse issued;
  ASSERT_TRUE(Issue(*stub, InviteRequest(), &issued).ok());
  ASSERT_TRUE(Verify(*stub, issued.links(1).token(), v1::CONSUME).ok());
  ASSERT_EQ(server.Stop(SIGTERM), 0);

  const std::string log = ReadFile(dir_.File("server.log"));
  const std::vector<google::protobuf::Struct> events = AuditEvents(log);
  ASSERT_EQ(events.size(), 2u) << log;
  const auto& emails = events[0].fields().at("emails").list_value().values();
  ASSERT_EQ(emails.size(), 2);
  EXPECT_EQ(emails[0].string_value(), kAnn);
  EXPECT_EQ(emails[1].string_value(), kBob);
  EXPECT_EQ(Text(events[1], "email"), kBob);
  EXPECT_EQ(Number(events[1], "position"), 1);
  for (const std::string& secret : {issued.links(0).token(), issued.links(1).token(),
                                    std::string(kApiKey), std::string(kMetadataValue)}) {
    EXPECT_THAT(log, Not(HasSubstr(secret)));
  }
}

TEST_F(AuditProcessTest, AnUnwritableAuditLogStopsStartUp) {
  ServerProcess server = MakeServer({"--audit_log=" + dir_.File("no/such/folder/audit.jsonl")});
  EXPECT_FALSE(server.Start(absl::Seconds(5)).ok());
  EXPECT_THAT(ReadFile(dir_.File("server.log")), HasSubstr("audit_log: cannot open"));
}

}  // namespace
}  // namespace magiclink::testing
