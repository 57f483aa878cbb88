#include "server/transport/authentication.h"

#include <grpc/grpc_security_constants.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "server/core/errors.h"

namespace magiclink {
namespace {

constexpr char kAuthorization[] = "authorization";

absl::Status Unauthenticated(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated, v1::UNAUTHENTICATED, message);
}

}  // namespace

std::optional<std::string> ParseBearer(absl::string_view authorization) {
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  absl::string_view key = authorization.substr(kScheme.size());
  if (key.empty()) return std::nullopt;
  for (unsigned char c : key) {
    if (c <= 0x20 || c >= 0x7F) return std::nullopt;
  }
  return std::string(key);
}

std::vector<std::string> PeerCertificateIdentities(const grpc::ServerContext& context) {
  std::vector<std::string> out;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  // Peer identity is set only for a client certificate that the server's TLS
  // handshake verified against the configured client CA.
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return out;
  for (const char* property : {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SAN_PROPERTY_NAME}) {
    for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
      out.emplace_back(value.data(), value.size());
    }
  }
  return out;
}

absl::StatusOr<Caller> AuthenticateCall(const CallerDirectory& callers,
                                        const grpc::ServerContext& context) {
  if (callers.empty()) return callers.Authenticate(std::nullopt, {});
  std::optional<std::string> key;
  const auto& metadata = context.client_metadata();
  const auto [begin, end] = metadata.equal_range(kAuthorization);
  if (begin != end) {
    if (std::next(begin) != end) return Unauthenticated("more than one authorization metadata");
    key = ParseBearer(absl::string_view(begin->second.data(), begin->second.size()));
    if (!key) return Unauthenticated("the authorization metadata must be \"Bearer <api key>\"");
  }
  return callers.Authenticate(key, PeerCertificateIdentities(context));
}

}  // namespace magiclink
