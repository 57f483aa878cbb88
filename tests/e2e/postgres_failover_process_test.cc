// PostgreSQL fails over under load: a primary with a synchronous streaming
// standby (both started by the test on loopback), two real magiclinkd
// replicas on a libpq multi-host URL with target_session_attrs=read-write,
// and callers issuing batches and consuming links through both. The primary
// is stopped in immediate mode (a crash) and the standby promoted, as an
// operator (or Patroni) would. The replicas are neither restarted nor
// reconfigured; the test shows that:
//   - calls fail only with UNAVAILABLE (or DEADLINE_EXCEEDED) meanwhile, and
//     both replicas serve again once the standby is promoted (the time is
//     printed: docs/scaling.md quotes it);
//   - every link of every IssueBatch that returned OK is there afterwards;
//   - every CONSUME that returned OK stays consumed;
//   - no token is consumed twice.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "tests/store/postgres_cluster.h"
#include "tests/testing/grpc_errors.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::testing {
namespace {

using Stub = v1::MagicLinkService::Stub;

constexpr int kReplicas = 2;
constexpr int kLinksPerBatch = 5;

grpc::Status Verify(Stub& stub, const std::string& token, v1::VerifyMode mode) {
  v1::VerifyRequest req;
  req.set_token(token);
  req.set_mode(mode);
  v1::VerifyResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return stub.Verify(&ctx, req, &resp);
}

// One token the load issued, and what happened to it.
struct IssuedToken {
  std::string token;
  bool before_failover = false;  // its IssueBatch returned OK before the primary stopped
  int consumes_ok = 0;           // CONSUMEs that returned OK
  bool consume_attempted = false;
};

// Issuers and consumers over every replica; records every outcome.
class MixedLoad {
 public:
  explicit MixedLoad(std::vector<std::unique_ptr<Stub>>& stubs) : stubs_(stubs) {}

  void Start() {
    for (int r = 0; r < kReplicas; ++r) {
      threads_.emplace_back([this, r] { IssueLoop(r); });
      for (int c = 0; c < 2; ++c) {
        threads_.emplace_back([this, r, c] { ConsumeLoop(r, c); });
      }
    }
  }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
  }
  void MarkFailoverStarted() {
    absl::MutexLock lock(&mu_);
    failover_started_ = absl::Now();
  }

  // Bounded wait for set-up or recovery (not a timed assertion): true once
  // `done` holds.
  bool Await(absl::Duration timeout, const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  int issued() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(tokens_.size());
  }
  int consumed() {
    absl::MutexLock lock(&mu_);
    return consumes_ok_;
  }
  // From now on, an OK call that started after now counts as the service
  // being back (the primary is down: no call can have used it).
  void MarkPrimaryDown() {
    absl::MutexLock lock(&mu_);
    primary_down_ = absl::Now();
  }
  // True once, on every replica, an IssueBatch and a CONSUME that started
  // after `since` returned OK.
  bool AllServedSince(absl::Time since) {
    absl::MutexLock lock(&mu_);
    for (int r = 0; r < kReplicas; ++r) {
      if (last_issue_ok_[r] < since || last_consume_ok_[r] < since) return false;
    }
    return true;
  }

  struct Report {
    std::vector<IssuedToken> tokens;
    std::vector<std::string> unexpected;  // errors other than the allowed ones
    int unavailable = 0;
    int deadline_exceeded = 0;
    absl::Time first_failure = absl::InfiniteFuture();
    std::string first_failure_message;
    absl::Time last_failure = absl::InfinitePast();  // when the last failed call ended
    absl::Time first_ok_after[kReplicas];            // ended, of calls started after the stop
  };
  Report TakeReport() {
    absl::MutexLock lock(&mu_);
    Report report;
    report.tokens = tokens_;
    report.unexpected = unexpected_;
    report.unavailable = unavailable_;
    report.deadline_exceeded = deadline_exceeded_;
    report.first_failure = first_failure_;
    report.first_failure_message = first_failure_message_;
    report.last_failure = last_failure_;
    for (int r = 0; r < kReplicas; ++r) report.first_ok_after[r] = first_ok_after_[r];
    return report;
  }

 private:
  // Records a failed call. UNAVAILABLE and DEADLINE_EXCEEDED are what a
  // failover may cause; TOKEN_ALREADY_USED is a consumer losing a race (or
  // a consume whose commit was in doubt).
  void RecordFailure(const char* call, const grpc::Status& s, absl::Time start)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
      ++unavailable_;
    } else if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      ++deadline_exceeded_;
    } else {
      unexpected_.push_back(
          absl::StrCat(call, ": ", s.error_code(), " ", Reason(s), " ", s.error_message()));
      return;
    }
    if (start < first_failure_) {
      first_failure_ = start;
      first_failure_message_ = absl::StrCat(call, ": ", s.error_message());
    }
    last_failure_ = std::max(last_failure_, absl::Now());
  }
  void RecordOk(int replica, absl::Time start, absl::Time* last_ok)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    *last_ok = std::max(*last_ok, start);
    if (start > primary_down_ && first_ok_after_[replica] == absl::InfiniteFuture()) {
      first_ok_after_[replica] = absl::Now();
    }
  }

  void IssueLoop(int replica) {
    int n = 0;
    while (!stop_) {
      v1::IssueBatchRequest req;
      for (int i = 0; i < kLinksPerBatch; ++i) {
        req.add_recipients()->set_email(absl::StrCat("f", replica, "-", n, "-", i, "@x.io"));
      }
      ++n;
      req.set_purpose("invite");
      req.set_redirect_url("http://localhost/accept");
      v1::IssueBatchResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      const absl::Time start = absl::Now();
      const grpc::Status s = stubs_[replica]->IssueBatch(&ctx, req, &resp);
      absl::MutexLock lock(&mu_);
      if (!s.ok()) {
        RecordFailure("IssueBatch", s, start);
        continue;
      }
      if (resp.links_size() != kLinksPerBatch) {
        unexpected_.push_back(absl::StrCat("IssueBatch returned ", resp.links_size(), " links"));
        continue;
      }
      RecordOk(replica, start, &last_issue_ok_[replica]);
      const bool before = failover_started_ == absl::InfiniteFuture();
      for (const v1::IssuedLink& link : resp.links()) {
        tokens_.push_back({link.token(), before, 0, false});
      }
    }
  }

  void ConsumeLoop(int replica, int seed) {
    std::mt19937 random(replica * 17 + seed);
    while (!stop_) {
      size_t index = 0;
      std::string token;
      {
        absl::MutexLock lock(&mu_);
        if (tokens_.empty()) {
          // Nothing issued yet: wait for the issuers (set-up, not timing).
          mu_.AwaitWithTimeout(
              absl::Condition(
                  +[](std::vector<IssuedToken>* t) { return !t->empty(); }, &tokens_),
              absl::Milliseconds(100));
          continue;
        }
        // Mostly recent tokens, so that consumers on both replicas race for
        // the same ones.
        const size_t window = std::min<size_t>(tokens_.size(), 40);
        index = tokens_.size() - 1 - random() % window;
        tokens_[index].consume_attempted = true;
        token = tokens_[index].token;
      }
      const absl::Time start = absl::Now();
      const grpc::Status s = Verify(*stubs_[replica], token, v1::CONSUME);
      absl::MutexLock lock(&mu_);
      if (s.ok()) {
        ++tokens_[index].consumes_ok;
        ++consumes_ok_;
        RecordOk(replica, start, &last_consume_ok_[replica]);
      } else if (Reason(s) != "TOKEN_ALREADY_USED") {
        RecordFailure("CONSUME", s, start);
      }
    }
  }

  std::vector<std::unique_ptr<Stub>>& stubs_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::vector<IssuedToken> tokens_ ABSL_GUARDED_BY(mu_);
  int consumes_ok_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> unexpected_ ABSL_GUARDED_BY(mu_);
  int unavailable_ ABSL_GUARDED_BY(mu_) = 0;
  int deadline_exceeded_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time failover_started_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time primary_down_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time first_failure_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::string first_failure_message_ ABSL_GUARDED_BY(mu_);
  absl::Time last_failure_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_issue_ok_[kReplicas] ABSL_GUARDED_BY(mu_) = {absl::InfinitePast(),
                                                               absl::InfinitePast()};
  absl::Time last_consume_ok_[kReplicas] ABSL_GUARDED_BY(mu_) = {absl::InfinitePast(),
                                                                 absl::InfinitePast()};
  absl::Time first_ok_after_[kReplicas] ABSL_GUARDED_BY(mu_) = {absl::InfiniteFuture(),
                                                                absl::InfiniteFuture()};
};

double Seconds(absl::Time from, absl::Time to) { return absl::ToDoubleSeconds(to - from); }

TEST(PostgresFailoverProcessTest,
     PromotedSynchronousStandbyServesBothReplicasWithoutRestartAndKeepsEveryAcknowledgedWrite) {
  const absl::Time test_start = absl::Now();
  PostgresCluster primary("pg-primary");
  ASSERT_OK(primary.InitAndStart());
  PostgresCluster standby("pg-standby");
  ASSERT_OK(standby.StartAsStandbyOf(primary));
  ASSERT_OK(primary.RequireSynchronousStandby());

  // The replicas' only PostgreSQL setting: both servers, the writable one wins.
  const std::string url =
      absl::StrCat("postgresql://postgres@", primary.HostPort(), ",", standby.HostPort(),
                   "/magiclink?target_session_attrs=read-write");
  TempDir dir;
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  std::vector<std::unique_ptr<Stub>> stubs;
  for (int r = 0; r < kReplicas; ++r) {
    // One data folder: the replicas share its token key.
    replicas.push_back(std::make_unique<ServerProcess>(
        MagiclinkdPath(),
        std::vector<std::string>{"--database=" + url, "--data_dir=" + dir.File("data")},
        dir.File(absl::StrCat("replica", r, ".log"))));
    ASSERT_OK(replicas.back()->Start());
    stubs.push_back(v1::MagicLinkService::NewStub(
        grpc::CreateChannel(replicas.back()->address(), grpc::InsecureChannelCredentials())));
  }

  const absl::Time load_start = absl::Now();
  MixedLoad load(stubs);
  load.Start();
  const bool warmed_up = load.Await(absl::Seconds(30), [&] {
    return load.issued() >= 200 && load.consumed() >= 50 &&
           load.AllServedSince(absl::InfinitePast());
  });
  if (!warmed_up) {
    load.Stop();
    FAIL() << "the load did not get going: " << load.issued() << " links, " << load.consumed()
           << " consumes";
  }

  std::printf("failover: set-up (two clusters, two replicas) %.1f s, load warm-up %.1f s\n",
              Seconds(test_start, load_start), Seconds(load_start, absl::Now()));

  // The primary crashes; the operator promotes the standby at once.
  load.MarkFailoverStarted();
  const absl::Time stop_start = absl::Now();
  const absl::Status stopped = primary.Stop("immediate");
  const absl::Time stopped_at = absl::Now();
  load.MarkPrimaryDown();
  const absl::Status promoted = standby.Promote();
  const absl::Time promoted_at = absl::Now();
  // Bounded wait for the service to come back (the time is printed below).
  const bool recovered =
      load.Await(absl::Seconds(20), [&] { return load.AllServedSince(stopped_at); });
  // A little more load on the new primary.
  const int issued_at_recovery = load.issued();
  load.Await(absl::Seconds(10), [&] { return load.issued() >= issued_at_recovery + 50; });
  load.Stop();
  ASSERT_OK(stopped);
  ASSERT_OK(promoted) << standby.Log();
  ASSERT_TRUE(recovered) << "the replicas did not serve again after the promotion";
  for (const auto& replica : replicas) EXPECT_TRUE(replica->running());

  const MixedLoad::Report report = load.TakeReport();
  EXPECT_THAT(report.unexpected, ::testing::IsEmpty());

  // Afterwards, through either replica: every acknowledged link is there, and
  // every acknowledged consume holds.
  int before = 0, after = 0, consumed_ok = 0, doubles = 0, missing = 0, unconsumed = 0;
  for (size_t i = 0; i < report.tokens.size(); ++i) {
    const IssuedToken& t = report.tokens[i];
    (t.before_failover ? before : after) += 1;
    Stub& stub = *stubs[i % kReplicas];
    if (t.consumes_ok > 1) ++doubles;
    if (t.consumes_ok > 0) {
      ++consumed_ok;
      const grpc::Status again = Verify(stub, t.token, v1::CONSUME);
      if (Reason(again) != "TOKEN_ALREADY_USED") {
        ++unconsumed;
        ADD_FAILURE() << "a consumed token answers a second CONSUME with " << again.error_code()
                      << " " << Reason(again) << " " << again.error_message();
      }
      continue;
    }
    const grpc::Status peek = Verify(stub, t.token, v1::PEEK);
    // A CONSUME that failed with UNAVAILABLE may still have committed.
    const bool ok = peek.ok() || (t.consume_attempted && Reason(peek) == "TOKEN_ALREADY_USED");
    if (!ok) {
      ++missing;
      ADD_FAILURE() << "an issued link does not verify: " << peek.error_code() << " "
                    << Reason(peek) << " " << peek.error_message();
    }
  }
  EXPECT_EQ(doubles, 0);
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(unconsumed, 0);
  EXPECT_GE(before, 200);
  EXPECT_GT(after, 0);

  const double back0 = Seconds(stop_start, report.first_ok_after[0]);
  const double back1 = Seconds(stop_start, report.first_ok_after[1]);
  std::printf(
      "failover: primary stopped (immediate) in %.3f s, standby promoted %.3f s after the stop; "
      "first OK call after the stop: replica 0 at %.3f s, replica 1 at %.3f s (%.3f s after the "
      "promotion); "
      "failed calls from %.3f s to %.3f s (%.3f s of UNAVAILABLE: %d UNAVAILABLE, "
      "%d DEADLINE_EXCEEDED)\n",
      Seconds(stop_start, stopped_at), Seconds(stop_start, promoted_at), back0, back1,
      std::max(back0, back1) - Seconds(stop_start, promoted_at),
      Seconds(stop_start, report.first_failure), Seconds(stop_start, report.last_failure),
      report.first_failure == absl::InfiniteFuture()
          ? 0.0
          : Seconds(report.first_failure, report.last_failure),
      report.unavailable, report.deadline_exceeded);
  std::printf("failover: first failed call: %s\n", report.first_failure_message.c_str());
  std::printf(
      "failover: links issued before the stop %d, around and after it %d, all verified; consumes "
      "OK %d, "
      "all still consumed; tokens consumed twice %d\n",
      before, after, consumed_ok, doubles);
}

}  // namespace
}  // namespace magiclink::testing
