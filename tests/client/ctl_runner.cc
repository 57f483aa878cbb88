#include "tests/client/ctl_runner.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace magiclink::ctl::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

StartedCtl StartCtl(const magiclink::testing::TempDir& dir, std::vector<std::string> args,
                    const std::string& stdin_text,
                    const std::vector<std::pair<std::string, std::string>>& env) {
  const std::string in_path = dir.File("ctl.stdin");
  StartedCtl started;
  started.out_path = dir.File("ctl.stdout");
  started.err_path = dir.File("ctl.stderr");
  WriteFile(in_path, stdin_text);
  args.insert(args.begin(), MAGICLINKCTL_PATH);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  started.pid = fork();
  if (started.pid == 0) {
    dup2(open(in_path.c_str(), O_RDONLY), STDIN_FILENO);
    dup2(open(started.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), STDOUT_FILENO);
    dup2(open(started.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), STDERR_FILENO);
    unsetenv("MAGICLINK_SERVER");
    unsetenv("MAGICLINK_API_KEY");
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return started;
}

CtlRun WaitCtl(const StartedCtl& started) {
  int status = 0;
  waitpid(started.pid, &status, 0);
  CtlRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(started.out_path);
  run.err = ReadFile(started.err_path);
  return run;
}

CtlRun RunCtl(const magiclink::testing::TempDir& dir, std::vector<std::string> args,
              const std::string& stdin_text,
              const std::vector<std::pair<std::string, std::string>>& env) {
  return WaitCtl(StartCtl(dir, std::move(args), stdin_text, env));
}

}  // namespace magiclink::ctl::testing
