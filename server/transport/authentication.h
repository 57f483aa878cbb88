// Authentication for gRPC calls: takes the credentials a call carries (the
// "authorization: Bearer <api key>" metadata and, on a mutual-TLS connection,
// the verified client certificate) and asks the CallerDirectory who is
// calling. Authorization (scopes, purposes, prefixes) is the service's job.
//
//   absl::StatusOr<Caller> caller = AuthenticateCall(directory, *context);
//   if (!caller.ok()) return ToGrpcStatus(caller.status());
#ifndef MAGICLINK_SERVER_TRANSPORT_AUTHENTICATION_H_
#define MAGICLINK_SERVER_TRANSPORT_AUTHENTICATION_H_

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/callers.h"

namespace magiclink {

// The caller of `context`. UNAUTHENTICATED (reason UNAUTHENTICATED) for
// missing, malformed, repeated or unknown credentials; never echoes a key.
// With no callers configured every call is Caller::Unrestricted("local").
absl::StatusOr<Caller> AuthenticateCall(const CallerDirectory& callers,
                                        const grpc::ServerContext& context);

// The API key in an authorization metadata value ("Bearer <key>", the scheme
// case-insensitive); nullopt when the value has another shape.
std::optional<std::string> ParseBearer(absl::string_view authorization);

// The identities of the verified client certificate of `context` (subject
// common name and every subject alternative name); empty without one.
std::vector<std::string> PeerCertificateIdentities(const grpc::ServerContext& context);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_TRANSPORT_AUTHENTICATION_H_
