// Runs the magiclinkctl binary under test (MAGICLINKCTL_PATH) as a child
// process with files for stdin, stdout and stderr, so tests see exactly what
// a script would: the exit code and both streams.
//
//   CtlRun run = RunCtl(dir, {"--server=" + address, "batch", "--batch=b_1"});
//   EXPECT_EQ(run.exit_code, 3);
#ifndef MAGICLINK_TESTS_CLIENT_CTL_RUNNER_H_
#define MAGICLINK_TESTS_CLIENT_CTL_RUNNER_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/testing/temp_dir.h"

namespace magiclink::ctl::testing {

struct CtlRun {
  int exit_code = -1;  // -1 when it did not exit normally (a crash)
  std::string out;
  std::string err;
};

// Runs magiclinkctl with `args`, `stdin_text` on stdin and, of the
// MAGICLINK_* variables, only those in `env` set. Uses files in `dir`.
CtlRun RunCtl(const magiclink::testing::TempDir& dir, std::vector<std::string> args,
              const std::string& stdin_text = "",
              const std::vector<std::pair<std::string, std::string>>& env = {});

// A magiclinkctl started in the background, for tests that act while it runs
// (its stderr grows in err_path); WaitCtl collects it as RunCtl would.
struct StartedCtl {
  pid_t pid = -1;
  std::string out_path;
  std::string err_path;
};
StartedCtl StartCtl(const magiclink::testing::TempDir& dir, std::vector<std::string> args,
                    const std::string& stdin_text = "",
                    const std::vector<std::pair<std::string, std::string>>& env = {});
CtlRun WaitCtl(const StartedCtl& started);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);

}  // namespace magiclink::ctl::testing

#endif  // MAGICLINK_TESTS_CLIENT_CTL_RUNNER_H_
