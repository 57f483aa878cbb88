// The metrics registry's Prometheus text format (0.0.4): headers, label
// escaping, cumulative histogram buckets, values; and ServerMetrics' fixed
// label sets.
#include "server/observability/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "server/observability/server_metrics.h"

namespace magiclink {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CounterFamilyListsHelpTypeAndOnlyUsedSeries) {
  MetricsRegistry registry;
  CounterFamily& calls = registry.AddCounter(
      "calls_total", "Calls.", {{"method", {"A", "B", "C"}}, {"code", {"OK", "NOT_FOUND"}}});
  calls.At({1, 1}).Increment(3);
  calls.At({0, 0}).Increment();
  EXPECT_EQ(registry.Expose(),
            "# HELP calls_total Calls.\n"
            "# TYPE calls_total counter\n"
            "calls_total{method=\"A\",code=\"OK\"} 1\n"
            "calls_total{method=\"B\",code=\"NOT_FOUND\"} 3\n");
}

TEST(MetricsTest, UnlabelledMetricsShowFromTheStart) {
  MetricsRegistry registry;
  registry.AddCounter("things_total", "Things.");
  registry.AddGauge("level", "Level.");
  EXPECT_EQ(registry.Expose(),
            "# HELP things_total Things.\n# TYPE things_total counter\nthings_total 0\n"
            "# HELP level Level.\n# TYPE level gauge\nlevel 0\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  registry.AddGauge("g", "Back\\slash and\nnewline.", {{"v", {"a\"b\\c\nd"}}}).At({0}).Set(2);
  EXPECT_EQ(registry.Expose(),
            "# HELP g Back\\\\slash and\\nnewline.\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\"b\\\\c\\nd\"} 2\n");
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfEqualToCount) {
  MetricsRegistry registry;
  HistogramFamily& h =
      registry.AddHistogram("latency_seconds", "Latency.", {0.25, 0.5, 2}, {{"op", {"x"}}});
  // Binary fractions, so the sum is exact.
  for (double v : {0.125, 0.25, 0.375, 1.5, 1.5, 7.0}) h.At({0}).Observe(v);
  EXPECT_EQ(registry.Expose(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{op=\"x\",le=\"0.25\"} 2\n"  // 0.25 is "<= le"
            "latency_seconds_bucket{op=\"x\",le=\"0.5\"} 3\n"
            "latency_seconds_bucket{op=\"x\",le=\"2\"} 5\n"
            "latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 6\n"
            "latency_seconds_sum{op=\"x\"} 10.75\n"
            "latency_seconds_count{op=\"x\"} 6\n");
}

TEST(MetricsTest, UnlabelledHistogramHasOnlyLeOnBuckets) {
  MetricsRegistry registry;
  registry.AddHistogram("sizes", "Sizes.", {1, 10}).At({}).Observe(3);
  EXPECT_EQ(registry.Expose(),
            "# HELP sizes Sizes.\n# TYPE sizes histogram\n"
            "sizes_bucket{le=\"1\"} 0\nsizes_bucket{le=\"10\"} 1\nsizes_bucket{le=\"+Inf\"} 1\n"
            "sizes_sum 3\nsizes_count 1\n");
}

TEST(MetricsTest, ValuesUseTheFormatsPrometheusReads) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");  // shortest round trip, not 0.1000000000000000055
  EXPECT_EQ(FormatMetricValue(1e20), "1e+20");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
}

TEST(MetricsTest, GaugeGoesUpAndDown) {
  MetricsRegistry registry;
  Gauge& g = registry.AddGauge("in_use", "In use.").At({});
  g.Add(3);
  g.Add(-1);
  EXPECT_EQ(g.value(), 2);
}

TEST(MetricsTest, ConcurrentRecordingLosesNothing) {
  MetricsRegistry registry;
  CounterFamily& c = registry.AddCounter("c_total", "C.", {{"k", {"a", "b"}}});
  HistogramFamily& h = registry.AddHistogram("h", "H.", {1, 2}, {{"k", {"a", "b"}}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.At({static_cast<size_t>(i % 2)}).Increment();  // series created concurrently
        h.At({static_cast<size_t>(t % 2)}).Observe(1.5);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(c.At({0}).value(), 40000u);
  EXPECT_EQ(c.At({1}).value(), 40000u);
  const Histogram::Snapshot s = h.At({0}).Take();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, 40000, 40000}));
  EXPECT_DOUBLE_EQ(s.sum, 60000);
}

TEST(MetricsDeathTest, InvalidNamesAndIndexesAbort) {
  MetricsRegistry registry;
  EXPECT_DEATH(registry.AddCounter("bad-name", "x"), "invalid metric name");
  EXPECT_DEATH(registry.AddCounter("ok", "x", {{"le", {"a"}}}), "invalid label name");
  EXPECT_DEATH(registry.AddHistogram("h", "x", {2, 1}), "ascending");
  EXPECT_DEATH(registry.AddCounter("d", "x", {{"k", {"a", "b", "a"}}}), "repeats value a");
  CounterFamily& c = registry.AddCounter("c", "x", {{"k", {"a"}}});
  EXPECT_DEATH(c.At({1}), "out of range");
}

TEST(ServerMetricsTest, UnknownMethodsAndReasonsFallIntoFixedValues) {
  ServerMetrics metrics("1.2.3");
  metrics.RpcDone(ServerMetrics::RpcMethodIndex("/magiclink.v1.MagicLinkService/Verify"), 9,
                  "TOKEN_ALREADY_USED", 0.002);
  // A method path and a reason a client could choose: neither may become a label.
  metrics.RpcDone(ServerMetrics::RpcMethodIndex("/evil/ann@example.com"), 12, "secret-token-value",
                  0.001);
  metrics.RpcDone(ServerMetrics::RpcMethodIndex(nullptr), 99, "", 0.001);
  const std::string text = metrics.registry().Expose();
  EXPECT_THAT(text, HasSubstr("magiclink_rpc_total{method=\"Verify\",code=\"FAILED_PRECONDITION\","
                              "reason=\"TOKEN_ALREADY_USED\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("magiclink_rpc_total{method=\"other\",code=\"UNIMPLEMENTED\","
                              "reason=\"OTHER\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("magiclink_rpc_total{method=\"other\",code=\"UNKNOWN\",reason=\"\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("magiclink_build_info{version=\"1.2.3\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("example.com")));
  EXPECT_THAT(text, Not(HasSubstr("secret")));
}

TEST(ServerMetricsTest, StoreReportsBecomeCountersGaugesAndHistograms) {
  ServerMetrics metrics("dev");
  metrics.LinksIssued(5);
  metrics.LinksConsumed(1);
  metrics.LinksRevoked(2);
  metrics.LinksSwept(4);
  metrics.ConnectionsInUse(+1);
  metrics.ConnectionsInUse(+1);
  metrics.ConnectionsInUse(-1);
  metrics.ConnectionWaiters(+1);
  metrics.ConsumeStatement(7);
  metrics.InsertStatement(3);
  metrics.OperationDone(StoreOperation::kConsumeToken, absl::Milliseconds(3));
  metrics.SetServing(true);
  const std::string text = metrics.registry().Expose();
  for (const char* line : {
           "magiclink_links_issued_total 5\n",
           "magiclink_links_consumed_total 1\n",
           "magiclink_links_revoked_total 2\n",
           "magiclink_links_swept_total 4\n",
           "magiclink_store_connections_in_use 1\n",
           "magiclink_store_connection_waiters 1\n",
           "magiclink_store_consume_statements_total 1\n",
           "magiclink_store_consume_statement_calls_bucket{le=\"5\"} 0\n",
           "magiclink_store_consume_statement_calls_bucket{le=\"10\"} 1\n",
           "magiclink_store_insert_statements_total 1\n",
           "magiclink_store_insert_statement_calls_bucket{le=\"2\"} 0\n",
           "magiclink_store_insert_statement_calls_bucket{le=\"3\"} 1\n",
           "magiclink_store_operation_duration_seconds_bucket{operation=\"consume_token\","
           "le=\"0.005\"} 1\n",
           "magiclink_health_serving 1\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line));
  }
}

}  // namespace
}  // namespace magiclink
