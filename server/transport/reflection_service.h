// grpc.reflection.v1alpha.ServerReflection over a descriptor set built with
// source info, so `grpcurl describe` shows the proto comments (the stock
// plugin serves descriptors from generated code, which carry no comments).
// The set holds every type the server puts on the wire, the google.rpc error
// details included, so grpcurl decodes each `Any` detail through it.
//
//   ReflectionService reflection({"magiclink.v1.MagicLinkService", ...});
//   builder.RegisterService(&reflection);
#ifndef MAGICLINK_SERVER_TRANSPORT_REFLECTION_SERVICE_H_
#define MAGICLINK_SERVER_TRANSPORT_REFLECTION_SERVICE_H_

#include <google/protobuf/descriptor.h>

#include <map>
#include <string>
#include <vector>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace magiclink {

class ReflectionService final
    : public grpc::reflection::v1alpha::ServerReflection::Service {
 public:
  // `services` are the fully qualified names `list` reports.
  explicit ReflectionService(std::vector<std::string> services);

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1alpha::ServerReflectionResponse,
                               grpc::reflection::v1alpha::ServerReflectionRequest>* stream)
      override;

 private:
  // Fills `response` with `file` and everything it imports, each once.
  void AddFileWithDependencies(const google::protobuf::FileDescriptor* file,
                               grpc::reflection::v1alpha::ServerReflectionResponse& response) const;
  grpc::reflection::v1alpha::ServerReflectionResponse Answer(
      const grpc::reflection::v1alpha::ServerReflectionRequest& request) const;

  std::vector<std::string> services_;
  std::map<std::string, std::string> serialized_files_;  // name -> FileDescriptorProto bytes
  google::protobuf::DescriptorPool pool_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_TRANSPORT_REFLECTION_SERVICE_H_
