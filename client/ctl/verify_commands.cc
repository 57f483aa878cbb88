// `magiclinkctl verify` and `magiclinkctl peek`: a token's claims as one JSON
// object on stdout, or the reason it is not usable (exit code 3).
#include <google/protobuf/util/json_util.h>

#include <iostream>

#include "client/ctl/command.h"

namespace magiclink::ctl {
namespace {

ExitCode PrintClaims(const absl::StatusOr<v1::VerifyResponse>& claims) {
  if (!claims.ok()) return ReportError(claims.status());
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(*claims, &json, options).ok()) {
    return ReportError(absl::InternalError("cannot print the claims as JSON"));
  }
  std::cout << json << "\n";
  return kExitOk;
}

ExitCode RunVerify(const ParsedFlags& flags, client::Client& client, v1::VerifyMode mode) {
  absl::StatusOr<std::string> token = TokenFromFlag(flags);
  if (!token.ok()) return ReportUsage(std::string(token.status().message()));
  v1::VerifyRequest request;
  request.set_token(*token);
  request.set_mode(mode);
  request.set_expected_purpose(flags.Get("purpose"));
  request.set_consume_key(flags.Get("consume_key"));
  return PrintClaims(client.Verify(request));
}

}  // namespace

Command VerifyCommand() {
  return {
      "verify",
      "use a token up (CONSUME) and print its claims",
      "Consumes the token: of any number of verifies of one token exactly one succeeds.\n"
      "Prints the claims (email, purpose, metadata, batch_id, redirect_url, issued_at,\n"
      "expires_at, consumed_at) as one JSON object. A token that is unknown, expired,\n"
      "used, revoked or of another purpose exits with code 3 and prints the reason\n"
      "(TOKEN_NOT_FOUND, TOKEN_EXPIRED, TOKEN_ALREADY_USED, TOKEN_REVOKED,\n"
      "PURPOSE_MISMATCH). Never retried: a consume that reached the server is final.\n",
      {{"token", "TOKEN|-", "the token; - reads it from stdin (required)"},
       {"purpose", "LABEL", "fail with PURPOSE_MISMATCH (without consuming) for another purpose"},
       {"consume_key", "KEY",
        "repeat with the same key within the server's grace window to get the same success"}},
      [](const ParsedFlags& flags, client::Client& client) {
        return RunVerify(flags, client, v1::CONSUME);
      }};
}

Command PeekCommand() {
  return {"peek",
          "check a token without using it up and print its claims",
          "Checks the token without consuming it and prints its claims as one JSON object.\n"
          "Fails exactly as verify would (same exit code 3 and reason).\n",
          {{"token", "TOKEN|-", "the token; - reads it from stdin (required)"},
           {"purpose", "LABEL", "fail with PURPOSE_MISMATCH for another purpose"}},
          [](const ParsedFlags& flags, client::Client& client) {
            return RunVerify(flags, client, v1::PEEK);
          }};
}

}  // namespace magiclink::ctl
