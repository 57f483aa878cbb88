#include "server/transport/grpc_server.h"

#include <grpc/grpc.h>
#include <grpcpp/health_check_service_interface.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/transport/metrics_interceptor.h"
#include "server/transport/reflection_service.h"

namespace magiclink {

namespace {

constexpr char kServiceName[] = "magiclink.v1.MagicLinkService";

// Why `listen` ("host:port", "[v6]:port") cannot be bound, as the kernel
// says it ("Address already in use"), or "" when a plain bind succeeds now.
// gRPC reports a failed bind only to its own log, so after BuildAndStart
// fails the address is tried once more here to name the cause.
std::string BindError(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "";
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found) != 0) {
    return "";
  }
  std::string error;
  for (addrinfo* a = found; a != nullptr && error.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));  // as gRPC does
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) error = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  return error;
}

}  // namespace

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
  // A port is owned by one process. gRPC sets SO_REUSEPORT by default, and
  // then a second magiclinkd on a taken port starts anyway and the kernel
  // splits connections between the two.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (options.metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
    factories.push_back(std::make_unique<MetricsInterceptorFactory>(*options.metrics));
    builder.experimental().SetInterceptorCreators(std::move(factories));
  }
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || started.port == 0) {
    const std::string cause = BindError(options.listen);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, cause.empty() ? "" : ": ", cause));
  }
  return started;
}

}  // namespace magiclink
