#include "server/transport/authentication.h"

#include <gtest/gtest.h>

#include "server/core/errors.h"
#include "server/transport/status_mapping.h"
#include "tests/testing/grpc_errors.h"

namespace magiclink {
namespace {

TEST(ParseBearerTest, AcceptsOnlyBearerWithOneToken) {
  EXPECT_EQ(ParseBearer("Bearer abc"), "abc");
  EXPECT_EQ(ParseBearer("bearer abc"), "abc");
  EXPECT_EQ(ParseBearer("BEARER a.b-c_d~e+f/g="), "a.b-c_d~e+f/g=");
  EXPECT_EQ(ParseBearer("Bearer "), std::nullopt);
  EXPECT_EQ(ParseBearer("Bearer"), std::nullopt);
  EXPECT_EQ(ParseBearer("Basic abc"), std::nullopt);
  EXPECT_EQ(ParseBearer("Bearer a b"), std::nullopt);
  EXPECT_EQ(ParseBearer("Bearer  abc"), std::nullopt);
  EXPECT_EQ(ParseBearer("abc"), std::nullopt);
}

TEST(StatusMappingTest, AuthErrorsCarryExactlyOneErrorInfo) {
  for (auto [code, reason] :
       {std::pair{absl::StatusCode::kUnauthenticated, magiclink::v1::UNAUTHENTICATED},
        std::pair{absl::StatusCode::kPermissionDenied, magiclink::v1::SCOPE_NOT_GRANTED},
        std::pair{absl::StatusCode::kPermissionDenied, magiclink::v1::PURPOSE_NOT_ALLOWED},
        std::pair{absl::StatusCode::kPermissionDenied, magiclink::v1::REDIRECT_NOT_ALLOWED}}) {
    grpc::Status s = ToGrpcStatus(ErrorWithReason(code, reason, "denied"));
    EXPECT_EQ(static_cast<int>(s.error_code()), static_cast<int>(code));
    testing::GrpcErrorDetails d = testing::DecodeDetails(s);
    EXPECT_EQ(d.error_infos, 1);
    EXPECT_EQ(d.bad_requests, 0);
    EXPECT_EQ(d.info.reason(), magiclink::v1::ErrorReason_Name(reason));
  }
}

}  // namespace
}  // namespace magiclink
