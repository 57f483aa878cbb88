#include "client/ctl/progress_bar.h"

#include <string>

#include "absl/strings/str_format.h"

namespace magiclink::ctl {

void ProgressBar::Update(const client::IssueProgress& progress) {
  constexpr size_t kWidth = 30;
  const size_t total = progress.recipients_total == 0 ? 1 : progress.recipients_total;
  const size_t filled = progress.recipients_done * kWidth / total;
  const size_t percent = progress.recipients_done * 100 / total;
  if (redraw_) {
    out_ << absl::StrFormat("\r%s [%s%s] %*zu/%zu %3zu%%",
                            phase_ == Phase::kValidate ? "validating" : "issuing",
                            std::string(filled, '#'), std::string(kWidth - filled, '-'),
                            static_cast<int>(std::to_string(progress.recipients_total).size()),
                            progress.recipients_done, progress.recipients_total, percent)
         << std::flush;
    drawn_ = true;
  } else {
    out_ << absl::StrFormat("%s %zu/%zu recipients (chunk %zu of %zu%s)\n",
                            phase_ == Phase::kValidate ? "validated" : "issued",
                            progress.recipients_done, progress.recipients_total,
                            progress.chunk_index + 1, progress.chunk_count,
                            progress.replayed ? ", replayed" : "")
         << std::flush;
  }
}

void ProgressBar::Finish() {
  if (drawn_) out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace magiclink::ctl
