#include "server/core/token_source.h"
#include "tests/testing/sequence_token_source.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"

#include "server/core/crypto.h"
#include "tests/testing/status_matchers.h"

namespace magiclink {
namespace {

TEST(TokenSourceTest, NewTokensGivesDistinctFullLengthTokens) {
  CsprngTokenSource source;
  absl::StatusOr<std::vector<std::string>> tokens = source.NewTokens(1000);
  ASSERT_OK(tokens);
  ASSERT_EQ(tokens->size(), 1000u);
  std::set<std::string> distinct;
  for (const std::string& token : *tokens) {
    EXPECT_EQ(token.size(), kTokenLength);
    std::optional<std::string> bytes = Base64UrlDecode(token);
    ASSERT_TRUE(bytes.has_value()) << token;
    EXPECT_EQ(bytes->size(), kTokenBytes);
    distinct.insert(token);
  }
  EXPECT_EQ(distinct.size(), tokens->size());
}

TEST(TokenSourceTest, NewTokensSlicesTheSameRandomnessAsOneTokenAtATime) {
  SequenceTokenSource batched(7);
  SequenceTokenSource one_by_one(7);
  absl::StatusOr<std::vector<std::string>> tokens = batched.NewTokens(5);
  ASSERT_OK(tokens);
  ASSERT_EQ(tokens->size(), 5u);
  for (const std::string& token : *tokens) EXPECT_EQ(token, *one_by_one.NewToken());
}

TEST(TokenSourceTest, NewTokensOfZeroIsEmpty) {
  CsprngTokenSource source;
  absl::StatusOr<std::vector<std::string>> tokens = source.NewTokens(0);
  ASSERT_OK(tokens);
  EXPECT_TRUE(tokens->empty());
}

TEST(TokenSourceTest, BatchIdsAreB_And22Base64UrlCharacters) {
  CsprngTokenSource source;
  const absl::Time now = absl::FromUnixMillis(1796225401499);
  std::set<std::string> distinct;
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<std::string> id = source.NewBatchId(now);
    ASSERT_OK(id);
    EXPECT_THAT(*id, ::testing::MatchesRegex("b_[-_A-Za-z0-9]{22}"));
    distinct.insert(*id);
  }
  EXPECT_EQ(distinct.size(), 1000u) << "ids made in the same millisecond must still differ";
}

TEST(TokenSourceTest, BatchIdsBeginWithTheirMillisecondInByteOrder) {
  SequenceTokenSource source(3);
  EXPECT_EQ(source.NewBatchId(absl::UnixEpoch())->substr(0, 10), "b_--------");
  EXPECT_EQ(source.NewBatchId(absl::FromUnixMillis(63))->substr(0, 10), "b_-------z");
  EXPECT_EQ(source.NewBatchId(absl::FromUnixMillis(64))->substr(0, 10), "b_------0-");
  EXPECT_EQ(source.NewBatchId(absl::FromUnixMillis((int64_t{1} << 48) - 1))->substr(0, 10),
            "b_zzzzzzzz");
  // Before 1970 is not a time a batch is made at; it does not wrap around.
  EXPECT_EQ(source.NewBatchId(absl::FromUnixMillis(-5))->substr(0, 10), "b_--------");
}

TEST(TokenSourceTest, LaterBatchIdsSortAfterEarlierOnesByteWise) {
  CsprngTokenSource source;
  std::mt19937_64 random(11);
  const int64_t start = 1796225401499;  // 2026-12-02
  std::vector<std::pair<int64_t, std::string>> made;
  for (int i = 0; i < 2000; ++i) {
    // Neighbouring milliseconds, and steps across every character position.
    const int64_t millis = start + (i % 2 == 0 ? i : int64_t(random() % (int64_t{1} << 40)));
    made.emplace_back(millis, *source.NewBatchId(absl::FromUnixMillis(millis)));
  }
  std::sort(made.begin(), made.end());
  for (size_t i = 1; i < made.size(); ++i) {
    if (made[i - 1].first == made[i].first) continue;
    EXPECT_LT(made[i - 1].second, made[i].second)
        << made[i - 1].first << " ms against " << made[i].first << " ms";
  }
}

TEST(TokenSourceTest, BatchIdsTakeTheirRandomPartFromTheSource) {
  SequenceTokenSource a(7), b(7), c(8);
  const absl::Time now = absl::FromUnixMillis(1796225401499);
  const std::string from_a = *a.NewBatchId(now);
  EXPECT_EQ(from_a, *b.NewBatchId(now));
  const std::string from_c = *c.NewBatchId(now);
  EXPECT_EQ(from_a.substr(0, 10), from_c.substr(0, 10));
  EXPECT_NE(from_a.substr(10), from_c.substr(10));
}

}  // namespace
}  // namespace magiclink
