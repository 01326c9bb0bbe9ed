#pragma once

// The metrics hook. Components that want to be counted (the API server,
// storage drivers, loops) take a Metrics& (or a null pointer = not counted)
// and never depend on the registry that renders them, so storage can be
// instrumented without linking the HTTP layer.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lb::http {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  virtual ~Metrics() = default;
  // Adds `value` to the counter `name` with these labels (created on first use).
  // Thread-safe.
  virtual void incrementCounter(std::string_view name, const MetricLabels& labels,
                                double value = 1) = 0;
  // Records one observation in the histogram `name`. Thread-safe.
  virtual void observeHistogram(std::string_view name, const MetricLabels& labels,
                                double value) = 0;
};

}  // namespace lb::http
