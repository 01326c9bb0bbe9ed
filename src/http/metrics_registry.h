#pragma once

// A small thread-safe metrics registry rendered in the Prometheus text
// exposition format (version 0.0.4). Counters and fixed-bucket histograms,
// each keyed by name and label set. One mutex: fine for the request rates of
// a control plane; observe() is a map lookup and a few adds.
//
// Bounded: each metric keeps at most `maxSeriesPerMetric` label sets. An
// update that would add one more is dropped and counted in
// kDroppedSeriesMetric{metric="<name>"}, so a label fed by clients cannot
// grow memory without bound.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "lastbackend/http/metrics.h"

namespace lb::http {

class MetricsRegistry : public Metrics {
 public:
  static constexpr size_t kDefaultMaxSeriesPerMetric = 2000;
  explicit MetricsRegistry(size_t maxSeriesPerMetric = kDefaultMaxSeriesPerMetric)
      : maxSeries_(maxSeriesPerMetric) {}

  // Default buckets, in seconds, for latency histograms.
  static std::vector<double> defaultLatencyBuckets();

  // Optional: declare help text (and buckets) up front. Undeclared names are
  // created on first use with empty help and default buckets.
  void describeCounter(const std::string& name, const std::string& help);
  void describeHistogram(const std::string& name, const std::string& help,
                         std::vector<double> buckets);

  void incrementCounter(std::string_view name, const MetricLabels& labels,
                        double value = 1) override;
  void observeHistogram(std::string_view name, const MetricLabels& labels,
                        double value) override;

  // Current value of a counter (0 when absent) — for tests.
  double counterValue(std::string_view name, const MetricLabels& labels) const;

  // Label sets of one metric, and updates dropped at the cap — for tests.
  size_t seriesCount(std::string_view name) const;
  double droppedUpdates(std::string_view name) const;

  // text/plain; version=0.0.4
  std::string render() const;

 private:
  struct Hist {
    std::vector<uint64_t> counts;  // per bucket (non-cumulative), plus +Inf last
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    std::string help;
    bool histogram = false;
    std::vector<double> buckets;
    std::map<MetricLabels, double> counters;
    std::map<MetricLabels, Hist> hists;
  };
  Family& family(std::string_view name, bool histogram);
  // False (and the update counted as dropped) when `labels` would be one
  // series past the cap of `f`.
  template <class Series>
  bool admit(std::string_view name, const Series& series, const MetricLabels& labels);

  const size_t maxSeries_;
  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  std::map<std::string, double, std::less<>> dropped_;  // metric -> updates dropped
};

inline constexpr char kDroppedSeriesMetric[] = "lb_metrics_series_dropped_total";
inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace lb::http
