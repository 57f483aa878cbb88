// The retry decorator: which calls may be repeated, and the backoff between
// attempts. The policy per method lives in one place, RetryingConnection's
// methods, so it can be read at a glance.
#include <algorithm>
#include <memory>
#include <random>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "magiclink/client/connection.h"

namespace magiclink::client {
namespace {

enum class Retry { kNever, kOnUnavailable };

void SleepThisThread(absl::Duration d) {
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(d));
}

class RetryingConnection : public Connection {
 public:
  RetryingConnection(std::shared_ptr<Connection> inner, RetryPolicy policy, Sleeper sleeper)
      : inner_(std::move(inner)),
        policy_(policy),
        sleeper_(sleeper ? std::move(sleeper) : SleepThisThread),
        random_(std::random_device{}()) {}

  absl::StatusOr<v1::IssueBatchResponse> IssueBatch(const v1::IssueBatchRequest& request) override {
    // Without a request_id a repeat would issue a second set of links; a
    // validation writes nothing, so repeating it is always safe.
    const Retry retry = request.request_id().empty() && !request.validate_only()
                            ? Retry::kNever
                            : Retry::kOnUnavailable;
    return Run(retry, [&] { return inner_->IssueBatch(request); });
  }
  absl::StatusOr<v1::VerifyResponse> Verify(const v1::VerifyRequest& request) override {
    // A CONSUME whose response was lost may have used the token up; repeating
    // it would turn the caller's success into TOKEN_ALREADY_USED. Callers
    // that want that retry send a consume_key and repeat it themselves.
    const Retry retry = request.mode() == v1::PEEK ? Retry::kOnUnavailable : Retry::kNever;
    return Run(retry, [&] { return inner_->Verify(request); });
  }
  absl::StatusOr<v1::RevokeResponse> Revoke(const v1::RevokeRequest& request) override {
    return Run(Retry::kOnUnavailable, [&] { return inner_->Revoke(request); });
  }
  absl::StatusOr<v1::GetBatchResponse> GetBatch(const v1::GetBatchRequest& request) override {
    return Run(Retry::kOnUnavailable, [&] { return inner_->GetBatch(request); });
  }
  absl::StatusOr<v1::ListLinksResponse> ListLinks(const v1::ListLinksRequest& request) override {
    return Run(Retry::kOnUnavailable, [&] { return inner_->ListLinks(request); });
  }

 private:
  template <typename Attempt>
  auto Run(Retry retry, const Attempt& attempt) -> decltype(attempt()) {
    const int attempts = retry == Retry::kNever ? 1 : policy_.max_attempts;
    absl::Duration cap = policy_.initial_backoff;
    for (int i = 1;; ++i) {
      auto result = attempt();
      if (result.ok() || i >= attempts ||
          result.status().code() != absl::StatusCode::kUnavailable) {
        return result;
      }
      sleeper_(Jittered(cap));
      cap = std::min(policy_.max_backoff, cap * policy_.multiplier);
    }
  }

  // Uniform in [cap / 2, cap]: spreads clients that failed together without
  // ever retrying immediately.
  absl::Duration Jittered(absl::Duration cap) {
    absl::MutexLock lock(&mu_);
    return cap / 2 + cap * (std::uniform_real_distribution<double>(0.0, 0.5)(random_));
  }

  const std::shared_ptr<Connection> inner_;
  const RetryPolicy policy_;
  const Sleeper sleeper_;
  absl::Mutex mu_;
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::shared_ptr<Connection> MakeRetryingConnection(std::shared_ptr<Connection> inner,
                                                   RetryPolicy policy, Sleeper sleeper) {
  return std::make_shared<RetryingConnection>(std::move(inner), policy, std::move(sleeper));
}

}  // namespace magiclink::client
