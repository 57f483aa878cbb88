#include "server/core/token_source.h"
#include "tests/testing/sequence_token_source.h"

#include <gmock/gmock.h>

#include <set>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace magiclink
