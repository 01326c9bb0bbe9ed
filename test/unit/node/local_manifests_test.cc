// Local manifests (--manifest-path): services become pods of namespace
// "local"; a file that does not parse fails the load.

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "node/agent.h"

namespace lb::node {
namespace {

TEST(LocalManifests, ServicesBecomeLocalPods) {
  auto dir = std::filesystem::temp_directory_path() / ("lb-node-local-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "web.yml") << R"(kind: Service
version: v1
meta: {name: web}
spec:
  replicas: 2
  template:
    containers:
      - name: httpd
        image: {name: lb/busybox:local}
)";
  std::ofstream(dir / "ignored.txt") << "not a manifest";
  auto m = loadLocalManifests(dir.string());
  ASSERT_TRUE(m.isOk()) << m.status().toString();
  EXPECT_EQ(m->pods.size(), 2u);
  EXPECT_EQ(m->pods.count("local:web:local:0"), 1u);
  EXPECT_EQ(m->pods.at("local:web:local:1").spec.template_.containers.at(0).name, "httpd");
  std::ofstream(dir / "bad.yml") << "kind: Service\nspec: [";
  auto bad = loadLocalManifests(dir.string());
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("bad.yml"), std::string::npos) << bad.status().toString();
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(loadLocalManifests("/nonexistent-lb-dir").isOk());
}

}  // namespace
}  // namespace lb::node
