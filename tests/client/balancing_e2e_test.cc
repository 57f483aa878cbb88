// Balancing over replicas, both standard ways: the C++ client's own
// round_robin over every replica's address, and an L7 proxy in front (nginx
// from Debian with grpc_pass, the sample config of docs/scaling.md). In both,
// calls are spread over the replicas, and when one replica is killed mid-run
// the calls that are safe to retry still succeed on the other.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

// Two replicas of one SQLite file and one key file: each verifies the other's
// links, as replicas of one PostgreSQL database do.
struct Replicas {
  explicit Replicas(const TempDir& dir)
      : a(MagiclinkdPath(), {"--data_dir=" + dir.File("data")}, dir.File("a.log")),
        b(MagiclinkdPath(), {"--data_dir=" + dir.File("data")}, dir.File("b.log")) {}
  ServerProcess a;
  ServerProcess b;
};

Client Connect(ConnectionOptions options) {
  options.timeout = absl::Seconds(10);
  options.retry.max_attempts = 5;
  options.retry.initial_backoff = absl::Milliseconds(20);
  options.retry.max_backoff = absl::Milliseconds(200);
  absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return Client(*connection);
}

// 20 single-link IssueBatch calls, which must be spread over both replicas;
// then replica a is SIGKILLed, and 20 more calls and a Verify (`mode`) of
// every link must still succeed.
void SpreadThenKillOne(Client& client, Replicas& replicas, const TempDir& dir,
                       v1::VerifyMode mode) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<IssueBatchResult> issued = client.IssueBatch(OneLink(i));
    ASSERT_TRUE(issued.ok()) << issued.status();
    tokens.push_back(issued->links.at(0).token);
  }
  const int on_a = IssueEventsIn(dir.File("a.log"));
  const int on_b = IssueEventsIn(dir.File("b.log"));
  EXPECT_EQ(on_a + on_b, 20);
  EXPECT_GE(on_a, 5);  // one connection to one replica would send all 20 there
  EXPECT_GE(on_b, 5);

  replicas.a.Stop(SIGKILL);
  for (int i = 20; i < 40; ++i) {
    absl::StatusOr<IssueBatchResult> issued = client.IssueBatch(OneLink(i));
    ASSERT_TRUE(issued.ok()) << "call " << i << " after the kill: " << issued.status();
    tokens.push_back(issued->links.at(0).token);
  }
  for (const std::string& token : tokens) {
    v1::VerifyRequest verify;
    verify.set_token(token);
    verify.set_mode(mode);
    absl::StatusOr<v1::VerifyResponse> verified = client.Verify(verify);
    EXPECT_TRUE(verified.ok()) << verified.status();
  }
}

TEST(BalancingE2eTest, RoundRobinSpreadsCallsAndSurvivesAReplicaKilledMidRun) {
  TempDir dir;
  Replicas replicas(dir);
  ASSERT_TRUE(replicas.a.Start().ok());
  ASSERT_TRUE(replicas.b.Start().ok());
  ConnectionOptions options;
  options.target = absl::StrCat("ipv4:", replicas.a.address(), ",", replicas.b.address());
  options.load_balancing_policy = "round_robin";
  Client client = Connect(options);
  // PEEK retries UNAVAILABLE, so a call still aimed at the dead replica moves
  // on to the live one.
  SpreadThenKillOne(client, replicas, dir, v1::PEEK);
}

class Nginx {
 public:
  Nginx(const TempDir& dir, const std::vector<std::string>& replicas)
      : port_(::magiclink::testing::UnusedLoopbackPort()) {
    const std::string conf = dir.File("nginx.conf");
    std::ofstream out(conf);
    out << "daemon off;\nuser root;\nworker_processes 1;\npid " << dir.File("nginx.pid") << ";\n"
        << "error_log " << dir.File("nginx-error.log") << ";\n"
        << "events { worker_connections 64; }\n"
        << "http {\n  access_log off;\n"
        << "  client_body_temp_path " << dir.File("nginx-body") << ";\n"
        << "  upstream magiclink {\n";
    for (const std::string& r : replicas)
      out << "    server " << r << " max_fails=1 fail_timeout=10s;\n";
    out << "    keepalive 16;\n  }\n"
        << "  server {\n    listen 127.0.0.1:" << port_ << " http2;\n"
        << "    location / {\n      grpc_pass grpc://magiclink;\n"
        << "      grpc_next_upstream error timeout;\n    }\n  }\n}\n";
    out.close();
    pid_ = fork();
    if (pid_ == 0) {
      execl("/usr/sbin/nginx", "nginx", "-c", conf.c_str(), "-p", dir.path().c_str(), nullptr);
      _exit(127);
    }
    error_log_ = dir.File("nginx-error.log");
  }

  // Waits (bounded) until nginx accepts connections on its port.
  bool WaitUntilListening() const {
    for (int i = 0; i < 200; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(port_);
      const bool up = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      close(fd);
      if (up) return true;
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return false;  // nginx exited
      usleep(25'000);
    }
    return false;
  }
  std::string ErrorLog() const {
    std::ifstream in(error_log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  ~Nginx() {
    if (pid_ > 0) {
      kill(pid_, SIGQUIT);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int port_;
  pid_t pid_ = -1;
  std::string error_log_;
};

TEST(BalancingE2eTest, NginxGrpcPassSpreadsCallsAndSurvivesAReplicaKilledMidRun) {
  TempDir dir;
  Replicas replicas(dir);
  ASSERT_TRUE(replicas.a.Start().ok());
  ASSERT_TRUE(replicas.b.Start().ok());
  Nginx nginx(dir, {replicas.a.address(), replicas.b.address()});
  ASSERT_TRUE(nginx.WaitUntilListening()) << nginx.ErrorLog();
  ConnectionOptions options;
  options.target = nginx.address();
  Client client = Connect(options);
  // nginx itself moves a call whose replica refuses the connection, so even
  // a CONSUME (never retried by the client) reaches the live replica.
  SpreadThenKillOne(client, replicas, dir, v1::CONSUME);
}

TEST(BalancingE2eTest, AnUnknownBalancingPolicyIsRefused) {
  ConnectionOptions options;
  options.load_balancing_policy = "random";
  absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace magiclink::client
