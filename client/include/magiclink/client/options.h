// How the client reaches the server: address, credentials, deadlines and the
// retry policy. A plain value, built once and passed to MakeConnection().
//
//   ConnectionOptions options;
//   options.target = "magiclink.internal:50051";
//   options.api_key = std::getenv("MAGICLINK_API_KEY");
//   options.tls.enabled = true;
//   options.tls.root_certs_pem = ReadFile("/etc/magiclink/ca.pem");
//   options.timeout = absl::Seconds(10);
#ifndef MAGICLINK_CLIENT_OPTIONS_H_
#define MAGICLINK_CLIENT_OPTIONS_H_

#include <string>

#include "absl/time/time.h"

namespace magiclink::client {

// Transport security. Disabled means plaintext, which the server accepts on
// loopback only.
struct TlsOptions {
  bool enabled = false;
  // PEM CA certificates that sign the server's certificate; empty uses the
  // system roots.
  std::string root_certs_pem;
  // PEM client certificate chain and private key for mutual TLS; set both or
  // neither.
  std::string client_cert_chain_pem;
  std::string client_private_key_pem;
  // Overrides the name checked against the server's certificate (for
  // addressing a server by IP while its certificate names a host).
  std::string server_name_override;
};

// Which failed calls are tried again, and how long to wait in between. Only
// calls that are safe to repeat are retried (see connection.h), and only
// after UNAVAILABLE: the server or its store could not be reached, so the
// call had no effect or, for IssueBatch with a request_id, replays.
struct RetryPolicy {
  // Attempts in total, including the first; 1 disables retries.
  int max_attempts = 4;
  // Wait before the first retry; each further retry waits `multiplier` times
  // longer, up to `max_backoff`. Every wait is drawn uniformly from
  // [cap / 2, cap] so that clients failing together do not retry together.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  double multiplier = 2.0;
};

struct ConnectionOptions {
  // gRPC target, e.g. "localhost:50051", "dns:///magiclink.internal:443" (a
  // name with one address per replica) or "ipv4:10.0.0.1:50051,10.0.0.2:50051".
  std::string target = "localhost:50051";
  // gRPC load-balancing policy over the target's addresses: "pick_first"
  // (gRPC's default: one connection, to the first address that answers) or
  // "round_robin" (a connection to every address, calls spread over the
  // ready ones; a replica that goes away is skipped). Empty: gRPC's default.
  std::string load_balancing_policy;
  // Sent as "authorization: Bearer <api_key>" on every call when not empty.
  // Printable ASCII only; it never appears in errors or logs.
  std::string api_key;
  TlsOptions tls;
  // Deadline of each attempt of each call.
  absl::Duration timeout = absl::Seconds(30);
  RetryPolicy retry;
  // Largest response accepted, in bytes. The default leaves room for 10,000
  // links with maximal redirect URLs in one IssueBatch response.
  int max_receive_message_bytes = 64 << 20;
};

}  // namespace magiclink::client

#endif  // MAGICLINK_CLIENT_OPTIONS_H_
