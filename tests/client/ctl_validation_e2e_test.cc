// magiclinkctl issue on a 25,000-row list against a real magiclinkd (SQLite):
// the whole list is validated before anything is issued, --skip_invalid
// issues the rest and writes a rejects file, and a run whose server dies
// part-way resumes without giving anyone a second link. Each test has a
// server and database of its own, so what the database holds is exactly
// what the test's runs issued.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/ctl/text_formats.h"
#include "magiclink/client/client.h"
#include "tests/client/ctl_runner.h"
#include "tests/testing/issue_requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::ctl {
namespace {

using ::magiclink::ctl::testing::CtlRun;
using ::magiclink::ctl::testing::ReadFile;
using ::magiclink::ctl::testing::RunCtl;
using ::magiclink::ctl::testing::StartCtl;
using ::magiclink::ctl::testing::StartedCtl;
using ::magiclink::ctl::testing::WaitCtl;
using ::magiclink::ctl::testing::WriteFile;
using ::magiclink::testing::Email;
using ::magiclink::testing::MagiclinkdPath;
using ::magiclink::testing::ServerProcess;
using ::magiclink::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr size_t kRows = 25000;

// A header and kRows recipients, the one on input line L being user<L>; the
// rows on lines 2, 12,001 and 25,001 are bad: no '@', a repeat of line 3's
// address (in another chunk), a one-label domain.
std::string ListWithThreeBadRows() {
  std::string csv = "email,name\n";
  for (size_t line = 2; line <= kRows + 1; ++line) {
    std::string email = Email(line);
    if (line == 2) email = "not-an-email";
    if (line == 12001) email = Email(3);
    if (line == 25001) email = "x@localhost";
    absl::StrAppend(&csv, email, ",User ", line, "\n");
  }
  return csv;
}

struct StoredTokens {
  int64_t tokens = -1;
  int64_t distinct_emails = -1;
  int64_t batches = -1;
};

class CtlValidationE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.File("in.csv"), ListWithThreeBadRows());
    StartServer();
  }

  void StartServer() {
    server_ = std::make_unique<ServerProcess>(
        MagiclinkdPath(), std::vector<std::string>{"--data_dir=" + data_.path()},
        data_.File("server.log"));
    ASSERT_TRUE(server_->Start().ok());
  }

  std::vector<std::string> IssueArgs(const std::string& request_id) {
    return {"--server=" + server_->address(),
            "issue",
            "--purpose=invite",
            "--redirect_url=http://localhost:3000/welcome",
            "--input=" + dir_.File("in.csv"),
            "--request_id=" + request_id,
            "--output=" + dir_.File("links.csv")};
  }

  // What the server's database holds, read straight from its file.
  StoredTokens Stored() {
    StoredTokens out;
    sqlite3* db = nullptr;
    sqlite3_open_v2(data_.File("magiclink.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT (SELECT count(*) FROM tokens), "
                       "(SELECT count(DISTINCT email) FROM tokens), (SELECT count(*) FROM batches)",
                       -1, &stmt, nullptr);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      out.tokens = sqlite3_column_int64(stmt, 0);
      out.distinct_emails = sqlite3_column_int64(stmt, 1);
      out.batches = sqlite3_column_int64(stmt, 2);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  std::vector<CsvRow> Csv(const std::string& path) {
    absl::StatusOr<std::vector<CsvRow>> rows = ParseCsv(ReadFile(path));
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<CsvRow>{};
  }

  // Checks links.csv holds one link for every valid row, and that ListLinks,
  // over every batch the file names, shows each address exactly once.
  void ExpectOneLinkPerValidRow() {
    const std::vector<CsvRow> rows = Csv(dir_.File("links.csv"));
    ASSERT_THAT(rows, SizeIs(kRows - 3 + 1));
    std::set<std::string> batch_ids;
    for (size_t i = 1; i < rows.size(); ++i) batch_ids.insert(rows[i].fields.at(4));
    client::ConnectionOptions options;
    options.target = server_->address();
    client::Client library(*client::MakeConnection(options));
    std::map<std::string, int> links_per_email;
    for (const std::string& batch_id : batch_ids) {
      v1::ListLinksRequest request;
      request.set_batch_id(batch_id);
      request.set_page_size(1000);
      absl::StatusOr<std::vector<v1::LinkInfo>> links = library.ListAllLinks(request);
      ASSERT_TRUE(links.ok()) << links.status();
      for (const v1::LinkInfo& link : *links) ++links_per_email[link.email()];
    }
    EXPECT_EQ(links_per_email.size(), kRows - 3);
    for (size_t line = 3; line <= kRows; ++line) {
      if (line == 12001) continue;
      ASSERT_EQ(links_per_email[Email(line)], 1) << Email(line);
    }
    const StoredTokens stored = Stored();
    EXPECT_EQ(stored.tokens, static_cast<int64_t>(kRows - 3));
    EXPECT_EQ(stored.distinct_emails, static_cast<int64_t>(kRows - 3));
    EXPECT_EQ(stored.batches, static_cast<int64_t>(batch_ids.size()));
  }

  TempDir dir_;
  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CtlValidationE2eTest, EveryBadRowIsReportedAndNothingIssuedThenSkipInvalidIssuesTheRest) {
  const CtlRun refused = RunCtl(dir_, IssueArgs("list-1"));
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("invalid line 2 (not-an-email): "));
  EXPECT_THAT(refused.err,
              HasSubstr(absl::StrCat("invalid line 12001 (", Email(3), "): duplicate of line 3")));
  EXPECT_THAT(refused.err, HasSubstr("invalid line 25001 (x@localhost): "));
  EXPECT_THAT(refused.err, HasSubstr("3 of 25000 recipient(s) are invalid; nothing was issued"));
  EXPECT_EQ(Stored().tokens, 0);
  EXPECT_EQ(Stored().batches, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("links.csv")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("links.csv.partial")));

  // The same run with --skip_invalid, same request_id: no conflict.
  std::vector<std::string> skip = IssueArgs("list-1");
  skip.push_back("--skip_invalid");
  const CtlRun issued = RunCtl(dir_, skip);
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  EXPECT_THAT(issued.err, HasSubstr("issued 24997 link(s) in 25 batch(es), rejected 3"));
  ExpectOneLinkPerValidRow();
  const std::vector<CsvRow> rejects = Csv(dir_.File("links.rejects.csv"));
  ASSERT_THAT(rejects, SizeIs(4));
  EXPECT_EQ(rejects[0].fields, (std::vector<std::string>{"line", "email", "reason"}));
  EXPECT_EQ(rejects[1].fields.at(0), "2");
  EXPECT_EQ(rejects[1].fields.at(1), "not-an-email");
  EXPECT_EQ(rejects[2].fields.at(0), "12001");
  EXPECT_EQ(rejects[2].fields.at(2), "duplicate of line 3");
  EXPECT_EQ(rejects[3].fields.at(0), "25001");
  EXPECT_EQ(rejects[3].fields.at(1), "x@localhost");
  EXPECT_FALSE(rejects[3].fields.at(2).empty());

  // Once more: every chunk replays.
  const CtlRun again = RunCtl(dir_, skip);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  ExpectOneLinkPerValidRow();
}

TEST_F(CtlValidationE2eTest, RunWhoseServerDiesAfterChunkFiveResumesWithoutASecondLink) {
  std::vector<std::string> args = IssueArgs("list-2");
  args.insert(args.begin(), "--max_attempts=2");
  args.insert(args.end(), {"--skip_invalid", "--progress"});
  const StartedCtl started = StartCtl(dir_, args);
  // Stop the CLI as soon as chunk 5 is reported, so the server dies with
  // chunk 6 at most in flight, then let the CLI find it gone.
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (ReadFile(started.err_path).find("issued 5000/25000 recipients (chunk 5 of 25)") ==
             std::string::npos &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  kill(started.pid, SIGSTOP);
  server_->Stop(SIGKILL);
  kill(started.pid, SIGCONT);
  const CtlRun stopped = WaitCtl(started);
  ASSERT_EQ(stopped.exit_code, 4) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("issued 5000/25000 recipients (chunk 5 of 25)"));
  EXPECT_THAT(stopped.err, HasSubstr("run the same command with --request_id=list-2"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("links.csv")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("links.rejects.csv")));
  const StoredTokens partial = Stored();
  EXPECT_GE(partial.tokens, 4999);  // chunk 1 lacks line 2
  EXPECT_LT(partial.tokens, static_cast<int64_t>(kRows - 3));

  // The printed command, against the restarted server (another port).
  StartServer();
  std::vector<std::string> resumed = IssueArgs("list-2");
  resumed.insert(resumed.end(), {"--skip_invalid", "--progress"});
  const CtlRun run = RunCtl(dir_, resumed);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("issued 5000/25000 recipients (chunk 5 of 25, replayed)"));
  EXPECT_THAT(run.err, HasSubstr("issued 25000/25000 recipients (chunk 25 of 25)\n"));
  ExpectOneLinkPerValidRow();
  EXPECT_THAT(Csv(dir_.File("links.rejects.csv")), SizeIs(4));
}

}  // namespace
}  // namespace magiclink::ctl
