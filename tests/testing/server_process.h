// Runs the real magiclinkd binary as a child process on a free loopback port,
// for tests that need process boundaries (restart, SIGKILL, several replicas).
//
//   ServerProcess server(MagiclinkdPath(), {"--data_dir=" + dir});
//   ASSERT_OK(server.Start());
//   auto channel = grpc::CreateChannel(server.address(), ...);
//   server.Kill(SIGKILL);
#ifndef MAGICLINK_TESTS_TESTING_SERVER_PROCESS_H_
#define MAGICLINK_TESTS_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace magiclink::testing {

// The magiclinkd binary under test: $MAGICLINKD, set by CTest.
std::string MagiclinkdPath();

// A loopback port nothing listens on now (bound, read and released), for a
// child that cannot report the port it bound (nginx, Prometheus, pgbouncer);
// 0 if none could be had.
int UnusedLoopbackPort();

class ServerProcess {
 public:
  // `args` are passed after --listen=127.0.0.1:0 and --port_file; stderr goes
  // to `log_path` (appended) when given.
  ServerProcess(std::string binary, std::vector<std::string> args, std::string log_path = "");
  ~ServerProcess();  // SIGKILLs a running child

  // Starts the process and waits until it serves (its port file appears), at
  // most `timeout`.
  absl::Status Start(absl::Duration timeout = absl::Seconds(20));
  // Sends `signal` and waits for the process to exit; returns its exit status
  // as waitpid() reports it.
  int Stop(int signal);
  // Sends `signal` without waiting; WaitForExit() then collects the exit.
  void SendSignal(int signal);
  int WaitForExit();

  // Sets an environment variable for the child (from the next Start on).
  void SetEnv(std::string name, std::string value) {
    env_.emplace_back(std::move(name), std::move(value));
  }

  bool running() const { return pid_ > 0; }
  // The waitpid() status of a process that exited during Start (-1 if none).
  int exit_status() const { return exit_status_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string binary_;
  std::vector<std::string> args_;
  std::string log_path_;
  std::string port_file_;
  std::vector<std::pair<std::string, std::string>> env_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
};

}  // namespace magiclink::testing

#endif  // MAGICLINK_TESTS_TESTING_SERVER_PROCESS_H_
