#include "http/metrics_registry.h"

#include <gtest/gtest.h>

#include <thread>

namespace lb::http {
namespace {

TEST(MetricsRegistryTest, RendersPrometheusText) {
  MetricsRegistry m;
  m.describeCounter("lb_test_total", "Things counted.");
  m.incrementCounter("lb_test_total", {{"op", "get"}});
  m.incrementCounter("lb_test_total", {{"op", "get"}}, 2);
  m.incrementCounter("lb_test_total", {{"op", "a\"b\\c\nd"}});
  m.describeHistogram("lb_test_seconds", "Latency.", {0.1, 1});
  m.observeHistogram("lb_test_seconds", {}, 0.05);
  m.observeHistogram("lb_test_seconds", {}, 0.5);
  m.observeHistogram("lb_test_seconds", {}, 5);
  std::string text = m.render();
  EXPECT_NE(text.find("# HELP lb_test_total Things counted.\n# TYPE lb_test_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("lb_test_total{op=\"get\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lb_test_total{op=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE lb_test_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("lb_test_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lb_test_seconds_bucket{le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lb_test_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lb_test_seconds_count 3\n"), std::string::npos) << text;
  EXPECT_EQ(m.counterValue("lb_test_total", {{"op", "get"}}), 3);
}

TEST(MetricsRegistryTest, ConcurrentIncrements) {
  MetricsRegistry m;
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) m.incrementCounter("c", {{"k", "v"}});
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(m.counterValue("c", {{"k", "v"}}), 8000);
}

TEST(MetricsRegistryTest, SeriesPastTheCapAreDroppedAndCounted) {
  MetricsRegistry m(/*maxSeriesPerMetric=*/3);
  for (int i = 0; i < 10; ++i) {
    m.incrementCounter("lb_test_total", {{"id", std::to_string(i)}});
    m.observeHistogram("lb_test_seconds", {{"id", std::to_string(i)}}, 0.1);
  }
  EXPECT_EQ(m.seriesCount("lb_test_total"), 3u);
  EXPECT_EQ(m.seriesCount("lb_test_seconds"), 3u);
  EXPECT_EQ(m.droppedUpdates("lb_test_total"), 7);
  EXPECT_EQ(m.droppedUpdates("lb_test_seconds"), 7);
  // A series that exists still counts at the cap.
  m.incrementCounter("lb_test_total", {{"id", "0"}});
  EXPECT_EQ(m.counterValue("lb_test_total", {{"id", "0"}}), 2);
  EXPECT_EQ(m.droppedUpdates("lb_test_total"), 7);
  std::string text = m.render();
  EXPECT_NE(text.find(std::string(kDroppedSeriesMetric) + "{metric=\"lb_test_total\"} 7\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("id=\"9\""), std::string::npos) << text;
}

}  // namespace
}  // namespace lb::http
