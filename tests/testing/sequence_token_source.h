// A deterministic TokenSource for tests: the same seed gives the same tokens
// and batch ids in every run.
//
//   SequenceTokenSource tokens(/*seed=*/7);
#ifndef MAGICLINK_TESTS_TESTING_SEQUENCE_TOKEN_SOURCE_H_
#define MAGICLINK_TESTS_TESTING_SEQUENCE_TOKEN_SOURCE_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/core/crypto.h"
#include "server/core/token_source.h"

namespace magiclink {

// A deterministic, thread-safe source for tests: a counter run through SHA-256.
// Never use it outside tests.
class SequenceTokenSource final : public TokenSource {
 public:
  explicit SequenceTokenSource(uint64_t seed = 0) : next_(seed) {}
  absl::StatusOr<std::string> Bytes(size_t n) override {
    std::string out;
    while (out.size() < n) {
      uint64_t counter;
      {
        absl::MutexLock lock(&mu_);
        counter = next_++;
      }
      out += Sha256(absl::StrCat("magiclink-test-sequence-", counter));
    }
    out.resize(n);
    return out;
  }

 private:
  absl::Mutex mu_;
  uint64_t next_ ABSL_GUARDED_BY(mu_);
};

}  // namespace magiclink

#endif  // MAGICLINK_TESTS_TESTING_SEQUENCE_TOKEN_SOURCE_H_
