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

TEST_F(IssueRulesTest, RequestContentChangesWithAnyContentChange) {
  const IssueInput base = ValidInput();
  const std::string content = IssueRequestContent(base);
  EXPECT_EQ(IssueRequestContent(base), content);
  std::vector<IssueInput> variants(8, base);
  variants[0].purpose = "login";
  variants[1].ttl = absl::Hours(1);
  variants[2].redirect_url += "x";
  variants[3].metadata["extra"] = "";
  variants[4].recipients[0].email = "c@example.com";
  variants[5].recipients[1].metadata.clear();
  variants[6].skip_invalid = true;
  variants[7].revoke_previous = true;
  for (const IssueInput& v : variants) EXPECT_NE(IssueRequestContent(v), content);
  // Neither the request_id (retries carry the same one) nor validate_only (a
  // validation stores nothing) is content.
  IssueInput with_id = base;
  with_id.request_id = "r1";
  with_id.validate_only = true;
  EXPECT_EQ(IssueRequestContent(with_id), content);
}

// The rows of issue 12's table and their encoded and mixed-case variants,
// with allowed_redirect_prefixes ["http://localhost:3000/auth/"]: each is
// INVALID_ARGUMENT (INVALID_REQUEST) naming redirect_url, and says why.
TEST_F(IssueRulesTest, RedirectUrlsThatABrowserWouldResolveElsewhereAreRefused) {
  redirects_ = *RedirectPolicy::Create({"http://localhost:3000/auth/"});
  const struct {
    const char* url;
    const char* why;
  } cases[] = {
      {"http://localhost:3000/auth/../admin/steal", "'.' or '..' segment"},
      {"http://localhost:3000/auth/%2e%2e/admin", "'.' or '..' segment"},
      {"http://localhost:3000/auth/./../x", "'.' or '..' segment"},
      {"http://localhost:3000/auth/welcome?token=ATTACKER", "'token' query parameter"},
      {"http://localhost:3000/auth/%2E%2E/admin", "'.' or '..' segment"},
      {"http://localhost:3000/auth/%2e%2E/admin", "'.' or '..' segment"},
      {"http://localhost:3000/auth/.%2e/admin", "'.' or '..' segment"},
      {"http://localhost:3000/auth/%2E./admin", "'.' or '..' segment"},
      {"http://localhost:3000/auth/%2e/x", "'.' or '..' segment"},
      {"http://localhost:3000/auth/..", "'.' or '..' segment"},
      {"http://localhost:3000/auth/..;/admin", "'.' or '..' segment"},
      {"http://localhost:3000/auth/%252e%252e/admin", "'.' or '..' segment"},
      {"http://localhost:3000/auth/x/..?a=1", "'.' or '..' segment"},
      {"http://localhost:3000/auth/%2f..%2fadmin", "encoded slash or backslash"},
      {"http://localhost:3000/auth/..%2Fadmin", "encoded slash or backslash"},
      {"http://localhost:3000/auth/..%5cadmin", "encoded slash or backslash"},
      {"http://localhost:3000/auth/..%5Cadmin", "encoded slash or backslash"},
      {"http://localhost:3000/auth/..\\admin", "backslash"},
      {"http://localhost:3000/auth/w?TOKEN=x", "'token' query parameter"},
      {"http://localhost:3000/auth/w?a=1&Token=x", "'token' query parameter"},
      {"http://localhost:3000/auth/w?%74oken=x", "'token' query parameter"},
      {"http://localhost:3000/auth/w?%54%4F%4b%45%6e=x", "'token' query parameter"},
      {"http://localhost:3000/auth/w?%2574oken=x", "'token' query parameter"},
      {"http://localhost:3000/auth/w?token", "'token' query parameter"},
      {"http://localhost:3000/auth/w?token[]=x", "'token' query parameter"},
      {"http://localhost:3000/auth/w?a=1;token=x", "'token' query parameter"},
      {"http://localhost:3000/auth/w?+token=x", "'token' query parameter"},
  };
  for (const auto& c : cases) {
    IssueInput in = ValidInput();
    in.redirect_url = c.url;
    absl::StatusOr<IssuePlan> plan = Plan(in);
    EXPECT_THAT(plan, StatusIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST)) << c.url;
    const std::vector<FieldViolation> violations = FieldViolations(plan.status());
    ASSERT_EQ(violations.size(), 1u) << c.url;
    EXPECT_EQ(violations[0].field, "redirect_url") << c.url;
    EXPECT_THAT(violations[0].description, HasSubstr(c.why)) << c.url;
  }
  // What stays inside the prefix, and parameters that merely resemble the
  // link's own, are accepted.
  for (const char* ok :
       {"http://localhost:3000/auth/welcome", "http://localhost:3000/auth/a.b/..c/...",
        "http://localhost:3000/auth/.well-known", "http://localhost:3000/auth/w?next=../x",
        "http://localhost:3000/auth/w?next=%2e%2e%2fadmin", "http://localhost:3000/auth/w?tokens=1",
        "http://localhost:3000/auth/w?my_token=1", "http://localhost:3000/auth/w?a=token"}) {
    IssueInput in = ValidInput();
    in.redirect_url = ok;
    EXPECT_OK(Plan(in)) << ok;
  }
}

}  // namespace
}  // namespace magiclink
