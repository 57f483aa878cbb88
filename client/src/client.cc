// Client methods that map one to one onto RPCs, and link pagination.
// IssueBatch, which chunks, lives in issue_batch.cc.
#include "magiclink/client/client.h"

#include <utility>

namespace magiclink::client {

Client::Client(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}

absl::StatusOr<v1::VerifyResponse> Client::Verify(const v1::VerifyRequest& request) {
  return connection_->Verify(request);
}

absl::StatusOr<v1::VerifyResponse> Client::Consume(const std::string& token,
                                                   const std::string& expected_purpose) {
  v1::VerifyRequest request;
  request.set_token(token);
  request.set_mode(v1::CONSUME);
  request.set_expected_purpose(expected_purpose);
  return connection_->Verify(request);
}

absl::StatusOr<v1::VerifyResponse> Client::Peek(const std::string& token,
                                                const std::string& expected_purpose) {
  v1::VerifyRequest request;
  request.set_token(token);
  request.set_mode(v1::PEEK);
  request.set_expected_purpose(expected_purpose);
  return connection_->Verify(request);
}

absl::StatusOr<v1::RevokeResponse> Client::Revoke(const v1::RevokeRequest& request) {
  return connection_->Revoke(request);
}

absl::StatusOr<v1::GetBatchResponse> Client::GetBatch(const std::string& batch_id) {
  v1::GetBatchRequest request;
  request.set_batch_id(batch_id);
  return connection_->GetBatch(request);
}

absl::StatusOr<v1::ListLinksResponse> Client::ListLinks(const v1::ListLinksRequest& request) {
  return connection_->ListLinks(request);
}

absl::Status Client::ForEachLink(v1::ListLinksRequest request,
                                 const std::function<bool(const v1::LinkInfo&)>& on_link) {
  while (true) {
    absl::StatusOr<v1::ListLinksResponse> page = connection_->ListLinks(request);
    if (!page.ok()) return page.status();
    for (const v1::LinkInfo& link : page->links()) {
      if (!on_link(link)) return absl::OkStatus();
    }
    if (page->next_page_token().empty()) return absl::OkStatus();
    // A server handing back the token it was given would loop forever.
    if (page->next_page_token() == request.page_token()) {
      return absl::InternalError("ListLinks returned the page token it was given");
    }
    request.set_page_token(page->next_page_token());
  }
}

absl::StatusOr<std::vector<v1::LinkInfo>> Client::ListAllLinks(
    const v1::ListLinksRequest& request) {
  std::vector<v1::LinkInfo> links;
  absl::Status status = ForEachLink(request, [&links](const v1::LinkInfo& link) {
    links.push_back(link);
    return true;
  });
  if (!status.ok()) return status;
  return links;
}

}  // namespace magiclink::client
