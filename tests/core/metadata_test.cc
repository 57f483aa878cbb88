#include "server/core/metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace magiclink {
namespace {

TEST(MetadataTest, JsonRoundTripsAwkwardStrings) {
  Metadata m = {{"", "empty key"},
                {"quote\"back\\slash", "line\nfeed\ttab\r"},
                {"ctl", std::string("\x01\x1f", 2)},
                {"utf8", "caf\xC3\xA9 \xF0\x9F\x98\x80"}};
  const std::string json = EncodeMetadataJson(m);
  EXPECT_EQ(*DecodeMetadataJson(json), m);
  EXPECT_EQ(EncodeMetadataJson({}), "{}");
  EXPECT_EQ(EncodeMetadataJson({{"a", "b"}}), "{\"a\":\"b\"}");
}

TEST(MetadataTest, DecodesJsonAsOtherWritersProduceIt) {
  // PostgreSQL's jsonb output adds spaces and may escape as \uXXXX.
  EXPECT_EQ(*DecodeMetadataJson(" { \"a\" : \"\\u00e9\\ud83d\\ude00\\/\" } "),
            (Metadata{{"a", "\xC3\xA9\xF0\x9F\x98\x80/"}}));
}

TEST(MetadataTest, RejectsAnythingButAFlatStringMap) {
  for (const char* bad : {"", "[]", "{\"a\":1}", "{\"a\":\"b\"", "{\"a\":\"b\"} x", "{a:\"b\"}",
                          "{\"a\":\"\\ud83d\"}", "{\"a\":\"\\q\"}", "{\"a\":{}}",
                          "{\"a\":\"\\udc00\"}", "{\"a\":\"b\",}", "\"a\"", "null"}) {
    EXPECT_THAT(DecodeMetadataJson(bad), testing::StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(MetadataTest, MergeLetsOverridesWin) {
  EXPECT_EQ(MergeMetadata({{"a", "1"}, {"b", "2"}}, {{"b", "3"}, {"c", "4"}}),
            (Metadata{{"a", "1"}, {"b", "3"}, {"c", "4"}}));
}

TEST(MetadataTest, CheckReportsEveryBrokenLimit) {
  Limits limits;
  limits.max_metadata_entries = 2;
  limits.max_metadata_key_length = 3;
  limits.max_metadata_bytes = 10;
  std::vector<FieldViolation> out;
  CheckMetadata({{"a", "1"}, {"b", "2"}}, limits, "metadata", out);
  EXPECT_TRUE(out.empty());
  CheckMetadata({{"long", "x"}, {"b", "0123456789"}, {"", "c"}}, limits, "metadata", out);
  std::vector<std::string> fields;
  for (const FieldViolation& v : out) fields.push_back(v.field);
  EXPECT_THAT(fields, ::testing::UnorderedElementsAre("metadata", "metadata[long]", "metadata",
                                                      "metadata[]"));
}

}  // namespace
}  // namespace magiclink
