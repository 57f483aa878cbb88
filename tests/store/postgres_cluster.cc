#include "tests/store/postgres_cluster.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pqxx/pqxx"
#include "tests/store/postgres_test_support.h"
#include "tests/testing/server_process.h"

namespace magiclink::testing {
namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value == nullptr || *value == '\0' ? fallback : value;
}

std::string PgBin() { return EnvOr("MAGICLINK_PG_BIN", "/usr/lib/postgresql/15/bin"); }
std::string Owner() { return EnvOr("MAGICLINK_PG_USER", "postgres"); }

// The first column of the first row of `sql` on `url`, or "" if it fails.
std::string QueryText(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection connection(url);
    pqxx::nontransaction tx(connection);
    return tx.exec1(sql)[0].c_str();
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

PostgresCluster::~PostgresCluster() {
  if (running_) (void)Stop("immediate");
  if (!folder_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
  }
}

absl::Status PostgresCluster::Run(const std::string& program, const std::string& arguments) const {
  const std::string as_owner =
      geteuid() == 0 ? absl::StrCat("runuser -u ", ShellQuote(Owner()), " -- ") : "";
  const std::string command =
      absl::StrCat(as_owner, ShellQuote(PgBin() + "/" + program), " ", arguments, " >>",
                   ShellQuote(folder_ + "/tools.log"), " 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(program, " failed for ", name_, "; see ", folder_,
                                            "/tools.log and ", folder_, "/server.log"));
  }
  return absl::OkStatus();
}

absl::Status PostgresCluster::MakeFolder() {
  std::string pattern = absl::StrCat(EnvOr("TMPDIR", "/tmp"), "/magiclink-", name_, ".XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  folder_ = pattern;
  if (geteuid() == 0) {
    const passwd* owner = getpwnam(Owner().c_str());
    if (owner == nullptr) return absl::InternalError("the cluster owner does not exist");
    if (chown(folder_.c_str(), owner->pw_uid, owner->pw_gid) != 0) {
      return absl::InternalError("cannot hand the cluster folder to its owner");
    }
  }
  return absl::OkStatus();
}

absl::Status PostgresCluster::Configure(bool primary) {
  port_ = UnusedLoopbackPort();
  if (port_ == 0) return absl::InternalError("no free port");
  // Appended: for a standby these lines override the primary's copied ones.
  std::ofstream conf(folder_ + "/data/postgresql.auto.conf", std::ios::app);
  conf << "listen_addresses = '127.0.0.1'\n"
       << "port = " << port_ << "\n"
       << "unix_socket_directories = '" << folder_ << "'\n"
       << "max_connections = 100\n"
       // The test crashes PostgreSQL processes, never the machine: what the
       // standby received survives in the page cache either way, and without
       // fsync CREATE DATABASE and the base backup's checkpoint take no time.
       << "fsync = off\n";
  if (primary) {
    // Room for the standby's connection and its slot-less catch-up.
    conf << "max_wal_senders = 4\nwal_keep_size = '64MB'\n";
  }
  return conf ? absl::OkStatus() : absl::InternalError("cannot write postgresql.auto.conf");
}

absl::Status PostgresCluster::Start() {
  // Another process may take the port before the server binds it: retry
  // with a fresh one (as scripts/with-postgres.sh does).
  absl::Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) {
      port_ = UnusedLoopbackPort();
      std::ofstream(folder_ + "/data/postgresql.auto.conf", std::ios::app)
          << "port = " << port_ << "\n";
    }
    started = Run("pg_ctl", absl::StrCat("-D ", ShellQuote(folder_ + "/data"), " -l ",
                                         ShellQuote(folder_ + "/server.log"), " -w -t 30 start"));
    if (started.ok()) {
      running_ = true;
      return started;
    }
  }
  return started;
}

absl::Status PostgresCluster::InitAndStart() {
  if (absl::Status s = MakeFolder(); !s.ok()) return s;
  if (absl::Status s = Run("initdb", absl::StrCat("-D ", ShellQuote(folder_ + "/data"),
                                                  " -A trust -U postgres --no-sync -E UTF8 "
                                                  "--locale=C"));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Configure(/*primary=*/true); !s.ok()) return s;
  if (absl::Status s = Start(); !s.ok()) return s;
  try {
    pqxx::connection admin(absl::StrCat("postgresql://postgres@127.0.0.1:", port_, "/postgres"));
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE magiclink");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("CREATE DATABASE failed: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status PostgresCluster::StartAsStandbyOf(const PostgresCluster& primary) {
  if (absl::Status s = MakeFolder(); !s.ok()) return s;
  // -R writes standby.signal and primary_conninfo; -X stream copies the WAL
  // written meanwhile.
  if (absl::Status s =
          Run("pg_basebackup",
              absl::StrCat("-D ", ShellQuote(folder_ + "/data"), " -h 127.0.0.1 -p ",
                           primary.port(), " -U postgres -R -X stream --no-sync -c fast"));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Configure(/*primary=*/false); !s.ok()) return s;
  return Start();
}

absl::Status PostgresCluster::RequireSynchronousStandby() {
  try {
    pqxx::connection admin(Url());
    pqxx::nontransaction tx(admin);
    tx.exec("ALTER SYSTEM SET synchronous_standby_names = '*'");
    tx.exec("SELECT pg_reload_conf()");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot require a synchronous standby: ", e.what()));
  }
  // Bounded wait for set-up, not a timed assertion.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (QueryText(Url(), "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") ==
        "1") {
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError("no standby became synchronous");
}

absl::Status PostgresCluster::Stop(const std::string& mode) {
  absl::Status s = Run("pg_ctl", absl::StrCat("-D ", ShellQuote(folder_ + "/data"), " -m ",
                                              ShellQuote(mode), " -w stop"));
  if (s.ok()) running_ = false;
  return s;
}

absl::Status PostgresCluster::Promote() {
  return Run("pg_ctl", absl::StrCat("-D ", ShellQuote(folder_ + "/data"), " -w promote"));
}

std::string PostgresCluster::Url() const {
  return absl::StrCat("postgresql://postgres@", HostPort(), "/magiclink");
}

std::string PostgresCluster::HostPort() const { return absl::StrCat("127.0.0.1:", port_); }

std::string PostgresCluster::Log() const {
  std::ifstream in(folder_ + "/server.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace magiclink::testing
