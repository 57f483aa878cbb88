// magiclinkd's metrics endpoint end to end: the real binary with
// --metrics_listen, scraped by a real Prometheus (Debian's prometheus
// package) whose query API must report the calls the test made; the text
// passes promtool's format check; and no label carries what a caller sent.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "tests/testing/grpc_errors.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kPromtool[] = "/usr/bin/promtool";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A plain HTTP/1.0 GET on loopback; the whole response (status line,
// headers, body), or "" when nothing answers.
std::string HttpGet(int port, const std::string& target) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request =
        absl::StrCat("GET ", target, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[8192];
      for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
    }
  }
  close(fd);
  return response;
}

std::string Body(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// The metrics port magiclinkd logged ("metrics_listening").
int MetricsPort(const std::string& log) {
  std::smatch m;
  static const std::regex kLine(R"re("event":"metrics_listening".*"port":"(\d+)")re");
  int port = 0;
  if (std::regex_search(log, m, kLine)) (void)absl::SimpleAtoi(m[1].str(), &port);
  return port;
}

// Encodes a PromQL query for a URL.
std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '_' || c == '.' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// Runs a child process with stdout and stderr to `log`.
pid_t Spawn(std::vector<std::string> args, const std::string& log, int stdin_fd = -1) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* out = fopen(log.c_str(), "a");
    if (out != nullptr) {
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
    }
    if (stdin_fd >= 0) dup2(stdin_fd, STDIN_FILENO);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Runs promtool with `args`; its exit status as waitpid() reports it.
int RunPromtool(std::vector<std::string> args, const std::string& log, int stdin_fd = -1) {
  args.insert(args.begin(), kPromtool);
  const pid_t pid = Spawn(std::move(args), log, stdin_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

class MetricsE2eTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--data_dir=" + dir_.File("data"),
                                     "--metrics_listen=127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(MagiclinkdPath(), args, dir_.File("server.log"));
    ASSERT_OK(server_->Start());
    metrics_port_ = MetricsPort(ReadAll(dir_.File("server.log")));
    ASSERT_GT(metrics_port_, 0) << ReadAll(dir_.File("server.log"));
    stub_ = v1::MagicLinkService::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  // Issues a batch of two recipients with distinctive emails and metadata.
  v1::IssueBatchResponse Issue(int n) {
    v1::IssueBatchRequest req;
    for (const char* who : {"zelda", "quentin"}) {
      v1::Recipient* r = req.add_recipients();
      r->set_email(absl::StrCat(who, n, "@metrics-secret.example"));
      (*r->mutable_metadata())["nickname"] = absl::StrCat("meta-secret-", who, n);
    }
    req.set_purpose("invite");
    req.set_redirect_url("http://localhost/accept");
    req.set_request_id(absl::StrCat("request-secret-", n));
    v1::IssueBatchResponse resp;
    grpc::ClientContext ctx;
    const grpc::Status status = stub_->IssueBatch(&ctx, req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp;
  }

  grpc::Status Consume(const std::string& token) {
    v1::VerifyRequest req;
    req.set_token(token);
    v1::VerifyResponse resp;
    grpc::ClientContext ctx;
    return stub_->Verify(&ctx, req, &resp);
  }

  // 3 IssueBatch OK (6 links), 1 Verify OK, 2 Verify TOKEN_ALREADY_USED.
  std::vector<std::string> MakeKnownCalls() {
    std::vector<std::string> tokens;
    for (int n = 0; n < 3; ++n) {
      const v1::IssueBatchResponse issued = Issue(n);
      for (const v1::IssuedLink& link : issued.links()) tokens.push_back(link.token());
    }
    if (tokens.size() != 6) {
      ADD_FAILURE() << "IssueBatch failed";
      return tokens;
    }
    EXPECT_TRUE(Consume(tokens[0]).ok());
    EXPECT_EQ(Reason(Consume(tokens[0])), "TOKEN_ALREADY_USED");
    EXPECT_EQ(Reason(Consume(tokens[0])), "TOKEN_ALREADY_USED");
    return tokens;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::MagicLinkService::Stub> stub_;
  int metrics_port_ = 0;
};

TEST_F(MetricsE2eTest, ServesTheTextFormatOnGetMetricsOnly) {
  StartServer();
  MakeKnownCalls();
  const std::string response = HttpGet(metrics_port_, "/metrics");
  EXPECT_THAT(response, HasSubstr(" 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  const std::string text = Body(response);
  EXPECT_THAT(text,
              HasSubstr("magiclink_rpc_total{method=\"IssueBatch\",code=\"OK\",reason=\"\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("magiclink_rpc_total{method=\"Verify\",code=\"FAILED_PRECONDITION\","
                              "reason=\"TOKEN_ALREADY_USED\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("magiclink_links_issued_total 6\n"));
  EXPECT_THAT(text, HasSubstr("magiclink_links_consumed_total 1\n"));
  EXPECT_THAT(text, HasSubstr("magiclink_health_serving 1\n"));
  EXPECT_THAT(text, HasSubstr("magiclink_build_info{version=\""));
  EXPECT_THAT(HttpGet(metrics_port_, "/"), HasSubstr(" 404 Not Found\r\n"));

  // promtool (from the prometheus package) parses and lints the exposition.
  { std::ofstream(dir_.File("metrics.txt")) << text; }
  const int in = open(dir_.File("metrics.txt").c_str(), O_RDONLY);
  const int status = RunPromtool({"check", "metrics"}, dir_.File("promtool.log"), in);
  close(in);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << status << ": " << ReadAll(dir_.File("promtool.log"));
}

TEST_F(MetricsE2eTest, NoLabelCarriesAnEmailTokenMetadataOrRequestId) {
  StartServer();
  std::vector<std::string> tokens = MakeKnownCalls();
  {
    // A failing IssueBatch whose BadRequest names the bad address.
    v1::IssueBatchRequest bad;
    bad.add_recipients()->set_email("not-an-address-secret");
    bad.set_purpose("invite");
    bad.set_redirect_url("http://localhost/accept");
    v1::IssueBatchResponse resp;
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->IssueBatch(&ctx, bad, &resp).error_code(), grpc::INVALID_ARGUMENT);
  }
  const std::string text = Body(HttpGet(metrics_port_, "/metrics"));
  ASSERT_THAT(text, HasSubstr("magiclink_rpc_total"));
  EXPECT_THAT(text, Not(HasSubstr("secret")));
  EXPECT_THAT(text, Not(HasSubstr("@")));
  EXPECT_THAT(text, Not(HasSubstr("invite")));  // the purpose is caller data too
  for (const std::string& token : tokens) EXPECT_THAT(text, Not(HasSubstr(token)));
}

TEST_F(MetricsE2eTest, RefusesAPublicMetricsAddressUnlessAllowed) {
  ServerProcess refused(MagiclinkdPath(),
                        {"--data_dir=" + dir_.File("data"), "--metrics_listen=0.0.0.0:0"},
                        dir_.File("refused.log"));
  EXPECT_FALSE(refused.Start().ok());
  EXPECT_THAT(ReadAll(dir_.File("refused.log")), HasSubstr("metrics_listen_refused"));
  EXPECT_THAT(ReadAll(dir_.File("refused.log")), HasSubstr("--metrics_allow_public"));

  StartServer({"--metrics_listen=0.0.0.0:0", "--metrics_allow_public"});
  EXPECT_THAT(HttpGet(metrics_port_, "/metrics"), HasSubstr(" 200 OK\r\n"));
}

TEST(MetricsDocTest, AlertRulesInOperatorsDocPassPromtool) {
  const std::string doc = ReadAll(std::string(MAGICLINK_SOURCE_DIR) + "/docs/operators.md");
  const size_t marker = doc.find("<!-- metrics-alert-rules -->");
  ASSERT_NE(marker, std::string::npos);
  const size_t start = doc.find("```yaml\n", marker);
  ASSERT_NE(start, std::string::npos);
  const size_t end = doc.find("\n```", start + 8);
  ASSERT_NE(end, std::string::npos);
  TempDir dir;
  std::ofstream(dir.File("rules.yml")) << doc.substr(start + 8, end - start - 7);
  const int status = RunPromtool({"check", "rules", dir.File("rules.yml")}, dir.File("log"));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(dir.File("log"));
  EXPECT_THAT(ReadAll(dir.File("log")), HasSubstr("SUCCESS: 2 rules found"));
}

// Prometheus' instant query `query`: the value of its single sample, or ""
// while it has none.
std::string QueryOne(int port, const std::string& query) {
  const std::string body = Body(HttpGet(port, "/api/v1/query?query=" + UrlEncode(query)));
  static const std::regex kValue(R"re("value":\[[0-9.e+]+,"([^"]*)"\])re");
  std::smatch m;
  if (!std::regex_search(body, m, kValue)) return "";
  return m[1].str();
}

TEST_F(MetricsE2eTest, RealPrometheusScrapesTheCallsMade) {
  if (access(kPrometheus, X_OK) != 0) GTEST_SKIP() << "prometheus is not installed";
  StartServer();
  const int web_port = UnusedLoopbackPort();
  std::ofstream(dir_.File("prometheus.yml"))
      << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
      << "scrape_configs:\n  - job_name: magiclink\n    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << metrics_port_ << "']\n";
  const pid_t prometheus = Spawn({kPrometheus, "--config.file=" + dir_.File("prometheus.yml"),
                                  "--storage.tsdb.path=" + dir_.File("tsdb"),
                                  absl::StrCat("--web.listen-address=127.0.0.1:", web_port)},
                                 dir_.File("prometheus.log"));
  ASSERT_GT(prometheus, 0);
  MakeKnownCalls();

  const std::vector<std::pair<std::string, std::string>> expected = {
      {"up{job=\"magiclink\"}", "1"},
      {"magiclink_rpc_total{method=\"IssueBatch\",code=\"OK\"}", "3"},
      {"magiclink_rpc_total{method=\"Verify\",code=\"OK\"}", "1"},
      {"magiclink_rpc_total{method=\"Verify\",reason=\"TOKEN_ALREADY_USED\"}", "2"},
      {"magiclink_rpc_duration_seconds_count{method=\"IssueBatch\",code=\"OK\"}", "3"},
      {"magiclink_links_issued_total", "6"},
      {"magiclink_links_consumed_total", "1"},
      {"magiclink_health_serving", "1"},
  };
  // Bounded poll: Prometheus starts, then scrapes every second.
  std::string last;
  const absl::Time deadline = absl::Now() + absl::Seconds(25);
  bool all = false;
  while (!all && absl::Now() < deadline) {
    all = true;
    for (const auto& [query, value] : expected) {
      const std::string got = QueryOne(web_port, query);
      if (got != value) {
        all = false;
        last = absl::StrCat(query, " = \"", got, "\", want ", value);
        break;
      }
    }
    if (!all) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  kill(prometheus, SIGTERM);
  waitpid(prometheus, nullptr, 0);
  EXPECT_TRUE(all) << last << "\n" << ReadAll(dir_.File("prometheus.log"));
}

}  // namespace
}  // namespace magiclink::testing
