#include "server/observability/server_metrics.h"

#include <cstring>
#include <vector>

#include "server/core/errors.h"

namespace magiclink {
namespace {

struct RpcMethod {
  const char* path;
  const char* label;
};
// The methods magiclinkd serves; the label of everything else is "other".
constexpr RpcMethod kRpcMethods[] = {
    {"/magiclink.v1.MagicLinkService/IssueBatch", "IssueBatch"},
    {"/magiclink.v1.MagicLinkService/Verify", "Verify"},
    {"/magiclink.v1.MagicLinkService/Revoke", "Revoke"},
    {"/magiclink.v1.MagicLinkService/GetBatch", "GetBatch"},
    {"/magiclink.v1.MagicLinkService/ListLinks", "ListLinks"},
    {"/grpc.health.v1.Health/Check", "grpc.health.v1.Health/Check"},
    {"/grpc.health.v1.Health/Watch", "grpc.health.v1.Health/Watch"},
    {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
     "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"},
};
constexpr size_t kOtherMethod = sizeof(kRpcMethods) / sizeof(kRpcMethods[0]);

// gRPC status code names, by code.
const std::vector<std::string>& CodeNames() {
  static const auto* names = new std::vector<std::string>{"OK",
                                                          "CANCELLED",
                                                          "UNKNOWN",
                                                          "INVALID_ARGUMENT",
                                                          "DEADLINE_EXCEEDED",
                                                          "NOT_FOUND",
                                                          "ALREADY_EXISTS",
                                                          "PERMISSION_DENIED",
                                                          "RESOURCE_EXHAUSTED",
                                                          "FAILED_PRECONDITION",
                                                          "ABORTED",
                                                          "OUT_OF_RANGE",
                                                          "UNIMPLEMENTED",
                                                          "INTERNAL",
                                                          "UNAVAILABLE",
                                                          "DATA_LOSS",
                                                          "UNAUTHENTICATED"};
  return *names;
}

// "" (no ErrorInfo: OK), every value of magiclink.v1.ErrorReason, then
// "OTHER".
const std::vector<std::string>& Reasons() {
  static const auto* reasons = [] {
    auto* out = new std::vector<std::string>{""};
    for (int i = v1::ErrorReason_MIN; i <= v1::ErrorReason_MAX; ++i) {
      if (v1::ErrorReason_IsValid(i) && i != v1::ERROR_REASON_UNSPECIFIED) {
        out->push_back(v1::ErrorReason_Name(static_cast<v1::ErrorReason>(i)));
      }
    }
    out->push_back("OTHER");
    return out;
  }();
  return *reasons;
}

std::vector<std::string> MethodLabels() {
  std::vector<std::string> labels;
  for (const RpcMethod& m : kRpcMethods) labels.push_back(m.label);
  labels.push_back("other");
  return labels;
}

std::vector<std::string> OperationLabels() {
  std::vector<std::string> labels;
  for (int i = 0; i < kStoreOperationCount; ++i) {
    labels.push_back(StoreOperationName(static_cast<StoreOperation>(i)));
  }
  return labels;
}

// Seconds: from half a millisecond (a Verify on SQLite) to 10 s (a deadline).
const std::vector<double>& LatencyBounds() {
  static const auto* bounds = new std::vector<double>{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *bounds;
}

}  // namespace

ServerMetrics::ServerMetrics(absl::string_view version)
    : rpc_total_(registry_.AddCounter(
          "magiclink_rpc_total",
          "RPCs finished, by method, gRPC status code and ErrorInfo reason (\"\" for OK).",
          {{"method", MethodLabels()}, {"code", CodeNames()}, {"reason", Reasons()}})),
      rpc_duration_(registry_.AddHistogram(
          "magiclink_rpc_duration_seconds",
          "Time from a call's arrival to its status, by method and gRPC status code.",
          LatencyBounds(), {{"method", MethodLabels()}, {"code", CodeNames()}})),
      links_issued_(registry_
                        .AddCounter("magiclink_links_issued_total",
                                    "Links written by IssueBatch (replays not counted).")
                        .At({})),
      links_consumed_(
          registry_.AddCounter("magiclink_links_consumed_total", "Links consumed by Verify.")
              .At({})),
      links_revoked_(registry_
                         .AddCounter("magiclink_links_revoked_total",
                                     "Links revoked by Revoke or IssueBatch revoke_previous.")
                         .At({})),
      links_swept_(registry_
                       .AddCounter("magiclink_links_swept_total",
                                   "Expired, consumed or revoked links the sweeper deleted "
                                   "after the retention period.")
                       .At({})),
      store_duration_(registry_.AddHistogram(
          "magiclink_store_operation_duration_seconds",
          "Time of one TokenStore call, by operation (waiting for a connection included).",
          LatencyBounds(), {{"operation", OperationLabels()}})),
      connections_in_use_(registry_
                              .AddGauge("magiclink_store_connections_in_use",
                                        "PostgreSQL connections lent to calls now.")
                              .At({})),
      connection_waiters_(registry_
                              .AddGauge("magiclink_store_connection_waiters",
                                        "Calls waiting for a free PostgreSQL connection now.")
                              .At({})),
      consume_statements_(registry_
                              .AddCounter("magiclink_store_consume_statements_total",
                                          "Coalesced Verify CONSUME statements run.")
                              .At({})),
      consume_statement_calls_(registry_
                                   .AddHistogram("magiclink_store_consume_statement_calls",
                                                 "Verify calls per coalesced CONSUME statement.",
                                                 {1, 2, 3, 5, 10, 20, 50, 100, 200, 500})
                                   .At({})),
      insert_statements_(registry_
                             .AddCounter("magiclink_store_insert_statements_total",
                                         "Coalesced IssueBatch insert statements run.")
                             .At({})),
      insert_statement_calls_(registry_
                                  .AddHistogram("magiclink_store_insert_statement_calls",
                                                "IssueBatch calls per coalesced insert statement.",
                                                {1, 2, 3, 5, 10, 20, 50, 100, 200, 500})
                                  .At({})),
      serving_(registry_
                   .AddGauge("magiclink_health_serving",
                             "1 while the health service reports SERVING, 0 for NOT_SERVING.")
                   .At({})) {
  registry_
      .AddGauge("magiclink_build_info", "Always 1; the labels say which magiclinkd runs.",
                {{"version", {std::string(version)}}})
      .At({0})
      .Set(1);
}

size_t ServerMetrics::RpcMethodIndex(const char* path) {
  if (path == nullptr) return kOtherMethod;
  for (size_t i = 0; i < kOtherMethod; ++i) {
    if (std::strcmp(path, kRpcMethods[i].path) == 0) return i;
  }
  return kOtherMethod;
}

void ServerMetrics::RpcDone(size_t method, int code, absl::string_view reason, double seconds) {
  const size_t code_index =
      code >= 0 && static_cast<size_t>(code) < CodeNames().size() ? code : 2;  // UNKNOWN
  const std::vector<std::string>& reasons = Reasons();
  size_t reason_index = reasons.size() - 1;  // OTHER
  for (size_t i = 0; i + 1 < reasons.size(); ++i) {
    if (reasons[i] == reason) {
      reason_index = i;
      break;
    }
  }
  rpc_total_.At({method, code_index, reason_index}).Increment();
  rpc_duration_.At({method, code_index}).Observe(seconds);
}

void ServerMetrics::SetServing(bool serving) { serving_.Set(serving ? 1 : 0); }

void ServerMetrics::OperationDone(StoreOperation operation, absl::Duration elapsed) {
  store_duration_.At({static_cast<size_t>(operation)}).Observe(absl::ToDoubleSeconds(elapsed));
}

void ServerMetrics::LinksIssued(int64_t count) { links_issued_.Increment(count); }
void ServerMetrics::LinksConsumed(int64_t count) { links_consumed_.Increment(count); }
void ServerMetrics::LinksRevoked(int64_t count) { links_revoked_.Increment(count); }
void ServerMetrics::LinksSwept(int64_t count) { links_swept_.Increment(count); }
void ServerMetrics::ConnectionsInUse(int delta) { connections_in_use_.Add(delta); }
void ServerMetrics::ConnectionWaiters(int delta) { connection_waiters_.Add(delta); }

void ServerMetrics::ConsumeStatement(int calls) {
  consume_statements_.Increment();
  consume_statement_calls_.Observe(calls);
}

void ServerMetrics::InsertStatement(int calls) {
  insert_statements_.Increment();
  insert_statement_calls_.Observe(calls);
}

}  // namespace magiclink
