#include "http/metrics_registry.h"

#include <algorithm>
#include <cmath>
#include <charconv>

namespace lb::http {
namespace {

std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string formatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form: 0.1, not 0.1000...01
  return std::string(buf, r.ptr);
}

std::string labelText(const MetricLabels& labels, const std::string& extraKey = {},
                      const std::string& extraValue = {}) {
  if (labels.empty() && extraKey.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + escapeLabel(v) + "\"";
  }
  if (!extraKey.empty()) {
    if (!first) out += ",";
    out += extraKey + "=\"" + extraValue + "\"";
  }
  return out + "}";
}

}  // namespace

std::vector<double> MetricsRegistry::defaultLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, bool histogram) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    Family f;
    f.histogram = histogram;
    if (histogram) f.buckets = defaultLatencyBuckets();
    it = families_.emplace(std::string(name), std::move(f)).first;
  }
  return it->second;
}

void MetricsRegistry::describeCounter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  family(name, false).help = help;
}

void MetricsRegistry::describeHistogram(const std::string& name, const std::string& help,
                                        std::vector<double> buckets) {
  std::sort(buckets.begin(), buckets.end());
  std::lock_guard lock(mu_);
  auto& f = family(name, true);
  f.help = help;
  if (f.hists.empty()) f.buckets = std::move(buckets);
}

template <class Series>
bool MetricsRegistry::admit(std::string_view name, const Series& series, const MetricLabels& labels) {
  if (series.size() < maxSeries_ || series.count(labels)) return true;
  auto it = dropped_.find(name);
  if (it == dropped_.end()) it = dropped_.emplace(std::string(name), 0.0).first;
  it->second += 1;
  return false;
}

void MetricsRegistry::incrementCounter(std::string_view name, const MetricLabels& labels,
                                       double value) {
  std::lock_guard lock(mu_);
  auto& f = family(name, false);
  if (f.histogram) return;  // a name is one kind for its lifetime
  if (!admit(name, f.counters, labels)) return;
  f.counters[labels] += value;
}

void MetricsRegistry::observeHistogram(std::string_view name, const MetricLabels& labels,
                                       double value) {
  std::lock_guard lock(mu_);
  auto& f = family(name, true);
  if (!f.histogram) return;
  if (!admit(name, f.hists, labels)) return;
  auto& h = f.hists[labels];
  if (h.counts.empty()) h.counts.assign(f.buckets.size() + 1, 0);
  size_t i = std::lower_bound(f.buckets.begin(), f.buckets.end(), value) - f.buckets.begin();
  ++h.counts[i];
  h.sum += value;
  ++h.count;
}

double MetricsRegistry::counterValue(std::string_view name, const MetricLabels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto c = it->second.counters.find(labels);
  return c == it->second.counters.end() ? 0 : c->second;
}

size_t MetricsRegistry::seriesCount(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  return it->second.histogram ? it->second.hists.size() : it->second.counters.size();
}

double MetricsRegistry::droppedUpdates(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = dropped_.find(name);
  return it == dropped_.end() ? 0 : it->second;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + (f.histogram ? " histogram\n" : " counter\n");
    if (!f.histogram) {
      for (const auto& [labels, v] : f.counters) {
        out += name + labelText(labels) + " " + formatValue(v) + "\n";
      }
      continue;
    }
    for (const auto& [labels, h] : f.hists) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.buckets.size(); ++i) {
        cumulative += h.counts[i];
        out += name + "_bucket" + labelText(labels, "le", formatValue(f.buckets[i])) + " " +
               std::to_string(cumulative) + "\n";
      }
      cumulative += h.counts.back();
      out += name + "_bucket" + labelText(labels, "le", "+Inf") + " " + std::to_string(cumulative) + "\n";
      out += name + "_sum" + labelText(labels) + " " + formatValue(h.sum) + "\n";
      out += name + "_count" + labelText(labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  out += std::string("# HELP ") + kDroppedSeriesMetric + " Metric updates dropped because the metric reached its series cap.\n";
  out += std::string("# TYPE ") + kDroppedSeriesMetric + " counter\n";
  for (const auto& [name, v] : dropped_)
    out += kDroppedSeriesMetric + labelText({{"metric", name}}) + " " + formatValue(v) + "\n";
  return out;
}

}  // namespace lb::http
