#include "server/transport/metrics_interceptor.h"

#include <chrono>
#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace magiclink {
namespace {

// The ErrorInfo reason in a status's details ("" when there is none). Only
// failed calls carry details, so an OK call parses nothing.
std::string ReasonOf(const grpc::Status& status) {
  if (status.ok() || status.error_details().empty()) return "";
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return "";
  for (const google::protobuf::Any& detail : rich.details()) {
    google::rpc::ErrorInfo info;
    if (detail.UnpackTo(&info)) return info.reason();
  }
  return "";
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(ServerMetrics& metrics, size_t method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
      metrics_.RpcDone(method_, static_cast<int>(status.error_code()), ReasonOf(status),
                       elapsed.count());
    }
    methods->Proceed();
  }

 private:
  ServerMetrics& metrics_;
  const size_t method_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace

grpc::experimental::Interceptor* MetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new MetricsInterceptor(metrics_, ServerMetrics::RpcMethodIndex(info->method()));
}

}  // namespace magiclink
