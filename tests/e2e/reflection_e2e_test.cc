// Server reflection as grpcurl uses it: list the services, then fetch the file
// that defines MagicLinkService, which must carry the proto comments so
// `grpcurl describe` shows them.
#include <google/protobuf/descriptor.pb.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/e2e/test_server.h"

namespace magiclink::testing {
namespace {

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class ReflectionE2eTest : public ::testing::Test {
 protected:
  ServerReflectionResponse Ask(const ServerReflectionRequest& request) {
    auto stub = ServerReflection::NewStub(server_.channel());
    grpc::ClientContext ctx;
    auto stream = stub->ServerReflectionInfo(&ctx);
    EXPECT_TRUE(stream->Write(request));
    ServerReflectionResponse response;
    EXPECT_TRUE(stream->Read(&response));
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return response;
  }
  TestServer server_;
};

TEST_F(ReflectionE2eTest, ListsTheServices) {
  ServerReflectionRequest req;
  req.set_list_services("");
  std::vector<std::string> names;
  const ServerReflectionResponse resp = Ask(req);
  for (const auto& s : resp.list_services_response().service()) names.push_back(s.name());
  EXPECT_THAT(names, UnorderedElementsAre("magiclink.v1.MagicLinkService", "grpc.health.v1.Health",
                                          "grpc.reflection.v1alpha.ServerReflection"));
}

TEST_F(ReflectionE2eTest, ServesTheApiFileWithItsCommentsAndDependencies) {
  ServerReflectionRequest req;
  req.set_file_containing_symbol("magiclink.v1.MagicLinkService.Verify");
  ServerReflectionResponse resp = Ask(req);
  std::string comments;
  std::vector<std::string> files;
  for (const std::string& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    files.push_back(file.name());
    for (const auto& location : file.source_code_info().location()) {
      comments += location.leading_comments();
    }
    for (const auto& message : file.message_type()) {
      for (const auto& field : message.field()) EXPECT_FALSE(field.has_json_name()) << field.name();
    }
  }
  EXPECT_THAT(files, ::testing::Contains("magiclink/v1/magic_link_service.proto"));
  EXPECT_THAT(files, ::testing::Contains("google/protobuf/duration.proto"));
  EXPECT_THAT(comments, HasSubstr("Checks a token and, in CONSUME mode, uses it up atomically"));
  EXPECT_THAT(comments, HasSubstr("Optional idempotency key"));
}

TEST_F(ReflectionE2eTest, HealthIsDescribedToo) {
  ServerReflectionRequest req;
  req.set_file_containing_symbol("grpc.health.v1.Health");
  EXPECT_EQ(Ask(req).file_descriptor_response().file_descriptor_proto_size(), 1);
  req.set_file_containing_symbol("no.such.Symbol");
  EXPECT_EQ(Ask(req).error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
}

}  // namespace
}  // namespace magiclink::testing
