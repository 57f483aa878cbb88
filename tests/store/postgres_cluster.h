// A PostgreSQL cluster of the test's own (not the shared one of
// scripts/with-postgres.sh), for tests that need several servers: a primary
// and a streaming-replication standby made from it with pg_basebackup, on
// free loopback ports, in a temporary folder removed afterwards.
//
//   PostgresCluster primary("primary");
//   ASSERT_OK(primary.InitAndStart());
//   PostgresCluster standby("standby");
//   ASSERT_OK(standby.StartAsStandbyOf(primary));
//   ASSERT_OK(primary.RequireSynchronousStandby());
//   ...
//   ASSERT_OK(primary.Stop("immediate"));
//   ASSERT_OK(standby.Promote());
//
// The binaries are PostgreSQL 15 from Debian unless $MAGICLINK_PG_BIN names
// another folder; when the test runs as root the server runs as the cluster
// owner ($MAGICLINK_PG_USER, default postgres), as PostgreSQL refuses root.
// The servers run with fsync off: the tests crash processes, not machines.
// The destructor stops a running server in immediate mode.
#ifndef MAGICLINK_TESTS_STORE_POSTGRES_CLUSTER_H_
#define MAGICLINK_TESTS_STORE_POSTGRES_CLUSTER_H_

#include <string>

#include "absl/status/status.h"

namespace magiclink::testing {

class PostgresCluster {
 public:
  // `name` names the folder and the server log (for reading after a failure).
  explicit PostgresCluster(std::string name) : name_(std::move(name)) {}
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // initdb (trust authentication, which also admits replication from
  // loopback), then starts the server and creates the database "magiclink".
  absl::Status InitAndStart();

  // pg_basebackup -R from `primary` (which must be running), then starts this
  // copy as a hot standby streaming from it.
  absl::Status StartAsStandbyOf(const PostgresCluster& primary);

  // Makes every commit on this server wait until a standby has flushed it
  // (synchronous_standby_names = '*', set on this server only, so a promoted
  // standby does not wait for a standby of its own), and waits until a
  // standby streams synchronously.
  absl::Status RequireSynchronousStandby();

  // pg_ctl stop -m `mode` ("fast", "immediate").
  absl::Status Stop(const std::string& mode);
  // pg_ctl promote -w: the standby leaves recovery and accepts writes.
  absl::Status Promote();

  // postgresql://postgres@127.0.0.1:PORT/magiclink
  std::string Url() const;
  // "127.0.0.1:PORT", for a multi-host URL.
  std::string HostPort() const;
  int port() const { return port_; }
  // The server's log, for a failure message.
  std::string Log() const;

 private:
  // Runs a PostgreSQL program as the cluster owner; its output goes to the
  // cluster's log.
  absl::Status Run(const std::string& program, const std::string& arguments) const;
  absl::Status MakeFolder();
  absl::Status Configure(bool primary);
  absl::Status Start();

  std::string name_;
  std::string folder_;  // owned by the cluster owner; holds data/ and the log
  int port_ = 0;
  bool running_ = false;
};

}  // namespace magiclink::testing

#endif  // MAGICLINK_TESTS_STORE_POSTGRES_CLUSTER_H_
