// Client-side balancing over replicas: with load_balancing_policy
// "round_robin" the C++ client spreads calls over every replica it is given,
// and when one replica is killed mid-run the calls that are safe to retry
// still succeed on the other.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "magiclink/client/client.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::client {
namespace {

using ::magiclink::testing::MagiclinkdPath;
using ::magiclink::testing::ServerProcess;
using ::magiclink::testing::TempDir;

// IssueBatch audit events a replica wrote to its log (stderr).
int IssueEventsIn(const std::string& log_path) {
  std::ifstream in(log_path);
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    count += absl::StrContains(line, "\"audit\":true") && absl::StrContains(line, "IssueBatch");
  }
  return count;
}

v1::IssueBatchRequest OneLink(int i) {
  v1::IssueBatchRequest request;
  request.set_purpose("login");
  request.set_redirect_url("http://localhost:3000/welcome");
  request.set_request_id(absl::StrCat("rr-", i));  // makes the call safe to retry
  request.add_recipients()->set_email(absl::StrCat("user", i, "@example.com"));
  return request;
}

TEST(BalancingE2eTest, RoundRobinSpreadsCallsAndSurvivesAReplicaKilledMidRun) {
  TempDir dir;
  // Two replicas of one SQLite file and one key file: each verifies the
  // other's links, as replicas of one PostgreSQL database do.
  ServerProcess a(MagiclinkdPath(), {"--data_dir=" + dir.File("data")}, dir.File("a.log"));
  ServerProcess b(MagiclinkdPath(), {"--data_dir=" + dir.File("data")}, dir.File("b.log"));
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());

  ConnectionOptions options;
  options.target = absl::StrCat("ipv4:", a.address(), ",", b.address());
  options.load_balancing_policy = "round_robin";
  options.timeout = absl::Seconds(10);
  options.retry.max_attempts = 5;
  options.retry.initial_backoff = absl::Milliseconds(20);
  options.retry.max_backoff = absl::Milliseconds(200);
  absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
  ASSERT_TRUE(connection.ok()) << connection.status();
  Client client(*connection);

  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<IssueBatchResult> issued = client.IssueBatch(OneLink(i));
    ASSERT_TRUE(issued.ok()) << issued.status();
    tokens.push_back(issued->links.at(0).token);
  }
  const int on_a = IssueEventsIn(dir.File("a.log"));
  const int on_b = IssueEventsIn(dir.File("b.log"));
  EXPECT_EQ(on_a + on_b, 20);
  EXPECT_GE(on_a, 5);  // round_robin alternates; pick_first would send all 20 to one
  EXPECT_GE(on_b, 5);

  a.Stop(SIGKILL);
  for (int i = 20; i < 40; ++i) {
    absl::StatusOr<IssueBatchResult> issued = client.IssueBatch(OneLink(i));
    ASSERT_TRUE(issued.ok()) << "call " << i << " after the kill: " << issued.status();
    tokens.push_back(issued->links.at(0).token);
  }
  // Every link, from either replica, is valid on the one left (PEEK retries
  // UNAVAILABLE, so a call still aimed at the dead replica moves on).
  for (const std::string& token : tokens) {
    absl::StatusOr<v1::VerifyResponse> peeked = client.Peek(token);
    EXPECT_TRUE(peeked.ok()) << peeked.status();
  }
}

TEST(BalancingE2eTest, AnUnknownBalancingPolicyIsRefused) {
  ConnectionOptions options;
  options.load_balancing_policy = "random";
  absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace magiclink::client
