// The flags every subcommand shares and what they build: the connection.
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/ctl/command.h"

namespace magiclink::ctl {

std::vector<FlagSpec> GlobalFlags() {
  return {
      {"server", "HOST:PORT", "magiclinkd address (default $MAGICLINK_SERVER or localhost:50051)"},
      {"load_balancing", "POLICY",
       "round_robin spreads calls over every address of --server (e.g. "
       "ipv4:10.0.0.1:50051,10.0.0.2:50051 or dns:///name:50051); default pick_first"},
      {"api_key", "KEY",
       "API key, sent as 'authorization: Bearer' (default $MAGICLINK_API_KEY, which stays "
       "out of ps)"},
      {"api_key_file", "FILE", "read the API key from FILE"},
      {"timeout", "DURATION", "deadline of each call attempt, e.g. 10s or 2m (default 30s)"},
      {"max_attempts", "N",
       "attempts of calls that are safe to retry after UNAVAILABLE (default 4)"},
      {"tls", "", "connect with TLS (implied by the other --tls_* flags)"},
      {"tls_ca", "FILE", "PEM CA certificates for the server (default: system roots)"},
      {"tls_cert", "FILE", "PEM client certificate chain for mutual TLS"},
      {"tls_key", "FILE", "PEM private key of --tls_cert"},
      {"tls_server_name", "NAME", "name to expect in the server's certificate"},
  };
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::stringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
    buffer << in.rdbuf();
  }
  return buffer.str();
}

absl::StatusOr<std::string> TokenFromFlag(const ParsedFlags& flags) {
  std::string token = flags.Get("token");
  if (token == "-") {
    std::getline(std::cin, token);
    token = std::string(absl::StripAsciiWhitespace(token));
  }
  if (token.empty()) {
    return absl::InvalidArgumentError("--token is required (--token=- reads it from stdin)");
  }
  return token;
}

absl::StatusOr<client::Client> ClientFromFlags(
    const ParsedFlags& flags, const std::function<std::string(const char*)>& getenv) {
  client::ConnectionOptions options;
  options.target = flags.Get("server", getenv("MAGICLINK_SERVER"));
  if (options.target.empty()) options.target = "localhost:50051";
  options.load_balancing_policy = flags.Get("load_balancing");

  options.api_key = flags.Get("api_key", getenv("MAGICLINK_API_KEY"));
  if (flags.Has("api_key_file")) {
    absl::StatusOr<std::string> key = ReadInput(flags.Get("api_key_file"));
    if (!key.ok()) return key.status();
    options.api_key = std::string(absl::StripAsciiWhitespace(*key));
  }
  if (flags.Has("timeout") && (!absl::ParseDuration(flags.Get("timeout"), &options.timeout) ||
                               options.timeout <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError("--timeout must be a positive duration such as 10s");
  }
  if (flags.Has("max_attempts") &&
      (!absl::SimpleAtoi(flags.Get("max_attempts"), &options.retry.max_attempts) ||
       options.retry.max_attempts < 1)) {
    return absl::InvalidArgumentError("--max_attempts must be a whole number >= 1");
  }

  options.tls.enabled = flags.GetBool("tls") || flags.Has("tls_ca") || flags.Has("tls_cert") ||
                        flags.Has("tls_key") || flags.Has("tls_server_name");
  const std::pair<const char*, std::string*> files[] = {
      {"tls_ca", &options.tls.root_certs_pem},
      {"tls_cert", &options.tls.client_cert_chain_pem},
      {"tls_key", &options.tls.client_private_key_pem}};
  for (const auto& [flag, target] : files) {
    if (!flags.Has(flag)) continue;
    absl::StatusOr<std::string> pem = ReadInput(flags.Get(flag));
    if (!pem.ok()) return pem.status();
    *target = *std::move(pem);
  }
  options.tls.server_name_override = flags.Get("tls_server_name");

  absl::StatusOr<std::shared_ptr<client::Connection>> connection = client::MakeConnection(options);
  if (!connection.ok()) return connection.status();
  return client::Client(*std::move(connection));
}

}  // namespace magiclink::ctl
