// Uses the installed client against a live server: issues three invites in
// chunks of two, consumes one, and expects the second consume to fail with
// TOKEN_ALREADY_USED. Usage: invite_service HOST:PORT
#include <iostream>

#include "magiclink/client/client.h"

namespace ml = magiclink::client;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: invite_service HOST:PORT\n";
    return 2;
  }
  ml::ConnectionOptions options;
  options.target = argv[1];
  absl::StatusOr<std::shared_ptr<ml::Connection>> connection = ml::MakeConnection(options);
  if (!connection.ok()) {
    std::cerr << connection.status() << "\n";
    return 1;
  }
  ml::Client client(*connection);

  magiclink::v1::IssueBatchRequest request;
  request.set_purpose("invite");
  request.set_redirect_url("http://localhost:3000/welcome");
  for (const char* email : {"ann@example.com", "bob@example.com", "cy@example.com"}) {
    request.add_recipients()->set_email(email);
  }
  ml::IssueOptions issue_options;
  issue_options.chunk_size = 2;
  absl::StatusOr<ml::IssueBatchResult> issued = client.IssueBatch(request, issue_options);
  if (!issued.ok() || issued->links.size() != 3 || issued->batches.size() != 2 ||
      issued->links[2].email != "cy@example.com") {
    std::cerr << "IssueBatch: " << issued.status() << "\n";
    return 1;
  }
  const std::string& token = issued->links[0].token;
  absl::StatusOr<magiclink::v1::VerifyResponse> claims = client.Consume(token, "invite");
  if (!claims.ok() || claims->email() != "ann@example.com") {
    std::cerr << "Consume: " << claims.status() << "\n";
    return 1;
  }
  claims = client.Consume(token, "invite");
  const ml::Error error(claims.status());
  if (error.code() != grpc::StatusCode::FAILED_PRECONDITION ||
      error.known_reason() != magiclink::v1::TOKEN_ALREADY_USED || error.domain() != ml::kErrorDomain) {
    std::cerr << "second Consume: " << claims.status() << "\n";
    return 1;
  }
  std::cout << "invite_service: ok\n";
  return 0;
}
