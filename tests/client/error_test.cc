// Decoding server errors (grpc-status-details-bin) into client::Error.
#include "magiclink/client/error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace magiclink::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

grpc::Status ServerError(grpc::StatusCode code, const std::string& message) {
  google::rpc::Status details;
  details.set_code(code);
  details.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason("INVALID_REQUEST");
  info.set_domain("magiclink.v1");
  (*info.mutable_metadata())["limit"] = "10000";
  details.add_details()->PackFrom(info);
  google::rpc::BadRequest bad_request;
  auto* first = bad_request.add_field_violations();
  first->set_field("recipients[3].email");
  first->set_description("the address has no '@'");
  auto* second = bad_request.add_field_violations();
  second->set_field("ttl");
  second->set_description("must be at most 720h");
  details.add_details()->PackFrom(bad_request);
  return grpc::Status(code, message, details.SerializeAsString());
}

TEST(ClientErrorTest, DecodesErrorInfoAndEveryFieldViolation) {
  const Error error(
      FromGrpcStatus(ServerError(grpc::StatusCode::INVALID_ARGUMENT, "invalid request")));
  EXPECT_EQ(error.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(error.message(), "invalid request");
  EXPECT_EQ(error.reason(), "INVALID_REQUEST");
  EXPECT_EQ(error.domain(), "magiclink.v1");
  EXPECT_THAT(error.metadata(), ElementsAre(Pair("limit", "10000")));
  EXPECT_THAT(error.field_violations(),
              ElementsAre(FieldViolation{"recipients[3].email", "the address has no '@'"},
                          FieldViolation{"ttl", "must be at most 720h"}));
}

TEST(ClientErrorTest, KeepsTheGrpcCodeNumerically) {
  const absl::Status status =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "used"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Error(status).code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(ClientErrorTest, TransportErrorWithoutDetailsHasNoReason) {
  const Error error(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connect failed")));
  EXPECT_EQ(error.code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(error.message(), "connect failed");
  EXPECT_EQ(error.reason(), "");
  EXPECT_EQ(error.domain(), "");
  EXPECT_THAT(error.field_violations(), IsEmpty());
}

TEST(ClientErrorTest, MalformedDetailsAreIgnoredNotFatal) {
  const Error error(FromGrpcStatus(
      grpc::Status(grpc::StatusCode::INTERNAL, "boom", std::string("\xff\xff\x01garbage", 10))));
  EXPECT_EQ(error.code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(error.message(), "boom");
  EXPECT_EQ(error.reason(), "");
}

TEST(ClientErrorTest, OkStatusDecodesToOk) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  EXPECT_EQ(Error(absl::OkStatus()).code(), grpc::StatusCode::OK);
}

TEST(ClientErrorTest, MakeErrorBuildsWhatTheServerSends) {
  const absl::Status made =
      MakeError(absl::StatusCode::kFailedPrecondition, "the token has already been used",
                magiclink::v1::TOKEN_ALREADY_USED, {{"batch_id", "b_1"}}, {{"token", "bad"}});
  const Error error(made);
  EXPECT_EQ(error.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(error.message(), "the token has already been used");
  EXPECT_EQ(error.reason(), "TOKEN_ALREADY_USED");
  EXPECT_EQ(error.known_reason(), magiclink::v1::TOKEN_ALREADY_USED);
  EXPECT_EQ(error.domain(), kErrorDomain);
  EXPECT_THAT(error.metadata(), ElementsAre(Pair("batch_id", "b_1")));
  EXPECT_THAT(error.field_violations(), ElementsAre(FieldViolation{"token", "bad"}));
  EXPECT_EQ(ReasonOf(made), magiclink::v1::TOKEN_ALREADY_USED);
}

}  // namespace
}  // namespace magiclink::client
