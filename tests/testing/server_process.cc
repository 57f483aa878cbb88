#include "tests/testing/server_process.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace magiclink::testing {

std::string MagiclinkdPath() {
  const char* path = std::getenv("MAGICLINKD");
  return path ? path : "magiclinkd";
}

ServerProcess::ServerProcess(std::string binary, std::vector<std::string> args,
                             std::string log_path)
    : binary_(std::move(binary)), args_(std::move(args)), log_path_(std::move(log_path)) {
  static int counter = 0;
  port_file_ = absl::StrCat("/tmp/magiclinkd-port-", getpid(), "-", counter++);
}

ServerProcess::~ServerProcess() {
  if (running()) Stop(SIGKILL);
  unlink(port_file_.c_str());
}

absl::Status ServerProcess::Start(absl::Duration timeout) {
  unlink(port_file_.c_str());
  std::vector<std::string> argv_strings = {binary_, "--listen=127.0.0.1:0",
                                           "--port_file=" + port_file_};
  argv_strings.insert(argv_strings.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    if (!log_path_.empty()) {
      const int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) dup2(fd, STDERR_FILENO);
    }
    for (const auto& [name, value] : env_) setenv(name.c_str(), value.c_str(), 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Polling a file the child writes: the child has no other way to say it is
  // ready, and this is test set-up, not a timed assertion.
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::ifstream in(port_file_);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = port;
      return absl::OkStatus();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return absl::InternalError(
          absl::StrCat("magiclinkd exited during start-up (status ", status, ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError("magiclinkd did not start in time");
}

int UnusedLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

int ServerProcess::Stop(int signal) {
  SendSignal(signal);
  return WaitForExit();
}

void ServerProcess::SendSignal(int signal) {
  if (running()) kill(pid_, signal);
}

int ServerProcess::WaitForExit() {
  if (!running()) return -1;
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

}  // namespace magiclink::testing
