// Server reflection as grpcurl uses it: list the services, then fetch the file
// that defines MagicLinkService, which must carry the proto comments so
// `grpcurl describe` shows them; and resolve every type the server puts on the
// wire (error details included) the way grpcurl decodes a google.protobuf.Any.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <set>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
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

// Every message type reachable from `type`'s fields, `type` included.
void CollectMessageTypes(const google::protobuf::Descriptor* type, std::set<std::string>& names) {
  if (!names.insert(type->full_name()).second) return;
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->message_type() != nullptr) {
      CollectMessageTypes(type->field(i)->message_type(), names);
    }
  }
}

// grpcurl (jhump/protoreflect) decodes an Any detail in two steps: the file
// containing the type, built with its imports, then the type's extension
// numbers; an error answer to either prints "<type> is not recognized".
TEST_F(ReflectionE2eTest, ResolvesEveryTypeOnTheWireAsGrpcurlDecodesAnAny) {
  std::set<std::string> types;
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "magiclink.v1.MagicLinkService");
  for (int i = 0; i < service->method_count(); ++i) {
    CollectMessageTypes(service->method(i)->input_type(), types);
    CollectMessageTypes(service->method(i)->output_type(), types);
  }
  // What transport/status_mapping.cc sends as grpc-status-details-bin.
  CollectMessageTypes(google::rpc::Status::descriptor(), types);
  CollectMessageTypes(google::rpc::ErrorInfo::descriptor(), types);
  CollectMessageTypes(google::rpc::BadRequest::descriptor(), types);
  ASSERT_TRUE(types.count("google.rpc.BadRequest.FieldViolation"));

  for (const std::string& type : types) {
    SCOPED_TRACE(type);
    ServerReflectionRequest req;
    req.set_file_containing_symbol(type);
    const ServerReflectionResponse files = Ask(req);
    ASSERT_FALSE(files.has_error_response()) << files.error_response().error_message();
    // The answer alone (the file and all it imports) must build the type.
    google::protobuf::FileDescriptorSet set;
    for (const std::string& bytes : files.file_descriptor_response().file_descriptor_proto()) {
      ASSERT_TRUE(set.add_file()->ParseFromString(bytes));
    }
    google::protobuf::DescriptorPool pool;
    for (int pass = 0; pass < set.file_size(); ++pass) {  // imports come in any order
      for (const auto& file : set.file()) {
        if (pool.FindFileByName(file.name()) == nullptr) {
          bool ready = true;
          for (const std::string& dep : file.dependency()) {
            ready = ready && pool.FindFileByName(dep) != nullptr;
          }
          if (ready) pool.BuildFile(file);
        }
      }
    }
    EXPECT_NE(pool.FindMessageTypeByName(type), nullptr);

    req.set_all_extension_numbers_of_type(type);
    const ServerReflectionResponse extensions = Ask(req);
    ASSERT_FALSE(extensions.has_error_response()) << extensions.error_response().error_message();
    EXPECT_EQ(extensions.all_extension_numbers_response().base_type_name(), type);
    EXPECT_EQ(extensions.all_extension_numbers_response().extension_number_size(), 0);
  }
}

TEST_F(ReflectionE2eTest, ServesTheErrorDetailsWithTheirComments) {
  ServerReflectionRequest req;
  req.set_file_by_filename("google/rpc/error_details.proto");
  const ServerReflectionResponse resp = Ask(req);
  std::string comments;
  for (const std::string& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    for (const auto& location : file.source_code_info().location()) {
      comments += location.leading_comments();
    }
  }
  EXPECT_THAT(comments, HasSubstr("Describes the cause of the error with structured details."));
  EXPECT_THAT(comments, HasSubstr("Describes violations in a client request."));
}

TEST_F(ReflectionE2eTest, ExtensionNumbersOfAnUnknownTypeAreNotFound) {
  ServerReflectionRequest req;
  req.set_all_extension_numbers_of_type("no.such.Type");
  EXPECT_EQ(Ask(req).error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
}

}  // namespace
}  // namespace magiclink::testing
