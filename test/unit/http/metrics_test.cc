#include "api/http/metrics_registry.h"

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

}  // namespace
}  // namespace lb::http
