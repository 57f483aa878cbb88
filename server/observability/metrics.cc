#include "server/observability/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace magiclink {
namespace {

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; no ':' in label names.
bool IsValidName(const std::string& name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool ok = absl::ascii_isalpha(c) || c == '_' || (allow_colon && c == ':') ||
                    (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

[[noreturn]] void Misuse(const std::string& what) {
  std::fprintf(stderr, "metrics registry misuse: %s\n", what.c_str());
  std::abort();
}

void AddDouble(std::atomic<double>& target, double delta) {
  double old = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
  }
}

// HELP text escaping: backslash and newline only.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// One sample line: name{labels} value.
void AppendSample(std::string& out, const std::string& name, const std::string& labels,
                  const std::string& value) {
  out += name;
  if (!labels.empty()) absl::StrAppend(&out, "{", labels, "}");
  absl::StrAppend(&out, " ", value, "\n");
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[64];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, r.ptr);
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

void Gauge::Add(double delta) { AddDouble(value_, delta); }

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  // The first bound >= value: Prometheus buckets are "less than or equal".
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                       bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AddDouble(sum_, value);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  s.cumulative.reserve(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

namespace metrics_internal {

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<MetricLabel> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {
  if (!IsValidName(name_, /*allow_colon=*/true)) Misuse("invalid metric name " + name_);
  for (const MetricLabel& label : labels_) {
    if (!IsValidName(label.name, /*allow_colon=*/false) || label.name.rfind("__", 0) == 0 ||
        label.name == "le") {
      Misuse(absl::StrCat("invalid label name ", label.name, " on ", name_));
    }
    if (label.values.empty()) Misuse(absl::StrCat("label ", label.name, " has no values"));
    for (size_t i = 0; i < label.values.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (label.values[i] == label.values[j]) {
          Misuse(absl::StrCat("label ", label.name, " of ", name_, " repeats value ",
                              label.values[i]));
        }
      }
    }
    slots_ *= label.values.size();
  }
}

size_t FamilyBase::Slot(std::initializer_list<size_t> indexes) const {
  if (indexes.size() != labels_.size()) Misuse("wrong number of label values for " + name_);
  size_t slot = 0;
  size_t label = 0;
  for (size_t index : indexes) {
    const size_t radix = labels_[label].values.size();
    if (index >= radix) Misuse(absl::StrCat("label value index out of range for ", name_));
    slot = slot * radix + index;
    ++label;
  }
  return slot;
}

std::string FamilyBase::LabelText(size_t slot) const {
  // Undo Slot(): the last label varies fastest.
  std::vector<size_t> indexes(labels_.size());
  for (size_t i = labels_.size(); i-- > 0;) {
    indexes[i] = slot % labels_[i].values.size();
    slot /= labels_[i].values.size();
  }
  std::string out;
  for (size_t i = 0; i < labels_.size(); ++i) {
    absl::StrAppend(&out, i > 0 ? "," : "", labels_[i].name, "=\"",
                    EscapeLabelValue(labels_[i].values[indexes[i]]), "\"");
  }
  return out;
}

void FamilyBase::AppendHeader(const char* type, std::string& out) const {
  absl::StrAppend(&out, "# HELP ", name_, " ", EscapeHelp(help_), "\n# TYPE ", name_, " ", type,
                  "\n");
}

}  // namespace metrics_internal

template <>
void MetricFamily<Counter>::Expose(std::string& out) const {
  AppendHeader("counter", out);
  for (size_t i = 0; i < slots_; ++i) {
    if (const Counter* c = series_[i].load(std::memory_order_acquire)) {
      AppendSample(out, name_, LabelText(i), absl::StrCat(c->value()));
    }
  }
}

template <>
void MetricFamily<Gauge>::Expose(std::string& out) const {
  AppendHeader("gauge", out);
  for (size_t i = 0; i < slots_; ++i) {
    if (const Gauge* g = series_[i].load(std::memory_order_acquire)) {
      AppendSample(out, name_, LabelText(i), FormatMetricValue(g->value()));
    }
  }
}

template <>
void MetricFamily<Histogram>::Expose(std::string& out) const {
  AppendHeader("histogram", out);
  for (size_t i = 0; i < slots_; ++i) {
    const Histogram* h = series_[i].load(std::memory_order_acquire);
    if (h == nullptr) continue;
    const Histogram::Snapshot s = h->Take();
    const std::string labels = LabelText(i);
    const std::string prefix = labels.empty() ? "" : labels + ",";
    for (size_t b = 0; b < s.cumulative.size(); ++b) {
      const std::string le = b < bounds_.size() ? FormatMetricValue(bounds_[b]) : "+Inf";
      AppendSample(out, name_ + "_bucket", absl::StrCat(prefix, "le=\"", le, "\""),
                   absl::StrCat(s.cumulative[b]));
    }
    AppendSample(out, name_ + "_sum", labels, FormatMetricValue(s.sum));
    AppendSample(out, name_ + "_count", labels, absl::StrCat(s.cumulative.back()));
  }
}

template <typename Family>
Family& MetricsRegistry::Add(std::unique_ptr<Family> family) {
  Family& ref = *family;
  if (family->labels_.empty()) family->At({});  // an unlabelled series always shows
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
  return ref;
}

CounterFamily& MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<MetricLabel> labels) {
  return Add(std::unique_ptr<CounterFamily>(
      new CounterFamily(std::move(name), std::move(help), std::move(labels))));
}

GaugeFamily& MetricsRegistry::AddGauge(std::string name, std::string help,
                                       std::vector<MetricLabel> labels) {
  return Add(std::unique_ptr<GaugeFamily>(
      new GaugeFamily(std::move(name), std::move(help), std::move(labels))));
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                               std::vector<double> bounds,
                                               std::vector<MetricLabel> labels) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      Misuse("histogram bounds must be finite and ascending: " + name);
    }
  }
  return Add(std::unique_ptr<HistogramFamily>(
      new HistogramFamily(std::move(name), std::move(help), std::move(labels), std::move(bounds))));
}

std::string MetricsRegistry::Expose() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& family : families_) family->Expose(out);
  return out;
}

}  // namespace magiclink
