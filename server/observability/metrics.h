// A small metrics registry: counters, gauges and histograms whose labels come
// only from fixed sets of values declared up front, exposed in the Prometheus
// text format 0.0.4. A label value is chosen by its index in that set, so no
// request data (a token, an email, metadata) can ever become a label.
//
// Recording is lock-free and allocation-free once a series exists: a series
// is created on its first use (one allocation) and then found by index.
//
//   MetricsRegistry registry;
//   CounterFamily& calls = registry.AddCounter(
//       "magiclink_rpc_total", "Calls by method and code.",
//       {{"method", {"IssueBatch", "Verify"}}, {"code", {"OK", "NOT_FOUND"}}});
//   calls.At({1, 0}).Increment();   // method="Verify", code="OK"
//   std::string text = registry.Expose();
#ifndef MAGICLINK_SERVER_OBSERVABILITY_METRICS_H_
#define MAGICLINK_SERVER_OBSERVABILITY_METRICS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace magiclink {

// One label dimension: its name and every value it may take.
struct MetricLabel {
  std::string name;
  std::vector<std::string> values;
};

// A monotonically increasing count.
class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (upper bounds, ascending; +Inf is
// implied), with their sum.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
  };
  Snapshot Take() const;

 private:
  const std::vector<double>& bounds_;
  // buckets_[i]: observations in (bounds_[i-1], bounds_[i]]; the last is
  // above every bound.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

// The series of one metric, one per combination of label values.
template <typename Metric>
class MetricFamily;

class MetricsRegistry;

namespace metrics_internal {

// What every family shares: name, help, labels, and exposition.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  virtual void Expose(std::string& out) const = 0;

 protected:
  FamilyBase(std::string name, std::string help, std::vector<MetricLabel> labels);
  // The flat slot of a combination of label value indexes; aborts on an
  // index out of its label's range (a programming error).
  size_t Slot(std::initializer_list<size_t> indexes) const;
  // The label values of slot `slot`, as `name="value",...` (escaped).
  std::string LabelText(size_t slot) const;
  void AppendHeader(const char* type, std::string& out) const;

  const std::string name_;
  const std::string help_;
  const std::vector<MetricLabel> labels_;
  size_t slots_ = 1;
};

// A new series: counters and gauges need nothing, histograms their bounds.
template <typename Metric>
Metric* NewSeries(const std::vector<double>& bounds) {
  return new Metric();
}
template <>
inline Histogram* NewSeries<Histogram>(const std::vector<double>& bounds) {
  return new Histogram(bounds);
}

}  // namespace metrics_internal

template <typename Metric>
class MetricFamily final : public metrics_internal::FamilyBase {
 public:
  // The series with these label value indexes (one per label, in order).
  Metric& At(std::initializer_list<size_t> indexes) {
    std::atomic<Metric*>& slot = series_[Slot(indexes)];
    Metric* m = slot.load(std::memory_order_acquire);
    if (m != nullptr) return *m;
    std::unique_ptr<Metric> fresh(metrics_internal::NewSeries<Metric>(bounds_));
    if (slot.compare_exchange_strong(m, fresh.get(), std::memory_order_acq_rel)) {
      return *fresh.release();
    }
    return *m;  // another thread created it first
  }

  ~MetricFamily() override {
    for (size_t i = 0; i < slots_; ++i) delete series_[i].load();
  }

  void Expose(std::string& out) const override;

 private:
  friend class magiclink::MetricsRegistry;
  MetricFamily(std::string name, std::string help, std::vector<MetricLabel> labels,
               std::vector<double> bounds = {})
      : FamilyBase(std::move(name), std::move(help), std::move(labels)),
        bounds_(std::move(bounds)),
        series_(new std::atomic<Metric*>[slots_]) {
    for (size_t i = 0; i < slots_; ++i) series_[i].store(nullptr);
  }
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<Metric*>[]> series_;
};

template <>
void MetricFamily<Counter>::Expose(std::string& out) const;
template <>
void MetricFamily<Gauge>::Expose(std::string& out) const;
template <>
void MetricFamily<Histogram>::Expose(std::string& out) const;

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

// Owns every metric family. Families are added once at start-up; recording
// and Expose may then run on any thread.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Adds a family. Names and label names must be valid Prometheus names
  // (aborts otherwise: they are constants in the code); label values may be
  // any text. A family without labels has one series, created here.
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<MetricLabel> labels = {});
  GaugeFamily& AddGauge(std::string name, std::string help, std::vector<MetricLabel> labels = {});
  // `bounds`: bucket upper bounds, ascending and finite.
  HistogramFamily& AddHistogram(std::string name, std::string help, std::vector<double> bounds,
                                std::vector<MetricLabel> labels = {});

  // Every family in the Prometheus text exposition format 0.0.4, in the order
  // added; a labelled family lists only the series used so far.
  std::string Expose() const;

  // The Content-Type of Expose()'s text.
  static constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

 private:
  template <typename Family>
  Family& Add(std::unique_ptr<Family> family);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<metrics_internal::FamilyBase>> families_ ABSL_GUARDED_BY(mu_);
};

// Exposition helpers (exposed for tests).
// A sample value: integers without a fraction, "+Inf", "-Inf", "NaN", else
// the shortest text that reads back as the same double.
std::string FormatMetricValue(double value);
// A label value with \, " and newline escaped.
std::string EscapeLabelValue(const std::string& value);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_OBSERVABILITY_METRICS_H_
