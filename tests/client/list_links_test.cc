// Client::ForEachLink / ListAllLinks walk every page and only those.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "magiclink/client/client.h"
#include "magiclink/client/mocks/mock_connection.h"
#include "tests/client/client_matchers.h"

namespace magiclink::client {
namespace {

using ::magiclink::client::testing::ClientCodeIs;
using ::testing::AllOf;
using ::testing::Property;
using ::testing::Return;
using ::testing::SizeIs;

v1::ListLinksResponse Page(int first, int count, const std::string& next) {
  v1::ListLinksResponse page;
  for (int i = first; i < first + count; ++i) {
    v1::LinkInfo* link = page.add_links();
    link->set_index(i);
    link->set_email(absl::StrCat("user", i, "@example.com"));
  }
  page.set_next_page_token(next);
  return page;
}

auto PageRequest(const std::string& token) {
  return AllOf(Property(&v1::ListLinksRequest::batch_id, "b_1"),
               Property(&v1::ListLinksRequest::state, v1::OUTSTANDING),
               Property(&v1::ListLinksRequest::page_size, 2),
               Property(&v1::ListLinksRequest::page_token, token));
}

v1::ListLinksRequest Request() {
  v1::ListLinksRequest request;
  request.set_batch_id("b_1");
  request.set_state(v1::OUTSTANDING);
  request.set_page_size(2);
  return request;
}

TEST(ClientListLinksTest, ListAllLinksFollowsEveryPageTokenKeepingTheFilter) {
  auto mock = std::make_shared<MockConnection>();
  ::testing::InSequence pages;
  EXPECT_CALL(*mock, ListLinks(PageRequest(""))).WillOnce(Return(Page(0, 2, "p2")));
  EXPECT_CALL(*mock, ListLinks(PageRequest("p2"))).WillOnce(Return(Page(2, 2, "p3")));
  EXPECT_CALL(*mock, ListLinks(PageRequest("p3"))).WillOnce(Return(Page(4, 1, "")));
  absl::StatusOr<std::vector<v1::LinkInfo>> links = Client(mock).ListAllLinks(Request());
  ASSERT_TRUE(links.ok()) << links.status();
  ASSERT_THAT(*links, SizeIs(5));
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*links)[i].index(), i);
}

TEST(ClientListLinksTest, ForEachLinkStopsWhenTheCallbackSaysSo) {
  auto mock = std::make_shared<MockConnection>();
  EXPECT_CALL(*mock, ListLinks).Times(1).WillOnce(Return(Page(0, 2, "p2")));
  int seen = 0;
  EXPECT_TRUE(Client(mock)
                  .ForEachLink(Request(),
                               [&](const v1::LinkInfo&) {
                                 ++seen;
                                 return false;
                               })
                  .ok());
  EXPECT_EQ(seen, 1);
}

TEST(ClientListLinksTest, ErrorOnALaterPageIsReturned) {
  auto mock = std::make_shared<MockConnection>();
  EXPECT_CALL(*mock, ListLinks)
      .WillOnce(Return(Page(0, 2, "p2")))
      .WillOnce(Return(
          MakeError(absl::StatusCode::kInvalidArgument, "bad page_token", magiclink::v1::INVALID_REQUEST)));
  EXPECT_THAT(Client(mock).ListAllLinks(Request()),
              ClientCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(ClientListLinksTest, ServerRepeatingThePageTokenIsAnErrorNotALoop) {
  auto mock = std::make_shared<MockConnection>();
  EXPECT_CALL(*mock, ListLinks)
      .WillOnce(Return(Page(0, 2, "p2")))
      .WillOnce(Return(Page(2, 2, "p2")));
  EXPECT_THAT(Client(mock).ListAllLinks(Request()), ClientCodeIs(absl::StatusCode::kInternal));
}

}  // namespace
}  // namespace magiclink::client
