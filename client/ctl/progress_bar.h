// Validation and issue progress on stderr. On a terminal one line redraws
// itself
//   issuing [##########----------]  5000/10000  50%
// elsewhere (a log file, with --progress) each chunk prints its own line
//   issued 5000/10000 recipients (chunk 5 of 10)
// so the log stays readable.
#ifndef MAGICLINK_CLIENT_CTL_PROGRESS_BAR_H_
#define MAGICLINK_CLIENT_CTL_PROGRESS_BAR_H_

#include <cstddef>
#include <ostream>

#include "magiclink/client/client.h"

namespace magiclink::ctl {

class ProgressBar {
 public:
  // What the chunks are being sent for: a validate_only pass, or issuing.
  enum class Phase { kValidate, kIssue };

  // `redraw`: draw in place with '\r' (for a terminal).
  ProgressBar(std::ostream& out, bool redraw, Phase phase = Phase::kIssue)
      : out_(out), redraw_(redraw), phase_(phase) {}

  void Update(const client::IssueProgress& progress);
  // Ends the in-place line, so later messages start on a fresh one.
  void Finish();

 private:
  std::ostream& out_;
  const bool redraw_;
  const Phase phase_;
  bool drawn_ = false;
};

}  // namespace magiclink::ctl

#endif  // MAGICLINK_CLIENT_CTL_PROGRESS_BAR_H_
