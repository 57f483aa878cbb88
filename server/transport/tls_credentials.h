// Server credentials for the gRPC port: TLS from PEM files, optionally
// mutual TLS (client certificates verified against a CA bundle).
//
//   absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
//       MakeServerCredentials({.cert_file = "server.pem", .key_file = "server.key"});
#ifndef MAGICLINK_SERVER_TRANSPORT_TLS_CREDENTIALS_H_
#define MAGICLINK_SERVER_TRANSPORT_TLS_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace magiclink {

// Where the TLS material is. All empty: plaintext.
struct TlsFiles {
  std::string cert_file;       // PEM certificate chain of the server
  std::string key_file;        // PEM private key of the server
  std::string client_ca_file;  // PEM CA bundle for client certificates; empty: no mTLS
  // With a client CA: refuse connections without a valid client certificate.
  // Without it, a client certificate is optional but still verified if sent.
  bool require_client_certificate = false;

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// Plaintext credentials when `files` is not enabled; otherwise TLS
// credentials. INVALID_ARGUMENT when only one of cert and key is given, or
// require_client_certificate has no client CA; FAILED_PRECONDITION when a file
// cannot be read. Messages name files, never their content.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_TRANSPORT_TLS_CREDENTIALS_H_
