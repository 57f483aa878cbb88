#include "server/core/issue_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/testing/reason_matchers.h"

namespace magiclink {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using testing::StatusIs;

class IssueRulesTest : public ::testing::Test {
 protected:
  IssueInput ValidInput() {
    IssueInput in;
    in.recipients = {{"a@example.com", {}}, {"b@example.com", {{"name", "Bee"}}}};
    in.purpose = "invite";
    in.redirect_url = "http://localhost:3000/welcome";
    in.metadata = {{"team", "blue"}, {"name", "default"}};
    return in;
  }
  absl::StatusOr<IssuePlan> Plan(const IssueInput& in) {
    return PlanIssue(in, limits_, lifetimes_, redirects_);
  }
  std::vector<std::string> ViolationFields(const absl::Status& status) {
    std::vector<std::string> out;
    for (const FieldViolation& v : FieldViolations(status)) out.push_back(v.field);
    return out;
  }

  Limits limits_;
  Lifetimes lifetimes_;
  RedirectPolicy redirects_ = *RedirectPolicy::Create(DevelopmentRedirectPrefixes());
};

TEST_F(IssueRulesTest, ValidRequestIsPlannedInOrderWithMergedMetadata) {
  absl::StatusOr<IssuePlan> plan = Plan(ValidInput());
  ASSERT_OK(plan);
  ASSERT_EQ(plan->recipients.size(), 2u);
  EXPECT_EQ(plan->recipients[0].index, 0);
  EXPECT_EQ(plan->recipients[0].metadata, (Metadata{{"team", "blue"}, {"name", "default"}}));
  EXPECT_EQ(plan->recipients[1].metadata, (Metadata{{"team", "blue"}, {"name", "Bee"}}));
  EXPECT_EQ(plan->ttl, lifetimes_.default_ttl);
  EXPECT_EQ(plan->fingerprint.size(), 32u);
}

TEST_F(IssueRulesTest, EveryBadRecipientIsListedNotJustTheFirst) {
  IssueInput in = ValidInput();
  in.recipients = {{"ok@example.com", {}},
                   {"not-an-email", {}},
                   {"OK@Example.com", {}},
                   {" ok@EXAMPLE.com ", {}},
                   {"x@localhost", {}}};
  absl::StatusOr<IssuePlan> plan = Plan(in);
  EXPECT_THAT(plan, StatusIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
  EXPECT_THAT(ViolationFields(plan.status()),
              ElementsAre("recipients[1].email", "recipients[3].email", "recipients[4].email"));
  std::vector<FieldViolation> v = FieldViolations(plan.status());
  EXPECT_THAT(v[0].description, HasSubstr("\"not-an-email\""));
  EXPECT_THAT(v[1].description, HasSubstr("duplicate of recipients[0]"));
}

TEST_F(IssueRulesTest, SkipInvalidIssuesTheRestAndReportsTheRejected) {
  IssueInput in = ValidInput();
  in.skip_invalid = true;
  in.recipients = {{"bad", {}}, {"a@example.com", {}}, {"a@EXAMPLE.COM", {}}};
  absl::StatusOr<IssuePlan> plan = Plan(in);
  ASSERT_OK(plan);
  EXPECT_THAT(plan->recipients, ElementsAre(Field(&PlannedRecipient::index, 1)));
  EXPECT_THAT(plan->rejected, ElementsAre(Field(&RejectedRecipient::index, 0),
                                          Field(&RejectedRecipient::index, 2)));
  EXPECT_EQ(plan->rejected[1].email, "a@EXAMPLE.COM");
}

TEST_F(IssueRulesTest, SkipInvalidWithNoValidRecipientFails) {
  IssueInput in = ValidInput();
  in.skip_invalid = true;
  in.recipients = {{"bad", {}}};
  EXPECT_THAT(Plan(in), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(IssueRulesTest, RequestLevelProblemsFailEvenWithSkipInvalid) {
  IssueInput in = ValidInput();
  in.skip_invalid = true;
  in.purpose = "Bad Purpose";
  in.redirect_url = "https://evil.example/";
  in.ttl = absl::Hours(24 * 365);
  in.request_id = "has space";
  absl::StatusOr<IssuePlan> plan = Plan(in);
  EXPECT_THAT(ViolationFields(plan.status()),
              ElementsAre("purpose", "ttl", "redirect_url", "request_id"));
}

TEST_F(IssueRulesTest, TtlLimitsAreInclusive) {
  IssueInput in = ValidInput();
  in.ttl = lifetimes_.max_ttl;
  EXPECT_OK(Plan(in));
  in.ttl = lifetimes_.max_ttl + absl::Nanoseconds(1);
  EXPECT_THAT(ViolationFields(Plan(in).status()), ElementsAre("ttl"));
  in.ttl = lifetimes_.min_ttl;
  EXPECT_OK(Plan(in));
  in.ttl = absl::ZeroDuration();
  EXPECT_THAT(ViolationFields(Plan(in).status()), ElementsAre("ttl"));
}

TEST_F(IssueRulesTest, BatchSizeLimitIsEnforced) {
  limits_.max_batch_size = 3;
  IssueInput in = ValidInput();
  in.recipients.clear();
  EXPECT_THAT(ViolationFields(Plan(in).status()), ElementsAre("recipients"));
  for (int i = 0; i < 3; ++i) in.recipients.push_back({absl::StrCat("u", i, "@x.io"), {}});
  EXPECT_OK(Plan(in));
  in.recipients.push_back({"u3@x.io", {}});
  EXPECT_THAT(ViolationFields(Plan(in).status()), ElementsAre("recipients"));
}

TEST_F(IssueRulesTest, MetadataLimitsApplyToBatchAndMergedRecipientMaps) {
  limits_.max_metadata_bytes = 20;
  IssueInput in = ValidInput();
  in.metadata = {{"k", std::string(25, 'v')}};
  EXPECT_THAT(ViolationFields(Plan(in).status()), ::testing::Contains("metadata"));
  in.metadata = {{"k", std::string(10, 'v')}};
  in.recipients[1].metadata = {{"j", std::string(10, 'w')}};
  EXPECT_THAT(ViolationFields(Plan(in).status()), ElementsAre("recipients[1].email"));
}

TEST_F(IssueRulesTest, PurposeRules) {
  EXPECT_EQ(PurposeProblem("invite", 64), "");
  EXPECT_EQ(PurposeProblem("team-invite.v2_x", 64), "");
  EXPECT_NE(PurposeProblem("", 64), "");
  EXPECT_NE(PurposeProblem("Invite", 64), "");
  EXPECT_NE(PurposeProblem(std::string(65, 'a'), 64), "");
}

TEST_F(IssueRulesTest, FingerprintChangesWithAnyContentChange) {
  const IssueInput base = ValidInput();
  const std::string fp = IssueFingerprint(base);
  EXPECT_EQ(IssueFingerprint(base), fp);
  std::vector<IssueInput> variants(8, base);
  variants[0].purpose = "login";
  variants[1].ttl = absl::Hours(1);
  variants[2].redirect_url += "x";
  variants[3].metadata["extra"] = "";
  variants[4].recipients[0].email = "c@example.com";
  variants[5].recipients[1].metadata.clear();
  variants[6].skip_invalid = true;
  variants[7].revoke_previous = true;
  for (const IssueInput& v : variants) EXPECT_NE(IssueFingerprint(v), fp);
  // The request_id is not content: retries carry the same one.
  IssueInput with_id = base;
  with_id.request_id = "r1";
  EXPECT_EQ(IssueFingerprint(with_id), fp);
}

}  // namespace
}  // namespace magiclink
