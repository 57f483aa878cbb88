// The TokenStore contract suite; see token_store_contract.h.
#include "tests/store/token_store_contract.h"

#include <gmock/gmock.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/core/crypto.h"
#include "tests/testing/status_matchers.h"

namespace magiclink::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::Optional;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
const absl::Duration kTtl = absl::Hours(1);
const absl::Duration kWindow = absl::Hours(24);

std::string Hash(absl::string_view label) { return Sha256(label); }

// A batch of tokens whose hashes are Hash("<batch_id>/<position>").
NewBatch MakeBatch(const std::string& batch_id, const std::vector<std::string>& emails,
                   absl::Time created_at = kT0, const std::string& purpose = "invite",
                   std::vector<int> positions = {}) {
  NewBatch b;
  b.batch_id = batch_id;
  b.issued_by = "caller-a";
  b.purpose = purpose;
  b.redirect_url = "https://app.example.com/welcome";
  b.created_at = created_at;
  b.expires_at = created_at + kTtl;
  for (size_t i = 0; i < emails.size(); ++i) {
    const int position = positions.empty() ? static_cast<int>(i) : positions[i];
    b.tokens.push_back({Hash(absl::StrCat(batch_id, "/", position)),
                        "k1",
                        position,
                        emails[i],
                        {{"team", "blue"}, {"n", absl::StrCat(position)}}});
  }
  return b;
}

std::vector<std::string> Candidates(const std::string& batch_id, int position) {
  // A stale-key candidate first, as the keyring produces after rotation.
  return {Hash("no such token"), Hash(absl::StrCat(batch_id, "/", position))};
}

TEST_P(TokenStoreContractTest, PingSucceeds) { EXPECT_OK(store_->Ping(kNoDeadline)); }

TEST_P(TokenStoreContractTest, InsertedTokenIsFoundWithAllClaims) {
  NewBatch batch = MakeBatch("b1", {"a@example.com", "b@example.com"});
  batch.tokens[1].metadata = {{"quote", "\"x\"\n\t\\"},
                              {"unicode", "caf\xC3\xA9 \xF0\x9F\x98\x80"}};
  ASSERT_OK(store_->InsertBatch(batch, kT0, kWindow, kNoDeadline));

  absl::StatusOr<std::optional<TokenClaims>> found =
      store_->FindToken(Candidates("b1", 1), kNoDeadline);
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  const TokenClaims& c = **found;
  EXPECT_EQ(c.batch_id, "b1");
  EXPECT_EQ(c.position, 1);
  EXPECT_EQ(c.email, "b@example.com");
  EXPECT_EQ(c.purpose, "invite");
  EXPECT_EQ(c.metadata, batch.tokens[1].metadata);
  EXPECT_EQ(c.redirect_url, "https://app.example.com/welcome");
  EXPECT_EQ(c.issued_at, kT0);
  EXPECT_EQ(c.expires_at, kT0 + kTtl);
  EXPECT_FALSE(c.consumed_at.has_value());
  EXPECT_FALSE(c.revoked_at.has_value());
}

TEST_P(TokenStoreContractTest, UnknownTokenIsNotFound) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("b1", {"a@example.com"}), kT0, kWindow, kNoDeadline));
  absl::StatusOr<std::optional<TokenClaims>> found =
      store_->FindToken({Hash("unknown")}, kNoDeadline);
  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());
  absl::StatusOr<ConsumeResult> consumed =
      store_->ConsumeToken({Hash("unknown")}, {}, kT0, kNoDeadline);
  ASSERT_OK(consumed);
  EXPECT_FALSE(consumed->consumed);
  EXPECT_FALSE(consumed->claims.has_value());
}

TEST_P(TokenStoreContractTest, ConsumeSucceedsOnceAndRecordsConsumeKey) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("b1", {"a@example.com"}), kT0, kWindow, kNoDeadline));
  const absl::Time when = kT0 + absl::Minutes(5);
  absl::StatusOr<ConsumeResult> first =
      store_->ConsumeToken(Candidates("b1", 0), {"", "key-hash"}, when, kNoDeadline);
  ASSERT_OK(first);
  EXPECT_TRUE(first->consumed);
  ASSERT_TRUE(first->claims.has_value());
  EXPECT_THAT(first->claims->consumed_at, Optional(when));
  EXPECT_EQ(first->claims->consume_key_hash, "key-hash");

  absl::StatusOr<ConsumeResult> second = store_->ConsumeToken(Candidates("b1", 0), {"", "other"},
                                                              when + absl::Seconds(1), kNoDeadline);
  ASSERT_OK(second);
  EXPECT_FALSE(second->consumed);
  ASSERT_TRUE(second->claims.has_value());
  EXPECT_THAT(second->claims->consumed_at, Optional(when));
  EXPECT_EQ(second->claims->consume_key_hash, "key-hash");
}

TEST_P(TokenStoreContractTest, ConsumeRefusesTokenAtItsExactExpiry) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("b1", {"a@example.com", "b@example.com"}), kT0, kWindow,
                                kNoDeadline));
  absl::StatusOr<ConsumeResult> at_expiry =
      store_->ConsumeToken(Candidates("b1", 0), {}, kT0 + kTtl, kNoDeadline);
  ASSERT_OK(at_expiry);
  EXPECT_FALSE(at_expiry->consumed);
  EXPECT_FALSE(at_expiry->claims->consumed_at.has_value());

  absl::StatusOr<ConsumeResult> just_before = store_->ConsumeToken(
      Candidates("b1", 1), {}, kT0 + kTtl - absl::Microseconds(1), kNoDeadline);
  ASSERT_OK(just_before);
  EXPECT_TRUE(just_before->consumed);
}

TEST_P(TokenStoreContractTest, ConsumeWithWrongPurposeChangesNothing) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("b1", {"a@example.com"}), kT0, kWindow, kNoDeadline));
  absl::StatusOr<ConsumeResult> wrong =
      store_->ConsumeToken(Candidates("b1", 0), {"login", ""}, kT0, kNoDeadline);
  ASSERT_OK(wrong);
  EXPECT_FALSE(wrong->consumed);
  EXPECT_FALSE(wrong->claims->consumed_at.has_value());

  absl::StatusOr<ConsumeResult> right =
      store_->ConsumeToken(Candidates("b1", 0), {"invite", ""}, kT0, kNoDeadline);
  ASSERT_OK(right);
  EXPECT_TRUE(right->consumed);
}

TEST_P(TokenStoreContractTest, RevokedTokenCannotBeConsumed) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("b1", {"a@example.com"}), kT0, kWindow, kNoDeadline));
  RevokeTarget target;
  target.token_hashes = Candidates("b1", 0);
  EXPECT_THAT(store_->Revoke(target, kT0, kNoDeadline), ::testing::Eq(absl::StatusOr<int64_t>(1)));
  absl::StatusOr<ConsumeResult> consumed =
      store_->ConsumeToken(Candidates("b1", 0), {}, kT0, kNoDeadline);
  ASSERT_OK(consumed);
  EXPECT_FALSE(consumed->consumed);
  EXPECT_THAT(consumed->claims->revoked_at, Optional(kT0));
}

TEST_P(TokenStoreContractTest, RequestIdReturnsTheExistingBatchAndWritesNothing) {
  NewBatch first = MakeBatch("b1", {"a@example.com"});
  first.request_id = "req-1";
  first.request_fingerprint = "fp";
  first.replay_sealed = "sealed";
  absl::StatusOr<InsertBatchResult> r1 = store_->InsertBatch(first, kT0, kWindow, kNoDeadline);
  ASSERT_OK(r1);
  EXPECT_FALSE(r1->existing.has_value());

  NewBatch retry = MakeBatch("b2", {"a@example.com"});
  retry.request_id = "req-1";
  retry.request_fingerprint = "fp2";
  retry.replay_sealed = "sealed2";
  absl::StatusOr<InsertBatchResult> r2 =
      store_->InsertBatch(retry, kT0 + absl::Hours(23), kWindow, kNoDeadline);
  ASSERT_OK(r2);
  ASSERT_TRUE(r2->existing.has_value());
  EXPECT_EQ(r2->existing->batch_id, "b1");
  EXPECT_EQ(r2->existing->request_fingerprint, "fp");
  EXPECT_EQ(r2->existing->replay_sealed, "sealed");
  EXPECT_EQ(r2->existing->created_at, kT0);

  absl::StatusOr<std::optional<BatchSummary>> b2 = store_->GetBatch("b2", kT0, kNoDeadline);
  ASSERT_OK(b2);
  EXPECT_FALSE(b2->has_value());
  absl::StatusOr<std::optional<TokenClaims>> token =
      store_->FindToken(Candidates("b2", 0), kNoDeadline);
  ASSERT_OK(token);
  EXPECT_FALSE(token->has_value());
}

TEST_P(TokenStoreContractTest, RequestIdsAreScopedToTheCaller) {
  NewBatch a = MakeBatch("b1", {"a@example.com"});
  a.request_id = "req-1";
  NewBatch b = MakeBatch("b2", {"a@example.com"});
  b.request_id = "req-1";
  b.issued_by = "caller-b";
  ASSERT_OK(store_->InsertBatch(a, kT0, kWindow, kNoDeadline));
  absl::StatusOr<InsertBatchResult> r = store_->InsertBatch(b, kT0, kWindow, kNoDeadline);
  ASSERT_OK(r);
  EXPECT_FALSE(r->existing.has_value());
}

TEST_P(TokenStoreContractTest, RequestIdIsForgottenAfterTheWindow) {
  NewBatch first = MakeBatch("b1", {"a@example.com"});
  first.request_id = "req-1";
  ASSERT_OK(store_->InsertBatch(first, kT0, kWindow, kNoDeadline));
  NewBatch later = MakeBatch("b2", {"a@example.com"}, kT0 + kWindow);
  later.request_id = "req-1";
  absl::StatusOr<InsertBatchResult> r =
      store_->InsertBatch(later, kT0 + kWindow, kWindow, kNoDeadline);
  ASSERT_OK(r);
  EXPECT_FALSE(r->existing.has_value());
  absl::StatusOr<std::optional<BatchSummary>> b2 =
      store_->GetBatch("b2", kT0 + kWindow, kNoDeadline);
  ASSERT_OK(b2);
  EXPECT_TRUE(b2->has_value());
}

TEST_P(TokenStoreContractTest, FailedInsertLeavesNothingBehind) {
  NewBatch batch = MakeBatch("b1", {"a@example.com", "b@example.com"});
  batch.tokens[1].token_hash = batch.tokens[0].token_hash;  // violates the primary key
  EXPECT_FALSE(store_->InsertBatch(batch, kT0, kWindow, kNoDeadline).ok());
  absl::StatusOr<std::optional<BatchSummary>> summary = store_->GetBatch("b1", kT0, kNoDeadline);
  ASSERT_OK(summary);
  EXPECT_FALSE(summary->has_value());
  absl::StatusOr<std::optional<TokenClaims>> token =
      store_->FindToken(Candidates("b1", 0), kNoDeadline);
  ASSERT_OK(token);
  EXPECT_FALSE(token->has_value());
}

TEST_P(TokenStoreContractTest, RevokePreviousRevokesOnlyLiveTokensOfThatPurpose) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("old", {"a@example.com", "b@example.com"}), kT0, kWindow,
                                kNoDeadline));
  ASSERT_OK(store_->InsertBatch(MakeBatch("login", {"a@example.com"}, kT0, "login"), kT0, kWindow,
                                kNoDeadline));
  ASSERT_OK(store_->ConsumeToken(Candidates("old", 1), {}, kT0, kNoDeadline));  // b: already used

  NewBatch fresh = MakeBatch("new", {"a@example.com", "b@example.com"}, kT0 + absl::Minutes(1));
  fresh.revoke_previous = true;
  absl::StatusOr<InsertBatchResult> r =
      store_->InsertBatch(fresh, kT0 + absl::Minutes(1), kWindow, kNoDeadline);
  ASSERT_OK(r);
  EXPECT_EQ(r->revoked_previous, 1);

  const absl::Time now = kT0 + absl::Minutes(2);
  EXPECT_TRUE((*store_->FindToken(Candidates("old", 0), kNoDeadline))->revoked_at.has_value());
  EXPECT_FALSE((*store_->FindToken(Candidates("login", 0), kNoDeadline))->revoked_at.has_value());
  EXPECT_FALSE((*store_->FindToken(Candidates("new", 0), kNoDeadline))->revoked_at.has_value());
  absl::StatusOr<ConsumeResult> fresh_consume =
      store_->ConsumeToken(Candidates("new", 0), {}, now, kNoDeadline);
  ASSERT_OK(fresh_consume);
  EXPECT_TRUE(fresh_consume->consumed);
}

TEST_P(TokenStoreContractTest, RevokeCountsOnlyOutstandingTokensAndIsIdempotent) {
  ASSERT_OK(
      store_->InsertBatch(MakeBatch("b1", {"a@example.com", "b@example.com", "c@example.com"}), kT0,
                          kWindow, kNoDeadline));
  ASSERT_OK(store_->ConsumeToken(Candidates("b1", 0), {}, kT0, kNoDeadline));
  RevokeTarget by_batch;
  by_batch.batch_id = "b1";
  EXPECT_EQ(*store_->Revoke(by_batch, kT0, kNoDeadline), 2);
  EXPECT_EQ(*store_->Revoke(by_batch, kT0, kNoDeadline), 0);
  RevokeTarget unknown;
  unknown.batch_id = "nope";
  EXPECT_EQ(*store_->Revoke(unknown, kT0, kNoDeadline), 0);
}

TEST_P(TokenStoreContractTest, RevokeByEmailHonoursThePurposeFilter) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("i", {"a@example.com", "b@example.com"}), kT0, kWindow,
                                kNoDeadline));
  ASSERT_OK(store_->InsertBatch(MakeBatch("l", {"a@example.com"}, kT0, "login"), kT0, kWindow,
                                kNoDeadline));
  RevokeTarget narrow;
  narrow.email = "a@example.com";
  narrow.purpose = "login";
  EXPECT_EQ(*store_->Revoke(narrow, kT0, kNoDeadline), 1);
  RevokeTarget wide;
  wide.email = "a@example.com";
  EXPECT_EQ(*store_->Revoke(wide, kT0, kNoDeadline), 1);  // the invite one is left
  EXPECT_EQ(*store_->Revoke(wide, kT0, kNoDeadline), 0);
  EXPECT_FALSE((*store_->FindToken(Candidates("i", 1), kNoDeadline))->revoked_at.has_value());
}

TEST_P(TokenStoreContractTest, ExpiredTokensAreNotRevoked) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("b1", {"a@example.com"}), kT0, kWindow, kNoDeadline));
  RevokeTarget target;
  target.token_hashes = Candidates("b1", 0);
  EXPECT_EQ(*store_->Revoke(target, kT0 + kTtl, kNoDeadline), 0);
}

TEST_P(TokenStoreContractTest, GetBatchCountsLinksByStateAtTheGivenTime) {
  NewBatch batch = MakeBatch("b1", {"a@x.io", "b@x.io", "c@x.io", "d@x.io"});
  ASSERT_OK(store_->InsertBatch(batch, kT0, kWindow, kNoDeadline));
  ASSERT_OK(store_->ConsumeToken(Candidates("b1", 0), {}, kT0, kNoDeadline));
  RevokeTarget target;
  target.token_hashes = Candidates("b1", 1);
  ASSERT_OK(store_->Revoke(target, kT0, kNoDeadline));

  absl::StatusOr<std::optional<BatchSummary>> before =
      store_->GetBatch("b1", kT0 + kTtl - absl::Seconds(1), kNoDeadline);
  ASSERT_OK(before);
  ASSERT_TRUE(before->has_value());
  EXPECT_EQ((*before)->purpose, "invite");
  EXPECT_EQ((*before)->issued_by, "caller-a");
  EXPECT_EQ((*before)->created_at, kT0);
  EXPECT_EQ((*before)->total, 4);
  EXPECT_EQ((*before)->outstanding, 2);
  EXPECT_EQ((*before)->consumed, 1);
  EXPECT_EQ((*before)->revoked, 1);
  EXPECT_EQ((*before)->expired, 0);

  absl::StatusOr<std::optional<BatchSummary>> after =
      store_->GetBatch("b1", kT0 + kTtl, kNoDeadline);
  ASSERT_OK(after);
  EXPECT_EQ((*after)->outstanding, 0);
  EXPECT_EQ((*after)->expired, 2);
  EXPECT_EQ((*after)->consumed, 1);
  EXPECT_EQ((*after)->revoked, 1);
}

TEST_P(TokenStoreContractTest, UnknownBatchIsNotFound) {
  absl::StatusOr<std::optional<BatchSummary>> summary = store_->GetBatch("nope", kT0, kNoDeadline);
  ASSERT_OK(summary);
  EXPECT_FALSE(summary->has_value());
  absl::StatusOr<std::optional<LinkPage>> page =
      store_->ListLinks("nope", std::nullopt, -1, 10, kT0, kNoDeadline);
  ASSERT_OK(page);
  EXPECT_FALSE(page->has_value());
}

std::vector<int> Positions(const LinkPage& page) {
  std::vector<int> out;
  for (const LinkRecord& l : page.links) out.push_back(l.position);
  return out;
}

TEST_P(TokenStoreContractTest, ListLinksPagesInPositionOrder) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("b1", {"a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"},
                                          kT0, "invite", {0, 2, 3, 5, 6}),
                                kT0, kWindow, kNoDeadline));
  LinkPage p1 = **store_->ListLinks("b1", std::nullopt, -1, 2, kT0, kNoDeadline);
  EXPECT_THAT(Positions(p1), ElementsAre(0, 2));
  EXPECT_TRUE(p1.more);
  LinkPage p2 = **store_->ListLinks("b1", std::nullopt, 2, 2, kT0, kNoDeadline);
  EXPECT_THAT(Positions(p2), ElementsAre(3, 5));
  EXPECT_TRUE(p2.more);
  LinkPage p3 = **store_->ListLinks("b1", std::nullopt, 5, 2, kT0, kNoDeadline);
  EXPECT_THAT(Positions(p3), ElementsAre(6));
  EXPECT_FALSE(p3.more);
  EXPECT_EQ(p3.links[0].email, "e@x.io");
  EXPECT_EQ(p3.links[0].issued_at, kT0);
  EXPECT_EQ(p3.links[0].expires_at, kT0 + kTtl);
}

TEST_P(TokenStoreContractTest, ListLinksFiltersByState) {
  ASSERT_OK(store_->InsertBatch(MakeBatch("b1", {"a@x.io", "b@x.io", "c@x.io"}), kT0, kWindow,
                                kNoDeadline));
  ASSERT_OK(store_->ConsumeToken(Candidates("b1", 1), {}, kT0, kNoDeadline));
  RevokeTarget target;
  target.token_hashes = Candidates("b1", 2);
  ASSERT_OK(store_->Revoke(target, kT0, kNoDeadline));
  const absl::Time now = kT0 + absl::Minutes(1);
  EXPECT_THAT(
      Positions(**store_->ListLinks("b1", TokenState::kOutstanding, -1, 10, now, kNoDeadline)),
      ElementsAre(0));
  LinkPage consumed = **store_->ListLinks("b1", TokenState::kConsumed, -1, 10, now, kNoDeadline);
  EXPECT_THAT(Positions(consumed), ElementsAre(1));
  EXPECT_THAT(consumed.links[0].consumed_at, Optional(kT0));
  LinkPage revoked = **store_->ListLinks("b1", TokenState::kRevoked, -1, 10, now, kNoDeadline);
  EXPECT_THAT(Positions(revoked), ElementsAre(2));
  EXPECT_THAT(revoked.links[0].revoked_at, Optional(kT0));
  EXPECT_THAT(Positions(**store_->ListLinks("b1", TokenState::kExpired, -1, 10, now, kNoDeadline)),
              ElementsAre());
  EXPECT_THAT(
      Positions(**store_->ListLinks("b1", TokenState::kExpired, -1, 10, kT0 + kTtl, kNoDeadline)),
      ElementsAre(0));
}

TEST_P(TokenStoreContractTest, BatchLinksListsEveryLinkInOrder) {
  ASSERT_OK(
      store_->InsertBatch(MakeBatch("b1", {"a@x.io", "b@x.io", "c@x.io"}, kT0, "invite", {4, 1, 2}),
                          kT0, kWindow, kNoDeadline));
  absl::StatusOr<std::vector<LinkRecord>> links = store_->BatchLinks("b1", kNoDeadline);
  ASSERT_OK(links);
  ASSERT_EQ(links->size(), 3u);
  EXPECT_THAT(*links, ElementsAre(Field(&LinkRecord::position, 1), Field(&LinkRecord::position, 2),
                                  Field(&LinkRecord::position, 4)));
  EXPECT_EQ((*links)[0].email, "b@x.io");
}

TEST_P(TokenStoreContractTest, SweepDeletesOnlyWhatOutlivedRetentionInChunks) {
  // Three old tokens that expired long ago, one fresh batch.
  ASSERT_OK(store_->InsertBatch(MakeBatch("old", {"a@x.io", "b@x.io", "c@x.io"}), kT0, kWindow,
                                kNoDeadline));
  NewBatch fresh = MakeBatch("fresh", {"a@x.io"}, kT0 + absl::Hours(100));
  fresh.request_id = "r";
  fresh.replay_sealed = "sealed";
  fresh.request_fingerprint = "fp";
  ASSERT_OK(store_->InsertBatch(fresh, kT0 + absl::Hours(100), kWindow, kNoDeadline));

  const absl::Time cutoff = kT0 + absl::Hours(50);
  absl::StatusOr<SweepResult> first = store_->Sweep(cutoff, kT0, 2, kNoDeadline);
  ASSERT_OK(first);
  EXPECT_EQ(first->tokens_deleted, 2);
  absl::StatusOr<SweepResult> second = store_->Sweep(cutoff, kT0, 2, kNoDeadline);
  ASSERT_OK(second);
  EXPECT_EQ(second->tokens_deleted, 1);
  absl::StatusOr<SweepResult> third = store_->Sweep(cutoff, kT0, 2, kNoDeadline);
  ASSERT_OK(third);
  EXPECT_EQ(third->tokens_deleted, 0);
  EXPECT_EQ(first->batches_deleted + second->batches_deleted + third->batches_deleted, 1);
  EXPECT_FALSE((*store_->GetBatch("old", cutoff, kNoDeadline)).has_value());
  EXPECT_TRUE((*store_->FindToken(Candidates("fresh", 0), kNoDeadline)).has_value());

  // Replay material goes once the batch is older than the replay cutoff.
  absl::StatusOr<SweepResult> purge =
      store_->Sweep(cutoff, kT0 + absl::Hours(101), 10, kNoDeadline);
  ASSERT_OK(purge);
  EXPECT_EQ(purge->replays_purged, 1);
  NewBatch retry = MakeBatch("retry", {"a@x.io"}, kT0 + absl::Hours(100));
  retry.request_id = "r";
  absl::StatusOr<InsertBatchResult> replay =
      store_->InsertBatch(retry, kT0 + absl::Hours(101), kWindow, kNoDeadline);
  ASSERT_OK(replay);
  ASSERT_TRUE(replay->existing.has_value());
  EXPECT_EQ(replay->existing->replay_sealed, "");
}

TEST_P(TokenStoreContractTest, ConcurrentConsumesOfOneTokenSucceedExactlyOnce) {
  constexpr int kTokens = 20;
  constexpr int kThreads = 16;
  std::vector<std::string> emails;
  for (int i = 0; i < kTokens; ++i) emails.push_back(absl::StrCat("u", i, "@x.io"));
  ASSERT_OK(store_->InsertBatch(MakeBatch("b1", emails), kT0, kWindow, kNoDeadline));
  for (int token = 0; token < kTokens; ++token) {
    std::atomic<int> successes{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        absl::StatusOr<ConsumeResult> r =
            store_->ConsumeToken(Candidates("b1", token), {}, kT0, kNoDeadline);
        if (!r.ok()) {
          ++errors;
        } else if (r->consumed) {
          ++successes;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(successes.load(), 1) << "token " << token;
    EXPECT_EQ(errors.load(), 0);
  }
}

TEST_P(TokenStoreContractTest, ConcurrentInsertsWithOneRequestIdCreateOneBatch) {
  constexpr int kThreads = 8;
  std::atomic<int> created{0};
  std::atomic<int> replays{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      NewBatch b = MakeBatch(absl::StrCat("b", t), {"a@x.io", "b@x.io"});
      b.request_id = "same";
      absl::StatusOr<InsertBatchResult> r = store_->InsertBatch(b, kT0, kWindow, kNoDeadline);
      if (r.ok() && r->existing) ++replays;
      if (r.ok() && !r->existing) ++created;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(replays.load(), kThreads - 1);
}

TEST_P(TokenStoreContractTest, KeyChecksAreRecordedOncePerKeyIdAndTheFirstStays) {
  auto record = [&](const std::vector<KeyCheck>& checks) {
    absl::StatusOr<std::vector<KeyCheck>> recorded = store_->RecordKeyChecks(checks, kNoDeadline);
    EXPECT_OK(recorded.status());
    return recorded.ok() ? *recorded : std::vector<KeyCheck>{{"failed", ""}};
  };
  EXPECT_THAT(record({}), ElementsAre());
  EXPECT_THAT(record({{"k1", "aa"}}), ElementsAre(KeyCheck{"k1", "aa"}));
  // Another value under a recorded id never replaces it; a new id is added.
  EXPECT_THAT(record({{"k1", "bb"}, {"k2", "cc"}}),
              ElementsAre(KeyCheck{"k1", "aa"}, KeyCheck{"k2", "cc"}));
  EXPECT_THAT(record({}), ElementsAre(KeyCheck{"k1", "aa"}, KeyCheck{"k2", "cc"}));
}

}  // namespace
}  // namespace magiclink::testing
