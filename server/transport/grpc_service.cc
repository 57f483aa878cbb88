#include "server/transport/grpc_service.h"

#include <google/protobuf/util/time_util.h>

#include "server/core/errors.h"
#include "server/transport/authentication.h"
#include "server/transport/request_decoding.h"
#include "server/transport/status_mapping.h"

namespace magiclink {
namespace {

using google::protobuf::Timestamp;
using google::protobuf::util::TimeUtil;

void SetTime(absl::Time t, Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  *out = TimeUtil::MicrosecondsToTimestamp(micros);
}

v1::LinkState ToProto(TokenState state) {
  switch (state) {
    case TokenState::kOutstanding: return v1::OUTSTANDING;
    case TokenState::kConsumed: return v1::CONSUMED;
    case TokenState::kRevoked: return v1::REVOKED;
    case TokenState::kExpired: return v1::EXPIRED;
  }
  return v1::LINK_STATE_UNSPECIFIED;
}

absl::StatusOr<std::optional<TokenState>> FromProto(v1::LinkState state) {
  switch (state) {
    case v1::LINK_STATE_UNSPECIFIED: return std::optional<TokenState>();
    case v1::OUTSTANDING: return std::optional<TokenState>(TokenState::kOutstanding);
    case v1::CONSUMED: return std::optional<TokenState>(TokenState::kConsumed);
    case v1::REVOKED: return std::optional<TokenState>(TokenState::kRevoked);
    case v1::EXPIRED: return std::optional<TokenState>(TokenState::kExpired);
    default: return InvalidRequest({{"state", "is not a known LinkState"}});
  }
}

// A call that arrives after SIGTERM: nothing was done, another replica can
// take it.
grpc::Status Draining() {
  return ToGrpcStatus(ErrorWithReason(absl::StatusCode::kUnavailable, v1::SERVER_DRAINING,
                                      "the server is shutting down; retry on another replica"));
}

}  // namespace

grpc::Status GrpcMagicLinkService::IssueBatch(grpc::ServerContext* context,
                                              const v1::IssueBatchRequest* request,
                                              v1::IssueBatchResponse* response) {
  std::optional<CallGate::Pass> pass = gate_.Enter();
  if (!pass) return Draining();
  const absl::Time deadline = absl::FromChrono(context->deadline());
  absl::StatusOr<Caller> caller = AuthenticateCall(callers_, *context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<IssueInput> input = DecodeIssueBatch(*request);
  if (!input.ok()) return ToGrpcStatus(input.status());
  absl::StatusOr<IssueResult> result = service_.IssueBatch(*input, *caller, deadline);
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_batch_id(result->batch_id);
  response->mutable_links()->Reserve(static_cast<int>(result->links.size()));
  for (IssuedLink& link : result->links) {
    v1::IssuedLink* out = response->add_links();
    out->set_email(std::move(link.email));
    out->set_url(std::move(link.url));
    out->set_token(std::move(link.token));
    SetTime(link.expires_at, out->mutable_expires_at());
  }
  for (const RejectedRecipient& r : result->rejected) {
    v1::RejectedRecipient* out = response->add_rejected();
    out->set_index(r.index);
    out->set_email(r.email);
    out->set_reason(r.reason);
  }
  response->set_revoked_previous_count(result->revoked_previous);
  response->set_replayed(result->replayed);
  return grpc::Status::OK;
}

grpc::Status GrpcMagicLinkService::Verify(grpc::ServerContext* context,
                                          const v1::VerifyRequest* request,
                                          v1::VerifyResponse* response) {
  std::optional<CallGate::Pass> pass = gate_.Enter();
  if (!pass) return Draining();
  const absl::Time deadline = absl::FromChrono(context->deadline());
  absl::StatusOr<Caller> caller = AuthenticateCall(callers_, *context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<VerifyInput> input = DecodeVerify(*request);
  if (!input.ok()) return ToGrpcStatus(input.status());
  absl::StatusOr<TokenClaims> claims = service_.Verify(*input, *caller, deadline);
  if (!claims.ok()) return ToGrpcStatus(claims.status());
  response->set_email(claims->email);
  response->set_purpose(claims->purpose);
  response->mutable_metadata()->insert(claims->metadata.begin(), claims->metadata.end());
  response->set_batch_id(claims->batch_id);
  response->set_redirect_url(claims->redirect_url);
  SetTime(claims->issued_at, response->mutable_issued_at());
  SetTime(claims->expires_at, response->mutable_expires_at());
  if (claims->consumed_at) SetTime(*claims->consumed_at, response->mutable_consumed_at());
  return grpc::Status::OK;
}

grpc::Status GrpcMagicLinkService::Revoke(grpc::ServerContext* context,
                                          const v1::RevokeRequest* request,
                                          v1::RevokeResponse* response) {
  std::optional<CallGate::Pass> pass = gate_.Enter();
  if (!pass) return Draining();
  const absl::Time deadline = absl::FromChrono(context->deadline());
  absl::StatusOr<Caller> caller = AuthenticateCall(callers_, *context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  RevokeInput input;
  switch (request->target_case()) {
    case v1::RevokeRequest::kToken:
      input.token = request->token();
      if (input.token.empty()) return ToGrpcStatus(InvalidRequest({{"token", "is empty"}}));
      break;
    case v1::RevokeRequest::kEmail:
      input.email = request->email();
      if (input.email.empty()) return ToGrpcStatus(InvalidRequest({{"email", "is empty"}}));
      break;
    case v1::RevokeRequest::kBatchId:
      input.batch_id = request->batch_id();
      if (input.batch_id.empty()) return ToGrpcStatus(InvalidRequest({{"batch_id", "is empty"}}));
      break;
    case v1::RevokeRequest::TARGET_NOT_SET:
      break;
  }
  input.purpose = request->purpose();
  absl::StatusOr<int64_t> revoked = service_.Revoke(input, *caller, deadline);
  if (!revoked.ok()) return ToGrpcStatus(revoked.status());
  response->set_revoked_count(*revoked);
  return grpc::Status::OK;
}

grpc::Status GrpcMagicLinkService::GetBatch(grpc::ServerContext* context,
                                            const v1::GetBatchRequest* request,
                                            v1::GetBatchResponse* response) {
  std::optional<CallGate::Pass> pass = gate_.Enter();
  if (!pass) return Draining();
  const absl::Time deadline = absl::FromChrono(context->deadline());
  absl::StatusOr<Caller> caller = AuthenticateCall(callers_, *context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<BatchSummary> batch = service_.GetBatch(request->batch_id(), *caller, deadline);
  if (!batch.ok()) return ToGrpcStatus(batch.status());
  response->set_batch_id(batch->batch_id);
  response->set_purpose(batch->purpose);
  response->set_issued_by(batch->issued_by);
  SetTime(batch->created_at, response->mutable_created_at());
  response->set_total(batch->total);
  response->set_outstanding(batch->outstanding);
  response->set_consumed(batch->consumed);
  response->set_revoked(batch->revoked);
  response->set_expired(batch->expired);
  response->set_redirect_url(batch->redirect_url);
  return grpc::Status::OK;
}

grpc::Status GrpcMagicLinkService::ListLinks(grpc::ServerContext* context,
                                             const v1::ListLinksRequest* request,
                                             v1::ListLinksResponse* response) {
  std::optional<CallGate::Pass> pass = gate_.Enter();
  if (!pass) return Draining();
  const absl::Time deadline = absl::FromChrono(context->deadline());
  absl::StatusOr<Caller> caller = AuthenticateCall(callers_, *context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<std::optional<TokenState>> state = FromProto(request->state());
  if (!state.ok()) return ToGrpcStatus(state.status());
  ListLinksInput input{request->batch_id(), *state, request->page_size(), request->page_token()};
  absl::StatusOr<LinksPage> page = service_.ListLinks(input, *caller, deadline);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const LinkView& view : page->links) {
    const LinkRecord& link = view.link;
    v1::LinkInfo* out = response->add_links();
    out->set_email(link.email);
    out->set_index(link.position);
    out->set_state(ToProto(view.state));
    SetTime(link.issued_at, out->mutable_issued_at());
    SetTime(link.expires_at, out->mutable_expires_at());
    if (link.consumed_at) SetTime(*link.consumed_at, out->mutable_consumed_at());
    if (link.revoked_at) SetTime(*link.revoked_at, out->mutable_revoked_at());
  }
  response->set_next_page_token(page->next_page_token);
  response->set_issued_by(page->issued_by);
  return grpc::Status::OK;
}

}  // namespace magiclink
