#include "server/transport/reflection_service.h"

#include <google/protobuf/descriptor.pb.h>

#include <set>

extern const unsigned char magiclink_api_descriptor_set[];
extern const unsigned long magiclink_api_descriptor_set_size;

namespace magiclink {

using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

namespace {

// protoc writes json_name into descriptor sets, generated code does not; some
// reflection clients (protobufjs-based ones) then name fields after it.
void ClearJsonNames(google::protobuf::DescriptorProto& message) {
  for (auto& field : *message.mutable_field()) field.clear_json_name();
  for (auto& nested : *message.mutable_nested_type()) ClearJsonNames(nested);
}

}  // namespace

ReflectionService::ReflectionService(std::vector<std::string> services)
    : services_(std::move(services)) {
  google::protobuf::FileDescriptorSet set;
  set.ParseFromArray(magiclink_api_descriptor_set,
                     static_cast<int>(magiclink_api_descriptor_set_size));
  // --include_imports lists dependencies before their users, as BuildFile needs.
  for (google::protobuf::FileDescriptorProto& file : *set.mutable_file()) {
    pool_.BuildFile(file);
    for (auto& message : *file.mutable_message_type()) ClearJsonNames(message);
    serialized_files_[file.name()] = file.SerializeAsString();
  }
}

void ReflectionService::AddFileWithDependencies(const google::protobuf::FileDescriptor* file,
                                                ServerReflectionResponse& response) const {
  std::set<std::string> seen;
  std::vector<const google::protobuf::FileDescriptor*> pending = {file};
  while (!pending.empty()) {
    const google::protobuf::FileDescriptor* next = pending.back();
    pending.pop_back();
    if (!seen.insert(next->name()).second) continue;
    auto it = serialized_files_.find(next->name());
    if (it != serialized_files_.end()) {
      response.mutable_file_descriptor_response()->add_file_descriptor_proto(it->second);
    }
    for (int i = 0; i < next->dependency_count(); ++i) pending.push_back(next->dependency(i));
  }
}

ServerReflectionResponse ReflectionService::Answer(const ServerReflectionRequest& request) const {
  ServerReflectionResponse response;
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  auto not_found = [&](const std::string& what) {
    response.mutable_error_response()->set_error_code(
        static_cast<int>(grpc::StatusCode::NOT_FOUND));
    response.mutable_error_response()->set_error_message(what + " not found");
  };
  switch (request.message_request_case()) {
    case ServerReflectionRequest::kListServices:
      for (const std::string& name : services_) {
        response.mutable_list_services_response()->add_service()->set_name(name);
      }
      break;
    case ServerReflectionRequest::kFileByFilename: {
      const google::protobuf::FileDescriptor* file =
          pool_.FindFileByName(request.file_by_filename());
      if (file == nullptr) {
        not_found("file");
      } else {
        AddFileWithDependencies(file, response);
      }
      break;
    }
    case ServerReflectionRequest::kFileContainingSymbol: {
      const google::protobuf::FileDescriptor* file =
          pool_.FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) {
        not_found("symbol");
      } else {
        AddFileWithDependencies(file, response);
      }
      break;
    }
    case ServerReflectionRequest::kFileContainingExtension:
      // The API declares no extensions.
      not_found("extension");
      break;
    case ServerReflectionRequest::kAllExtensionNumbersOfType: {
      // grpcurl asks this for every type it decodes from an Any (each error
      // detail) and gives up on the type, printing "is not recognized", on
      // an error answer: a known message has an empty list, not NOT_FOUND.
      const std::string& type = request.all_extension_numbers_of_type();
      if (pool_.FindMessageTypeByName(type) == nullptr) {
        not_found("type");
      } else {
        response.mutable_all_extension_numbers_response()->set_base_type_name(type);
      }
      break;
    }
    default:
      response.mutable_error_response()->set_error_code(
          static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
      response.mutable_error_response()->set_error_message("unknown reflection request");
  }
  return response;
}

grpc::Status ReflectionService::ServerReflectionInfo(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  ServerReflectionRequest request;
  while (stream->Read(&request)) {
    if (!stream->Write(Answer(request))) break;
  }
  return grpc::Status::OK;
}

}  // namespace magiclink
