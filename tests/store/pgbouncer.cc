#include "tests/store/pgbouncer.h"
#include "tests/testing/server_process.h"

#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pqxx/pqxx"

namespace magiclink::testing {
namespace {

// The authority of a postgresql:// URL: host:port between "://" (or the
// user's '@') and the path.
struct Authority {
  size_t begin = 0;
  size_t end = 0;
};

Authority FindAuthority(const std::string& url) {
  const size_t scheme = url.find("://");
  size_t begin = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find('/', begin);
  if (end == std::string::npos) end = url.size();
  const size_t at = url.rfind('@', end);
  if (at != std::string::npos && at >= begin) begin = at + 1;
  return {begin, end};
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// The user that owns the test cluster (pgbouncer refuses to run as root).
std::string ClusterOwner() {
  const std::string user = Env("MAGICLINK_PG_USER");
  return user.empty() ? "postgres" : user;
}

}  // namespace

absl::Status Pgbouncer::Start() {
  const std::string cluster = Env("MAGICLINK_TEST_POSTGRES_URL");
  if (cluster.empty()) {
    return absl::FailedPreconditionError(
        "MAGICLINK_TEST_POSTGRES_URL is not set: run through scripts/with-postgres.sh");
  }
  const Authority authority = FindAuthority(cluster);
  const std::string host_port = cluster.substr(authority.begin, authority.end - authority.begin);
  const size_t colon = host_port.rfind(':');
  const std::string pg_host = colon == std::string::npos ? host_port : host_port.substr(0, colon);
  const std::string pg_port = colon == std::string::npos ? "5432" : host_port.substr(colon + 1);

  char dir_template[] = "/tmp/magiclink-pgbouncer.XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return absl::InternalError("mkdtemp failed");
  dir_ = dir_template;
  port_ = UnusedLoopbackPort();
  if (port_ == 0) return absl::InternalError("no free port for pgbouncer");
  std::ofstream(dir_ + "/userlist.txt") << "\"postgres\" \"\"\n";
  std::ofstream(dir_ + "/pgbouncer.ini")
      << "[databases]\n"
      << "* = host=" << pg_host << " port=" << pg_port << "\n"
      << "[pgbouncer]\n"
      << "listen_addr = 127.0.0.1\n"
      << "listen_port = " << port_ << "\n"
      << "unix_socket_dir =\n"
      << "auth_type = trust\n"
      << "auth_file = " << dir_ << "/userlist.txt\n"
      << "pool_mode = transaction\n"
      // Few server sessions per database and many clients: consecutive
      // transactions of one client land on different sessions.
      << "default_pool_size = 4\n"
      << "max_client_conn = 1000\n"
      << "max_db_connections = 0\n"
      << "server_reset_query =\n"
      << "logfile = " << dir_ << "/pgbouncer.log\n";
  // The owner of the cluster runs pgbouncer and must read and write here.
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (uid == 0) {
    const passwd* owner = getpwnam(ClusterOwner().c_str());
    if (owner == nullptr) return absl::InternalError("the cluster's owner does not exist");
    uid = owner->pw_uid;
    gid = owner->pw_gid;
    if (chown(dir_.c_str(), uid, gid) != 0) {
      return absl::InternalError("cannot hand the pgbouncer folder to the cluster's owner");
    }
    for (const char* file : {"/userlist.txt", "/pgbouncer.ini"}) {
      if (chown((dir_ + file).c_str(), uid, gid) != 0) {
        return absl::InternalError("cannot hand the pgbouncer files to the cluster's owner");
      }
    }
  }
  // In the foreground, as a child that dies with this process (also when a
  // test crashes): nothing outlives the test.
  const std::string ini = dir_ + "/pgbouncer.ini";
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
      _exit(126);
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // after setuid, which clears it
    // Debian installs it in /usr/sbin, which a non-root PATH may lack.
    execl("/usr/sbin/pgbouncer", "pgbouncer", "-q", ini.c_str(), static_cast<char*>(nullptr));
    execlp("pgbouncer", "pgbouncer", "-q", ini.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Bounded wait for set-up, not a timed assertion.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::string last_error;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(
          absl::StrCat("pgbouncer exited (status ", status, "); see ", dir_, "/pgbouncer.log"));
    }
    try {
      pqxx::connection probe(Route(cluster));
      pqxx::nontransaction tx(probe);
      tx.exec("SELECT 1");
      return absl::OkStatus();
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("pgbouncer did not answer: ", last_error));
}

std::string Pgbouncer::Route(const std::string& direct_url) const {
  const Authority authority = FindAuthority(direct_url);
  return absl::StrCat(direct_url.substr(0, authority.begin), "127.0.0.1:", port_,
                      direct_url.substr(authority.end));
}

Pgbouncer::~Pgbouncer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

}  // namespace magiclink::testing
