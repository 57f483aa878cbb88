// A bounded pool of PostgreSQL connections. At most `size` connections are
// open; a caller waits for a free one until a deadline and then gets
// UNAVAILABLE instead of hanging. Connections are opened lazily, checked for
// a server-side close before they are handed out, and replaced when a caller
// reports them broken, so the pool heals by itself after a server restart.
//
//   PgConnectionPool pool(conninfo, PgConnectionPool::Limits{}, PrepareStatements);
//   absl::StatusOr<PgConnectionPool::Lease> lease = pool.Acquire(deadline);
//   if (!lease.ok()) return lease.status();  // UNAVAILABLE, STORE_UNAVAILABLE
//   pqxx::nontransaction tx(**lease);
//   ...
//   lease->MarkBroken();  // after pqxx::broken_connection: never reused
#ifndef MAGICLINK_SERVER_STORE_POSTGRES_CONNECTION_POOL_H_
#define MAGICLINK_SERVER_STORE_POSTGRES_CONNECTION_POOL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pqxx/connection"
#include "server/observability/store_observer.h"

namespace magiclink {

class PgConnectionPool {
 public:
  struct Limits {
    int size = 8;
    // After a failed connect, new connections are not attempted for this
    // long: calls fail at once while the server is down.
    absl::Duration reconnect_backoff = absl::Milliseconds(200);
    // Told how many connections are lent and how many calls wait (metrics).
    StoreObserver* observer = nullptr;
  };
  // Runs on every new connection before its first use (e.g. to register
  // prepared statements). May throw pqxx exceptions.
  using Setup = std::function<void(pqxx::connection&)>;

  // A connection on loan; returns it to the pool when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    pqxx::connection& operator*() const { return *connection_; }
    pqxx::connection* operator->() const { return connection_.get(); }

    // The connection failed in a way that leaves it unusable or in an
    // unknown state: it is closed instead of returned to the pool.
    void MarkBroken() { broken_ = true; }

   private:
    friend class PgConnectionPool;
    Lease(PgConnectionPool* pool, std::unique_ptr<pqxx::connection> connection)
        : pool_(pool), connection_(std::move(connection)) {
      if (pool_->limits_.observer != nullptr) pool_->limits_.observer->ConnectionsInUse(+1);
    }

    PgConnectionPool* pool_;
    std::unique_ptr<pqxx::connection> connection_;
    bool broken_ = false;
  };

  // `conninfo` is a libpq connection string (see BuildConninfo).
  PgConnectionPool(std::string conninfo, Limits limits, Setup setup);
  // All leases must have been returned.
  ~PgConnectionPool();
  PgConnectionPool(const PgConnectionPool&) = delete;
  PgConnectionPool& operator=(const PgConnectionPool&) = delete;

  // Lends a connection: an idle one, or a new one while fewer than `size` are
  // open, or the first one returned before `deadline`. UNAVAILABLE (reason
  // STORE_UNAVAILABLE) when none is free by `deadline` or PostgreSQL cannot
  // be reached.
  absl::StatusOr<Lease> Acquire(absl::Time deadline);

  // Connections open now (idle and lent).
  int open_connections() const;

 private:
  void Release(std::unique_ptr<pqxx::connection> connection, bool broken);
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect();

  const std::string conninfo_;
  const Limits limits_;
  const Setup setup_;

  mutable absl::Mutex mu_;
  // Most recently returned last: the warmest connection is lent first.
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + lent + being opened
  absl::Time last_connect_failure_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string last_connect_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_CONNECTION_POOL_H_
