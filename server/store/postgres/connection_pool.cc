#include "server/store/postgres/connection_pool.h"

#include <poll.h>

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "pqxx/except"
#include "server/core/errors.h"

namespace magiclink {
namespace {

// An idle connection has nothing to read: the server speaks only when
// asked. Anything readable (the FATAL a server sends when it shuts down,
// or end-of-file) or a socket error means the session is gone. One poll()
// with no timeout: no round trip on the hot path.
bool LooksAlive(const pqxx::connection& connection) {
  const int fd = connection.sock();
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  const int ready = poll(&p, 1, 0);
  return ready == 0;
}

// The first line of a libpq connection error: it names host, port, user or
// database and why the attempt failed, never the password.
std::string FirstLine(absl::string_view message) {
  absl::string_view line = message.substr(0, message.find('\n'));
  return std::string(absl::StripAsciiWhitespace(line));
}

}  // namespace

PgConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      connection_(std::move(other.connection_)),
      broken_(other.broken_) {}

PgConnectionPool::Lease::~Lease() {
  if (pool_ == nullptr) return;
  if (pool_->limits_.observer != nullptr) pool_->limits_.observer->ConnectionsInUse(-1);
  pool_->Release(std::move(connection_), broken_);
}

PgConnectionPool::PgConnectionPool(std::string conninfo, Limits limits, Setup setup)
    : conninfo_(std::move(conninfo)), limits_(limits), setup_(std::move(setup)) {}

PgConnectionPool::~PgConnectionPool() {
  absl::MutexLock lock(&mu_);
  idle_.clear();
}

int PgConnectionPool::open_connections() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

absl::StatusOr<PgConnectionPool::Lease> PgConnectionPool::Acquire(absl::Time deadline) {
  for (;;) {
    std::unique_ptr<pqxx::connection> candidate;
    {
      absl::MutexLock lock(&mu_);
      auto can_proceed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < limits_.size;
      };
      StoreObserver* const observer = can_proceed() ? nullptr : limits_.observer;
      if (observer != nullptr) observer->ConnectionWaiters(+1);
      const bool ready = mu_.AwaitWithDeadline(absl::Condition(&can_proceed), deadline);
      if (observer != nullptr) observer->ConnectionWaiters(-1);
      if (!ready) {
        return StoreUnavailable(absl::StrCat("no PostgreSQL connection became free in time: all ",
                                             limits_.size, " pooled connections are busy"));
      }
      if (!idle_.empty()) {
        candidate = std::move(idle_.back());
        idle_.pop_back();
      } else {
        if (absl::Now() < last_connect_failure_ + limits_.reconnect_backoff) {
          return StoreUnavailable(absl::StrCat("PostgreSQL is unreachable: ", last_connect_error_));
        }
        ++open_;  // reserve the slot while connecting outside the lock
      }
    }
    if (candidate != nullptr) {
      if (LooksAlive(*candidate)) return Lease(this, std::move(candidate));
      Release(std::move(candidate), /*broken=*/true);
      continue;  // the server closed it (e.g. restarted): try the next one
    }
    absl::StatusOr<std::unique_ptr<pqxx::connection>> fresh = Connect();
    absl::MutexLock lock(&mu_);
    if (!fresh.ok()) {
      --open_;
      last_connect_failure_ = absl::Now();
      last_connect_error_ = std::string{fresh.status().message()};
      return fresh.status();
    }
    last_connect_failure_ = absl::InfinitePast();
    return Lease(this, *std::move(fresh));
  }
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> PgConnectionPool::Connect() {
  try {
    auto connection = std::make_unique<pqxx::connection>(conninfo_);
    if (setup_) setup_(*connection);
    return connection;
  } catch (const pqxx::broken_connection& e) {
    return StoreUnavailable(absl::StrCat("cannot connect to PostgreSQL: ", FirstLine(e.what())));
  } catch (const pqxx::sql_error& e) {
    // Only the SQLSTATE: the message could quote the statement.
    return StoreUnavailable(
        absl::StrCat("cannot set up a PostgreSQL connection (SQLSTATE ", e.sqlstate(), ")"));
  } catch (const std::exception& e) {
    return StoreUnavailable(absl::StrCat("cannot connect to PostgreSQL: ", FirstLine(e.what())));
  }
}

void PgConnectionPool::Release(std::unique_ptr<pqxx::connection> connection, bool broken) {
  if (connection == nullptr) return;
  if (broken) {
    connection.reset();  // closes the socket outside the lock
    absl::MutexLock lock(&mu_);
    --open_;
    return;
  }
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(connection));
}

}  // namespace magiclink
