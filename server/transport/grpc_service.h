// The gRPC adapter for magiclink.v1.MagicLinkService: decodes requests into
// plain values, calls LinkService, encodes the result and maps the status
// through ToGrpcStatus. Every call is authenticated first (AuthenticateCall);
// the service authorizes. No rules live here.
#ifndef MAGICLINK_SERVER_TRANSPORT_GRPC_SERVICE_H_
#define MAGICLINK_SERVER_TRANSPORT_GRPC_SERVICE_H_

#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "server/core/callers.h"
#include "server/service/link_service.h"
#include "server/transport/call_gate.h"

namespace magiclink {

class GrpcMagicLinkService final : public magiclink::v1::MagicLinkService::Service {
 public:
  // `service` must outlive this adapter. Calls are authenticated against
  // `callers`; with none configured every call is the unrestricted caller
  // "local" (a development server: main serves it on loopback only).
  GrpcMagicLinkService(LinkService& service, CallerDirectory callers)
      : service_(service), callers_(std::move(callers)) {}

  grpc::Status IssueBatch(grpc::ServerContext* context, const v1::IssueBatchRequest* request,
                          v1::IssueBatchResponse* response) override;
  grpc::Status Verify(grpc::ServerContext* context, const v1::VerifyRequest* request,
                      v1::VerifyResponse* response) override;
  grpc::Status Revoke(grpc::ServerContext* context, const v1::RevokeRequest* request,
                      v1::RevokeResponse* response) override;
  grpc::Status GetBatch(grpc::ServerContext* context, const v1::GetBatchRequest* request,
                        v1::GetBatchResponse* response) override;
  grpc::Status ListLinks(grpc::ServerContext* context, const v1::ListLinksRequest* request,
                         v1::ListLinksResponse* response) override;

  // Counts the calls in flight; main closes it on SIGTERM to drain (new calls
  // then fail with UNAVAILABLE / SERVER_DRAINING).
  CallGate& gate() { return gate_; }

 private:
  LinkService& service_;
  const CallerDirectory callers_;
  CallGate gate_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_TRANSPORT_GRPC_SERVICE_H_
