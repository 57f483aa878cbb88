// Records every RPC in ServerMetrics in one place: a server interceptor that
// times a call from its arrival to its status and counts it by method, status
// code and ErrorInfo reason. Health and reflection calls are counted too.
//
//   GrpcServerOptions options;
//   options.metrics = &metrics;  // StartGrpcServer installs the interceptor
#ifndef MAGICLINK_SERVER_TRANSPORT_METRICS_INTERCEPTOR_H_
#define MAGICLINK_SERVER_TRANSPORT_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "server/observability/server_metrics.h"

namespace magiclink {

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` must outlive the server.
  explicit MetricsInterceptorFactory(ServerMetrics& metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  ServerMetrics& metrics_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_TRANSPORT_METRICS_INTERCEPTOR_H_
