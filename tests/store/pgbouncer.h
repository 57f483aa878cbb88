// A real pgbouncer (Debian's 1.18) in pool_mode = transaction in front of the
// throwaway PostgreSQL of scripts/with-postgres.sh, as many replicas share one
// PostgreSQL in production: consecutive transactions of one client
// connection may run on different server sessions.
//
//   Pgbouncer bouncer;
//   ASSERT_OK(bouncer.Start());
//   std::string url = bouncer.Route(ScratchDatabaseUrl());  // same database, via pgbouncer
//
// Every database of the cluster is reachable through it (a "*" entry). It
// runs in the foreground as a child of the test (and dies with it), as the
// cluster's owner when the tests run as root (pgbouncer refuses root), on a
// free loopback port, with trust authentication; the destructor stops it.
#ifndef MAGICLINK_TESTS_STORE_PGBOUNCER_H_
#define MAGICLINK_TESTS_STORE_PGBOUNCER_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"

namespace magiclink::testing {

class Pgbouncer {
 public:
  Pgbouncer() = default;
  ~Pgbouncer();
  Pgbouncer(const Pgbouncer&) = delete;
  Pgbouncer& operator=(const Pgbouncer&) = delete;

  // Writes its configuration, starts it in front of the cluster that
  // $MAGICLINK_TEST_POSTGRES_URL names and waits (bounded) until it accepts
  // a query.
  absl::Status Start();

  // `direct_url` (a postgresql:// URL of the test cluster) through pgbouncer.
  std::string Route(const std::string& direct_url) const;

  int port() const { return port_; }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;  // the pgbouncer child
};

}  // namespace magiclink::testing

#endif  // MAGICLINK_TESTS_STORE_PGBOUNCER_H_
