// magiclink load generator: keeps a fixed number of calls in flight on the
// gRPC callback API and prints one JSON line per scenario with throughput,
// p50/p99 latency and errors by status code.
//
//   load_generator --target=127.0.0.1:50051 --scenario=issue --batch_size=1000 --calls=20
//   load_generator --target=... --scenario=verify --mode=consume --concurrency=16 --calls=20000
//   load_generator --target=... --scenario=mixed --concurrency=16 --seconds=20 --server_pid=PID
//   load_generator --target=A,B,C --scenario=race --tokens=50000 --racers=20 --concurrency=64
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051",
          "server address (race: a comma-separated list; attempts go round-robin over them)");
ABSL_FLAG(std::string, scenario, "issue", "issue | verify | mixed | race");
ABSL_FLAG(int, tokens, 1000, "race: tokens issued, each then consumed by --racers calls");
ABSL_FLAG(int, racers, 20, "race: CONSUME attempts per token, all in flight close together");
ABSL_FLAG(int, deadline_ms, 0, "per-call deadline in milliseconds (0: none)");
ABSL_FLAG(std::string, mode, "consume", "verify: consume | peek");
ABSL_FLAG(int, batch_size, 1000, "issue: recipients per IssueBatch");
ABSL_FLAG(int, calls, 10, "calls to make (issue, verify)");
ABSL_FLAG(int, concurrency, 1, "calls in flight");
ABSL_FLAG(double, seconds, 10, "mixed: how long to run");
ABSL_FLAG(int, mixed_tokens, 20000,
          "mixed: tokens issued up front for its consumes and revokes; the mix's own issues "
          "add theirs, so it uses each token once however long it runs");
ABSL_FLAG(int, server_pid, 0,
          "the server's process: report its CPU time per call (and, for mixed, its resident "
          "memory at start and end)");
ABSL_FLAG(std::string, label, "", "free text added to the JSON line");
ABSL_FLAG(std::string, ready_file, "",
          "issue, verify: created when the measured calls begin (after the verify scenario has "
          "issued its tokens), for a script that starts something beside them");
ABSL_FLAG(std::string, latency_file, "",
          "issue, verify: each call's start (Unix microseconds) and latency (microseconds), one "
          "call per line, so a script can take percentiles over a window");
ABSL_FLAG(std::string, api_key, "", "sent as authorization: Bearer (also $MAGICLINK_API_KEY)");

namespace magiclink::bench {
namespace {

using Clock = std::chrono::steady_clock;
using v1::MagicLinkService;

std::string ApiKey() {
  std::string key = absl::GetFlag(FLAGS_api_key);
  if (key.empty() && std::getenv("MAGICLINK_API_KEY")) key = std::getenv("MAGICLINK_API_KEY");
  return key;
}

void Authorize(grpc::ClientContext& ctx) {
  static const std::string key = ApiKey();
  if (!key.empty()) ctx.AddMetadata("authorization", "Bearer " + key);
  static const int deadline_ms = absl::GetFlag(FLAGS_deadline_ms);
  if (deadline_ms > 0) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  }
}

long ResidentKb(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// CPU time (user + system) of a process, in clock ticks; -1 if it is gone.
// With `children`, also that of its children that have exited and been
// waited for.
int64_t CpuTicks(const std::string& pid, bool children = false) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  try {
    stat.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    return -1;  // it exited while being read (libstdc++ throws ESRCH from underflow)
  }
  // The command name (field 2) may hold spaces: count fields after its ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  if (fields.size() < 13) return -1;
  int64_t ticks = std::atoll(fields[11].c_str()) + std::atoll(fields[12].c_str());  // utime, stime
  if (children) ticks += std::atoll(fields[13].c_str()) + std::atoll(fields[14].c_str());
  return ticks;
}

// CPU ticks of every PostgreSQL server process on the machine (the benchmark
// cluster is the only one it runs against). A backend that exits moves its
// time into the postmaster's children's time, so the sum stays steady.
int64_t PostgresCpuTicks() {
  int64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
    std::string name;
    if (!std::getline(comm, name) || name != "postgres") continue;
    const int64_t ticks = CpuTicks(pid, /*children=*/true);
    if (ticks > 0) total += ticks;
  }
  return total;
}

// Where the CPU time of a measured phase went: this process, the server
// (--server_pid) and PostgreSQL. On a machine shared by all three, a call's
// CPU cost decides throughput, and it is far less noisy than throughput.
class CpuMeter {
 public:
  CpuMeter() : server_pid_(absl::StrCat(absl::GetFlag(FLAGS_server_pid))) { Reset(); }
  void Reset() {
    self_ = CpuTicks("self");
    server_ = absl::GetFlag(FLAGS_server_pid) > 0 ? CpuTicks(server_pid_) : -1;
    postgres_ = PostgresCpuTicks();
  }
  // `,"cpu_us_per_call":{...}` for the calls made since Reset().
  std::string Json(int64_t calls) const {
    if (calls <= 0) return "";
    const double us_per_tick = 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
    auto per_call = [&](int64_t before, int64_t after) {
      return before < 0 || after < 0 ? -1.0 : (after - before) * us_per_tick / calls;
    };
    const double server = server_ < 0 ? -1 : per_call(server_, CpuTicks(server_pid_));
    return absl::StrFormat(
        ",\"cpu_us_per_call\":{\"server\":%.0f,\"postgres\":%.0f,\"load_generator\":%.0f}", server,
        per_call(postgres_, PostgresCpuTicks()), per_call(self_, CpuTicks("self")));
  }

 private:
  const std::string server_pid_;
  int64_t self_ = 0;
  int64_t server_ = -1;
  int64_t postgres_ = 0;
};

// Collects latencies and status codes from many threads.
class Recorder {
 public:
  void Record(Clock::time_point began, Clock::duration latency, grpc::StatusCode code) {
    std::lock_guard<std::mutex> lock(mu_);
    latencies_us_.push_back(std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
    starts_.push_back(began);
    ++codes_[code];
  }
  // Writes --latency_file (when set): start in Unix microseconds, latency.
  void WriteLatencyFile() {
    const std::string path = absl::GetFlag(FLAGS_latency_file);
    if (path.empty()) return;
    std::lock_guard<std::mutex> lock(mu_);
    const auto wall_origin = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const Clock::time_point steady_origin = Clock::now();
    std::ofstream out(path);
    for (size_t i = 0; i < starts_.size(); ++i) {
      const int64_t start_us =
          wall_origin -
          std::chrono::duration_cast<std::chrono::microseconds>(steady_origin - starts_[i]).count();
      out << start_us << ' ' << latencies_us_[i] << '\n';
    }
  }
  double Percentile(double p) {
    std::lock_guard<std::mutex> lock(mu_);
    if (latencies_us_.empty()) return 0;
    std::vector<int64_t> sorted = latencies_us_;
    std::sort(sorted.begin(), sorted.end());
    const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
    return sorted[index] / 1000.0;
  }
  int64_t Count(grpc::StatusCode code) {
    std::lock_guard<std::mutex> lock(mu_);
    return codes_[code];
  }
  std::string ErrorsJson() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out = "{";
    for (const auto& [code, n] : codes_) {
      if (code == grpc::StatusCode::OK) continue;
      absl::StrAppend(&out, out.size() > 1 ? "," : "", "\"", static_cast<int>(code), "\":", n);
    }
    return out + "}";
  }
  size_t total() {
    std::lock_guard<std::mutex> lock(mu_);
    return latencies_us_.size();
  }

 private:
  std::mutex mu_;
  std::vector<int64_t> latencies_us_;
  std::vector<Clock::time_point> starts_;
  std::map<grpc::StatusCode, int64_t> codes_;
};

// Runs `total` calls (or until `deadline`), `concurrency` in flight. `start`
// begins call `i` and must invoke `done(code)` exactly once when it finishes.
class InFlightRunner {
 public:
  using StartFn = std::function<void(int64_t i, std::function<void(grpc::StatusCode)> done)>;

  InFlightRunner(int64_t total, Clock::time_point deadline, StartFn start, Recorder& recorder)
      : total_(total), deadline_(deadline), start_(std::move(start)), recorder_(recorder) {}

  void Run(int concurrency) {
    active_ = concurrency;
    for (int i = 0; i < concurrency; ++i) Next();
    finished_.WaitForNotification();
  }

 private:
  void Next() {
    const int64_t i = next_++;
    if (i >= total_ || Clock::now() >= deadline_) {
      if (--active_ == 0) finished_.Notify();
      return;
    }
    const Clock::time_point began = Clock::now();
    start_(i, [this, began](grpc::StatusCode code) {
      recorder_.Record(began, Clock::now() - began, code);
      Next();
    });
  }

  const int64_t total_;
  const Clock::time_point deadline_;
  StartFn start_;
  Recorder& recorder_;
  std::atomic<int64_t> next_{0};
  std::atomic<int> active_{0};
  absl::Notification finished_;
};

// One callback-API unary call that deletes itself when done.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext ctx;
  Request request;
  Response response;
};

// Addresses spread over the email index as real ones are: "user", a number
// that looks random (so consecutive calls, and calls of one batch, land on
// different pages of tokens_outstanding_email, among bench/large_table.sh's
// "user<n>@fill.example" rows too), then what makes it unique.
std::string BenchEmail(int i, const std::string& tag) {
  uint64_t x = std::hash<std::string>()(tag) + 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(i + 1);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;  // SplitMix64's finalizer
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return absl::StrCat("user", x % 10000000000ULL, ".", i, ".", tag, "@bench.example");
}

v1::IssueBatchRequest IssueRequest(int batch_size, const std::string& tag) {
  v1::IssueBatchRequest req;
  req.set_purpose("bench");
  req.set_redirect_url("http://localhost/accept");
  for (int i = 0; i < batch_size; ++i) {
    v1::Recipient* r = req.add_recipients();
    r->set_email(BenchEmail(i, tag));
  }
  return req;
}

// Tokens not used yet, shared by the calls of the mixed scenario.
class TokenPool {
 public:
  void Add(std::vector<std::string> tokens) {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::string& t : tokens) tokens_.push_back(std::move(t));
  }
  std::optional<std::string> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (tokens_.empty()) return std::nullopt;
    std::string t = std::move(tokens_.front());
    tokens_.pop_front();
    return t;
  }

 private:
  std::mutex mu_;
  std::deque<std::string> tokens_;
};

// `issued`, when set, receives the links' tokens.
void StartIssue(MagicLinkService::Stub& stub, v1::IssueBatchRequest request,
                std::function<void(grpc::StatusCode)> done, TokenPool* issued = nullptr) {
  auto* call = new Call<v1::IssueBatchRequest, v1::IssueBatchResponse>;
  call->request = std::move(request);
  Authorize(call->ctx);
  stub.async()->IssueBatch(&call->ctx, &call->request, &call->response,
                           [call, done, issued](grpc::Status s) {
                             if (s.ok() && issued != nullptr) {
                               std::vector<std::string> tokens;
                               for (const v1::IssuedLink& l : call->response.links()) {
                                 tokens.push_back(l.token());
                               }
                               issued->Add(std::move(tokens));
                             }
                             // The call is gone before `done` may let Main
                             // finish and the process exit.
                             delete call;
                             done(s.error_code());
                           });
}

void StartVerify(MagicLinkService::Stub& stub, const std::string& token, v1::VerifyMode mode,
                 std::function<void(grpc::StatusCode)> done) {
  auto* call = new Call<v1::VerifyRequest, v1::VerifyResponse>;
  call->request.set_token(token);
  call->request.set_mode(mode);
  Authorize(call->ctx);
  stub.async()->Verify(&call->ctx, &call->request, &call->response, [call, done](grpc::Status s) {
    delete call;
    done(s.error_code());
  });
}

// Issues `count` tokens (in batches of up to 10,000) for the verify scenarios.
std::vector<std::string> IssueTokens(MagicLinkService::Stub& stub, int count) {
  std::vector<std::string> tokens;
  const std::string run = absl::StrCat(std::chrono::system_clock::now().time_since_epoch().count());
  for (int offset = 0; offset < count; offset += 10000) {
    v1::IssueBatchRequest req =
        IssueRequest(std::min(10000, count - offset), absl::StrCat(run, ".", offset));
    v1::IssueBatchResponse resp;
    grpc::ClientContext ctx;
    Authorize(ctx);
    grpc::Status s = stub.IssueBatch(&ctx, req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "load_generator: issuing tokens failed: %s\n",
                   s.error_message().c_str());
      std::exit(1);
    }
    for (const v1::IssuedLink& l : resp.links()) tokens.push_back(l.token());
  }
  return tokens;
}

// Tells a waiting script (--ready_file) that the measured calls begin.
void SignalReady() {
  const std::string path = absl::GetFlag(FLAGS_ready_file);
  if (!path.empty()) std::ofstream(path) << "ready\n";
}

void Report(const std::string& scenario, Recorder& recorder, double seconds, int64_t units,
            const std::string& unit_name, const std::string& extra) {
  recorder.WriteLatencyFile();
  const int64_t ok = recorder.Count(grpc::StatusCode::OK);
  std::printf(
      "{\"scenario\":\"%s\",\"label\":\"%s\",\"concurrency\":%d,\"calls\":%zu,\"ok\":%lld,"
      "\"seconds\":%.3f,\"calls_per_s\":%.1f,\"%s_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
      "\"errors\":%s%s}\n",
      scenario.c_str(), absl::GetFlag(FLAGS_label).c_str(), absl::GetFlag(FLAGS_concurrency),
      recorder.total(), static_cast<long long>(ok), seconds, ok / seconds, unit_name.c_str(),
      units / seconds, recorder.Percentile(0.50), recorder.Percentile(0.99),
      recorder.ErrorsJson().c_str(), extra.c_str());
  std::fflush(stdout);
}

// The race: every token consumed by `racers` calls spread over every target.
// Tokens are taken in groups of four whose attempts are shuffled together, so
// the calls in flight at any moment race for a few tokens at once, through
// different servers, in different orders. Reports successes per token (each
// must have exactly one), every status code and attempts/s.
int RunRace(const std::vector<std::unique_ptr<MagicLinkService::Stub>>& stubs) {
  const int token_count = absl::GetFlag(FLAGS_tokens);
  const int racers = absl::GetFlag(FLAGS_racers);
  std::vector<std::string> tokens = IssueTokens(*stubs[0], token_count);
  std::vector<int> order(tokens.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::mt19937_64 random(7);
  std::shuffle(order.begin(), order.end(), random);
  constexpr size_t kGroup = 4;
  std::vector<int> attempts;  // token index per attempt
  attempts.reserve(order.size() * racers);
  for (size_t g = 0; g < order.size(); g += kGroup) {
    const size_t begin = attempts.size();
    for (size_t i = g; i < std::min(order.size(), g + kGroup); ++i) {
      for (int r = 0; r < racers; ++r) attempts.push_back(order[i]);
    }
    std::shuffle(attempts.begin() + begin, attempts.end(), random);
  }
  std::vector<std::atomic<int>> successes(tokens.size());
  CpuMeter cpu;
  Recorder recorder;
  const Clock::time_point begin = Clock::now();
  InFlightRunner runner(
      static_cast<int64_t>(attempts.size()), Clock::time_point::max(),
      [&](int64_t i, std::function<void(grpc::StatusCode)> done) {
        const int token = attempts[i];
        StartVerify(*stubs[i % stubs.size()], tokens[token], v1::CONSUME,
                    [&successes, token, done](grpc::StatusCode code) {
                      if (code == grpc::StatusCode::OK) ++successes[token];
                      done(code);
                    });
      },
      recorder);
  runner.Run(absl::GetFlag(FLAGS_concurrency));
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  int64_t doubles = 0, unused = 0, most = 0;
  for (const std::atomic<int>& n : successes) {
    doubles += n.load() > 1;
    unused += n.load() == 0;
    most = std::max<int64_t>(most, n.load());
  }
  Report("race_consume", recorder, seconds, static_cast<int64_t>(recorder.total()), "attempts",
         absl::StrCat(",\"replicas\":", stubs.size(), ",\"tokens\":", tokens.size(),
                      ",\"racers\":", racers, ",\"tokens_consumed_twice_or_more\":", doubles,
                      ",\"tokens_never_consumed\":", unused, ",\"most_successes_for_one_token\":",
                      most, cpu.Json(static_cast<int64_t>(recorder.total()))));
  return 0;
}

int Main() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  std::vector<std::unique_ptr<MagicLinkService::Stub>> stubs;
  for (absl::string_view target : absl::StrSplit(absl::GetFlag(FLAGS_target), ',')) {
    auto channel =
        grpc::CreateCustomChannel(std::string(target), grpc::InsecureChannelCredentials(), args);
    // Connected before any call is timed: a scenario measures calls, not the
    // TCP and HTTP/2 handshakes.
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      std::fprintf(stderr, "load_generator: cannot connect to %s\n", std::string(target).c_str());
      return 1;
    }
    stubs.push_back(MagicLinkService::NewStub(channel));
  }
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  if (scenario == "race") return RunRace(stubs);
  auto& stub = stubs[0];
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int calls = absl::GetFlag(FLAGS_calls);
  Recorder recorder;

  if (scenario == "issue") {
    const int batch_size = absl::GetFlag(FLAGS_batch_size);
    // Requests are built up front so the measurement is the RPC, not this program.
    std::vector<v1::IssueBatchRequest> requests;
    const std::string run =
        absl::StrCat(std::chrono::system_clock::now().time_since_epoch().count());
    for (int i = 0; i < calls; ++i)
      requests.push_back(IssueRequest(batch_size, absl::StrCat(run, ".", i)));
    CpuMeter cpu;
    SignalReady();
    const Clock::time_point begin = Clock::now();
    InFlightRunner runner(
        calls, Clock::time_point::max(),
        [&](int64_t i, auto done) { StartIssue(*stub, std::move(requests[i]), done); }, recorder);
    runner.Run(concurrency);
    const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    Report(absl::StrCat("issue_", batch_size), recorder, seconds,
           recorder.Count(grpc::StatusCode::OK) * static_cast<int64_t>(batch_size), "links",
           cpu.Json(static_cast<int64_t>(recorder.total())));
    return 0;
  }
  if (scenario == "verify") {
    const v1::VerifyMode mode = absl::GetFlag(FLAGS_mode) == "peek" ? v1::PEEK : v1::CONSUME;
    std::vector<std::string> tokens = IssueTokens(*stub, calls);
    // Clicks arrive in no particular order (and pgbench, the baseline, picks
    // random rows): verifying in issue order would make every concurrent call
    // update neighbouring rows and index entries and measure that contention.
    std::shuffle(tokens.begin(), tokens.end(), std::mt19937_64(42));
    CpuMeter cpu;
    SignalReady();
    const Clock::time_point begin = Clock::now();
    InFlightRunner runner(
        calls, Clock::time_point::max(),
        [&](int64_t i, auto done) { StartVerify(*stub, tokens[i], mode, done); }, recorder);
    runner.Run(concurrency);
    const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    Report(absl::StrCat("verify_", absl::GetFlag(FLAGS_mode)), recorder, seconds,
           recorder.Count(grpc::StatusCode::OK), "verifies",
           cpu.Json(static_cast<int64_t>(recorder.total())));
    return 0;
  }
  if (scenario == "mixed") {
    const int pid = absl::GetFlag(FLAGS_server_pid);
    const long rss_start = pid > 0 ? ResidentKb(pid) : -1;
    TokenPool pool;
    pool.Add(IssueTokens(*stub, absl::GetFlag(FLAGS_mixed_tokens)));
    const Clock::time_point begin = Clock::now();
    const auto deadline = begin + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds)));
    // Per 10 calls: 1 IssueBatch of 10, 8 Verify CONSUME, 1 Revoke by token,
    // each of a token not used before (the issues refill the pool faster
    // than the others drain it; should it run dry, the call issues instead).
    InFlightRunner runner(
        INT64_MAX, deadline,
        [&](int64_t i, std::function<void(grpc::StatusCode)> done) {
          const int kind = static_cast<int>(i % 10);
          std::optional<std::string> token;
          if (kind != 0) token = pool.Take();
          if (!token) {
            StartIssue(*stub, IssueRequest(10, absl::StrCat("mixed.", i)), done, &pool);
          } else if (kind == 9) {
            auto* call = new Call<v1::RevokeRequest, v1::RevokeResponse>;
            call->request.set_token(*token);
            Authorize(call->ctx);
            stub->async()->Revoke(&call->ctx, &call->request, &call->response,
                                  [call, done](grpc::Status s) {
                                    delete call;
                                    done(s.error_code());
                                  });
          } else {
            StartVerify(*stub, *token, v1::CONSUME, done);
          }
        },
        recorder);
    runner.Run(concurrency);
    const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    const long rss_end = pid > 0 ? ResidentKb(pid) : -1;
    // Every call should succeed: errors are counted by status, not hidden.
    Report(
        "mixed", recorder, seconds, static_cast<int64_t>(recorder.total()), "ops",
        absl::StrCat(",\"server_rss_kb_start\":", rss_start, ",\"server_rss_kb_end\":", rss_end));
    return 0;
  }
  std::fprintf(stderr, "load_generator: unknown --scenario=%s\n", scenario.c_str());
  return 2;
}

}  // namespace
}  // namespace magiclink::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int rc = magiclink::bench::Main();
  // Out without running destructors: gRPC's callback threads may still be
  // finishing the last call's bookkeeping, and tearing the library down under
  // them crashed the process now and then (SIGSEGV in a "nexting_thread" on a
  // loaded machine) after the results were printed.
  std::fflush(stdout);
  std::_Exit(rc);
}
