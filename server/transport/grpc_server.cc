#include "server/transport/grpc_server.h"

#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "server/transport/metrics_interceptor.h"
#include "server/transport/reflection_service.h"

namespace magiclink {

constexpr char kServiceName[] = "magiclink.v1.MagicLinkService";

int MaxRequestBytes(const Limits& limits) {
  const int64_t per_recipient = static_cast<int64_t>(limits.max_email_length) +
                                static_cast<int64_t>(limits.max_metadata_bytes) +
                                static_cast<int64_t>(limits.max_metadata_entries) * 8 + 64;
  const int64_t bytes = per_recipient * limits.max_batch_size + (1 << 20);
  return static_cast<int>(std::min<int64_t>(bytes, INT32_MAX));
}

void StartedServer::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  health->SetServingStatus(kServiceName, serving);
}

absl::StatusOr<StartedServer> StartGrpcServer(const GrpcServerOptions& options,
                                              grpc::Service& service) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  StartedServer started;
  started.reflection = std::make_shared<ReflectionService>(std::vector<std::string>{
      kServiceName, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"});
  builder.AddListeningPort(options.listen, options.credentials, &started.port);
  builder.RegisterService(&service);
  builder.RegisterService(started.reflection.get());
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  builder.SetSyncServerOption(grpc::ServerBuilder::MAX_POLLERS, options.max_polling_threads);
  if (options.metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
    factories.push_back(std::make_unique<MetricsInterceptorFactory>(*options.metrics));
    builder.experimental().SetInterceptorCreators(std::move(factories));
  }
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || started.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  return started;
}

}  // namespace magiclink
