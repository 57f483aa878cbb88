// Serves GET /metrics (the registry in the Prometheus text format) on a plain
// HTTP listener of its own, with libmicrohttpd: one internal thread, a few
// connections at a time, nothing else on that port.
//
//   absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
//       MetricsHttpServer::Start("127.0.0.1:9464", registry);
//   (*http)->port();  // the bound port (useful with port 0)
#ifndef MAGICLINK_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_
#define MAGICLINK_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/observability/metrics.h"

struct MHD_Daemon;

namespace magiclink {

class MetricsHttpServer {
 public:
  // Listens on `listen` ("host:port" or "[v6]:port"; a numeric address or a
  // name that resolves; port 0 picks a free one). INVALID_ARGUMENT for an
  // address that does not parse, UNAVAILABLE when it cannot be bound.
  // `registry` must outlive the server.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& listen,
                                                                  const MetricsRegistry& registry);
  // Stops listening and waits for the thread to finish.
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

 private:
  explicit MetricsHttpServer(const MetricsRegistry& registry) : registry_(registry) {}

  const MetricsRegistry& registry_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;

  friend struct MetricsHttpHandler;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_
