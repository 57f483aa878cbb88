// The real Connection: one gRPC stub call per method, each with its own
// deadline and the API key, wrapped in the retry decorator.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "magiclink/client/connection.h"
#include "magiclink/client/error.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"

namespace magiclink::client {
namespace {

constexpr char kUserAgent[] = "magiclink-cpp/0.1";

class GrpcConnection : public Connection {
 public:
  GrpcConnection(std::shared_ptr<grpc::Channel> channel, const std::string& api_key,
                 absl::Duration timeout)
      : stub_(v1::MagicLinkService::NewStub(std::move(channel))),
        authorization_(api_key.empty() ? "" : absl::StrCat("Bearer ", api_key)),
        timeout_(timeout) {}

  absl::StatusOr<v1::IssueBatchResponse> IssueBatch(const v1::IssueBatchRequest& request) override {
    return Call(&v1::MagicLinkService::Stub::IssueBatch, request);
  }
  absl::StatusOr<v1::VerifyResponse> Verify(const v1::VerifyRequest& request) override {
    return Call(&v1::MagicLinkService::Stub::Verify, request);
  }
  absl::StatusOr<v1::RevokeResponse> Revoke(const v1::RevokeRequest& request) override {
    return Call(&v1::MagicLinkService::Stub::Revoke, request);
  }
  absl::StatusOr<v1::GetBatchResponse> GetBatch(const v1::GetBatchRequest& request) override {
    return Call(&v1::MagicLinkService::Stub::GetBatch, request);
  }
  absl::StatusOr<v1::ListLinksResponse> ListLinks(const v1::ListLinksRequest& request) override {
    return Call(&v1::MagicLinkService::Stub::ListLinks, request);
  }

 private:
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (v1::MagicLinkService::Stub::*method)(
                                    grpc::ClientContext*, const Request&, Response*),
                                const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    // Added per call rather than as CallCredentials: gRPC drops call
    // credentials on plaintext channels, which local development uses.
    if (!authorization_.empty()) context.AddMetadata("authorization", authorization_);
    Response response;
    const grpc::Status status = (stub_.get()->*method)(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  std::unique_ptr<v1::MagicLinkService::Stub> stub_;
  const std::string authorization_;
  const absl::Duration timeout_;
};

absl::Status InvalidOption(absl::string_view field, absl::string_view description) {
  return MakeError(absl::StatusCode::kInvalidArgument,
                   absl::StrCat("invalid connection option ", field, ": ", description),
                   v1::INVALID_REQUEST, {}, {{std::string(field), std::string(description)}});
}

absl::Status CheckOptions(const ConnectionOptions& options) {
  if (options.target.empty()) return InvalidOption("target", "is empty");
  if (!options.load_balancing_policy.empty() && options.load_balancing_policy != "pick_first" &&
      options.load_balancing_policy != "round_robin") {
    return InvalidOption("load_balancing_policy", "must be pick_first or round_robin");
  }
  if (options.timeout <= absl::ZeroDuration()) return InvalidOption("timeout", "must be positive");
  if (options.retry.max_attempts < 1) return InvalidOption("retry.max_attempts", "must be >= 1");
  if (options.retry.initial_backoff < absl::ZeroDuration() ||
      options.retry.max_backoff < options.retry.initial_backoff) {
    return InvalidOption("retry.max_backoff", "must be >= initial_backoff >= 0");
  }
  if (options.retry.multiplier < 1.0) return InvalidOption("retry.multiplier", "must be >= 1");
  for (const unsigned char c : options.api_key) {
    // The key itself is never echoed, only that it is malformed.
    if (c < 0x21 || c > 0x7e) {
      return InvalidOption("api_key", "must be printable ASCII without spaces");
    }
  }
  if (options.tls.client_cert_chain_pem.empty() != options.tls.client_private_key_pem.empty()) {
    return InvalidOption("tls", "set both the client certificate and its key, or neither");
  }
  if (!options.tls.enabled &&
      (!options.tls.root_certs_pem.empty() || !options.tls.client_cert_chain_pem.empty())) {
    return InvalidOption("tls", "certificates are given but TLS is not enabled");
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> MakeChannel(const ConnectionOptions& options) {
  grpc::ChannelArguments args;
  args.SetUserAgentPrefix(kUserAgent);
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (!options.load_balancing_policy.empty()) {
    args.SetLoadBalancingPolicyName(options.load_balancing_policy);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls.enabled) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls.root_certs_pem;
    ssl.pem_cert_chain = options.tls.client_cert_chain_pem;
    ssl.pem_private_key = options.tls.client_private_key_pem;
    credentials = grpc::SslCredentials(ssl);
    if (!options.tls.server_name_override.empty()) {
      args.SetSslTargetNameOverride(options.tls.server_name_override);
    }
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateCustomChannel(options.target, credentials, args);
}

}  // namespace

absl::StatusOr<std::shared_ptr<Connection>> MakeConnection(const ConnectionOptions& options) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  auto grpc_connection =
      std::make_shared<GrpcConnection>(MakeChannel(options), options.api_key, options.timeout);
  return MakeRetryingConnection(std::move(grpc_connection), options.retry);
}

}  // namespace magiclink::client
