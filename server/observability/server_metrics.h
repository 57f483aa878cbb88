// Every metric magiclinkd exports (docs/operators.md lists them): RPCs by
// method, status code and ErrorInfo reason; links issued, consumed, revoked
// and swept; store latency, pool and coalescing; health; build info. Label
// values come only from the fixed sets below, never from a request.
//
//   ServerMetrics metrics("0.1.0");
//   store_options.observer = &metrics;            // the store reports to it
//   metrics.RpcDone(ServerMetrics::RpcMethodIndex(path), code, reason, seconds);
//   std::string text = metrics.registry().Expose();
#ifndef MAGICLINK_SERVER_OBSERVABILITY_SERVER_METRICS_H_
#define MAGICLINK_SERVER_OBSERVABILITY_SERVER_METRICS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/observability/metrics.h"
#include "server/observability/store_observer.h"

namespace magiclink {

class ServerMetrics final : public StoreObserver {
 public:
  // `version` becomes magiclink_build_info{version=...}.
  explicit ServerMetrics(absl::string_view version);

  MetricsRegistry& registry() { return registry_; }

  // The method label index of a gRPC method path
  // ("/magiclink.v1.MagicLinkService/Verify"); "other" for anything unknown.
  static size_t RpcMethodIndex(const char* path);

  // One RPC finished with gRPC status `code` and ErrorInfo `reason` ("" when
  // none; an unknown reason counts as "OTHER") after `seconds`.
  void RpcDone(size_t method, int code, absl::string_view reason, double seconds);

  // The health service's state.
  void SetServing(bool serving);

  // StoreObserver.
  void OperationDone(StoreOperation operation, absl::Duration elapsed) override;
  void LinksIssued(int64_t count) override;
  void LinksConsumed(int64_t count) override;
  void LinksRevoked(int64_t count) override;
  void LinksSwept(int64_t count) override;
  void ConnectionsInUse(int delta) override;
  void ConnectionWaiters(int delta) override;
  void ConsumeStatement(int calls) override;
  void InsertStatement(int calls) override;

 private:
  MetricsRegistry registry_;
  CounterFamily& rpc_total_;
  HistogramFamily& rpc_duration_;
  Counter& links_issued_;
  Counter& links_consumed_;
  Counter& links_revoked_;
  Counter& links_swept_;
  HistogramFamily& store_duration_;
  Gauge& connections_in_use_;
  Gauge& connection_waiters_;
  Counter& consume_statements_;
  Histogram& consume_statement_calls_;
  Counter& insert_statements_;
  Histogram& insert_statement_calls_;
  Gauge& serving_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_OBSERVABILITY_SERVER_METRICS_H_
