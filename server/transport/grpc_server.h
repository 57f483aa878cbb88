// Builds and starts the gRPC server: the MagicLinkService adapter, the
// standard health service and server reflection (ReflectionService, which
// serves descriptors with their comments, health's included, so grpcurl can
// list, describe and call everything).
//
//   absl::StatusOr<StartedServer> s = StartGrpcServer(options, adapter);
//   s->SetServing(true);
#ifndef MAGICLINK_SERVER_TRANSPORT_GRPC_SERVER_H_
#define MAGICLINK_SERVER_TRANSPORT_GRPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/core/limits.h"
#include "server/observability/server_metrics.h"

namespace magiclink {

struct GrpcServerOptions {
  std::string listen = "127.0.0.1:50051";  // host:port; port 0 picks a free one
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  // Largest request accepted, in bytes (see MaxRequestBytes).
  int max_receive_bytes = 4 << 20;
  // Threads of the synchronous server allowed to wait for new calls. Each
  // call runs on the thread that took it and blocks on the store; with
  // gRPC's default of 2, every thread that finished a call while two others
  // were waiting exited and a new one was started for the next call. At 16
  // calls in flight that thread churn cost about 80 us of server CPU per
  // Verify (docs/performance.md). Idle threads cost only their stacks.
  int max_polling_threads = 64;
  // Every call is counted and timed here (MetricsInterceptorFactory);
  // nullptr: no metrics. Must outlive the server.
  ServerMetrics* metrics = nullptr;
};

// The largest request the limits allow: a full batch of maximal recipients,
// plus room for the rest of the message.
int MaxRequestBytes(const Limits& limits);

class ReflectionService;

// A started server.
struct StartedServer {
  // Declared before `server`, so it is destroyed after the server stops.
  std::shared_ptr<ReflectionService> reflection;
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the bound port

  // Reports SERVING or NOT_SERVING through the health service, for the
  // overall server ("") and for magiclink.v1.MagicLinkService.
  void SetServing(bool serving);
};

// Starts serving `service`; UNAVAILABLE when the address cannot be bound,
// naming the cause (e.g. "Address already in use": the port is never shared
// with another process, SO_REUSEPORT is off).
absl::StatusOr<StartedServer> StartGrpcServer(const GrpcServerOptions& options,
                                              grpc::Service& service);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_TRANSPORT_GRPC_SERVER_H_
