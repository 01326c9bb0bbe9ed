#include "lastbackend/storage/keys.h"

#include <gtest/gtest.h>

#include <set>

namespace lb::storage::keys {
namespace {

TEST(Keys, ObjectKeysFollowTheReferenceTree) {
  EXPECT_EQ(namespaceKey("demo").value(), "/namespace/demo");
  EXPECT_EQ(serviceKey("demo", "web").value(), "/service/demo:web");
  EXPECT_EQ(endpointKey("demo", "web").value(), "/endpoint/demo:web");
  EXPECT_EQ(deploymentKey("demo", "web", "d1").value(), "/deployment/demo:web:d1");
  EXPECT_EQ(podKey("demo", "web", "d1", "p1").value(), "/pod/demo:web:d1:p1");
  EXPECT_EQ(volumeKey("demo", "data").value(), "/volume/demo:data");
  EXPECT_EQ(secretKey("demo", "s").value(), "/secret/demo:s");
  EXPECT_EQ(configKey("demo", "c").value(), "/config/demo:c");
  EXPECT_EQ(routeKey("demo", "r").value(), "/route/demo:r");
  EXPECT_EQ(discoveryKey("d1", Part::kInfo).value(), "/discovery/d1/info");
  EXPECT_EQ(ingressKey("i1", Part::kStatus).value(), "/ingress/i1/status");
  EXPECT_EQ(exporterKey("e1", Part::kInfo).value(), "/exporter/e1/info");
  EXPECT_EQ(clusterInfoKey(), "/cluster/info");
  EXPECT_EQ(nodeKey("n1", Part::kInfo).value(), "/cluster/node/n1/info");
  EXPECT_EQ(nodeKey("n1", Part::kStatus).value(), "/cluster/node/n1/status");
  EXPECT_EQ(subnetKey("10.0.0.0/24").value(), "/subnet/10.0.0.0_24");
  EXPECT_EQ(subnetKey("fd00::/64").value(), "/subnet/fd00::_64");
  EXPECT_EQ(nodeManifestKey("n1", ManifestKind::kPod, "demo:web:d1:p1").value(),
            "/manifest/node/n1/pod/demo:web:d1:p1");
  EXPECT_EQ(nodeManifestKey("n1", ManifestKind::kVolume, "demo:data").value(),
            "/manifest/node/n1/volume/demo:data");
  EXPECT_EQ(nodeManifestKey("n1", ManifestKind::kEndpoint, "demo:web").value(),
            "/manifest/node/n1/endpoint/demo:web");
  EXPECT_EQ(nodeManifestKey("n1", ManifestKind::kSecret, "demo:s").value(),
            "/manifest/node/n1/secret/demo:s");
  EXPECT_EQ(nodeManifestKey("n1", ManifestKind::kConfig, "demo:c").value(),
            "/manifest/node/n1/config/demo:c");
  EXPECT_EQ(clusterEndpointManifestKey("demo:web").value(), "/manifests/cluster/endpoint/demo:web");
  EXPECT_EQ(clusterSubnetManifestKey("10.244.1.0/24").value(),
            "/manifests/cluster/subnet/10.244.1.0_24");
  EXPECT_EQ(subnetCidr("10.244.1.0_24"), "10.244.1.0/24");
  EXPECT_EQ(subnetCidr("fd00::_64"), "fd00::/64");
  EXPECT_EQ(ipamKey(), "/system/ipam");
  EXPECT_EQ(controllerKey("c1").value(), "/system/controller/c1");
  EXPECT_EQ(controllerLeadKey("c1").value(), "/system/controller/c1:lead");
}

TEST(Keys, ObjectKeyFromSelfLink) {
  EXPECT_EQ(objectKey(Collection::kPod, "a:b:c:d").value(), "/pod/a:b:c:d");
  EXPECT_EQ(objectKey(Collection::kPod, "a:b:c").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(objectKey(Collection::kPod, "a:b:c:d:e").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(objectKey(Collection::kService, "a::b").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(objectKey(Collection::kSystem, "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(selfLink({"a", "b"}).value(), "a:b");
}

TEST(Keys, RejectsUnsafeSegments) {
  const std::vector<std::string> bads = {"",
                                         ".",
                                         "..",
                                         "a/b",
                                         "a:b",
                                         "x..y",
                                         "sp ace",
                                         "nl\n",
                                         std::string("nul\0x", 5),
                                         std::string(254, 'a'),
                                         "del\x7f"};
  for (const auto& bad : bads) {
    auto k = serviceKey("demo", bad);
    ASSERT_FALSE(k.isOk()) << bad;
    EXPECT_EQ(k.status().code(), Code::kInvalidArgument);
    EXPECT_FALSE(namespaceKey(bad).isOk()) << bad;
    EXPECT_FALSE(nodeKey(bad, Part::kInfo).isOk()) << bad;
  }
  EXPECT_NE(serviceKey("demo", "a/b").status().message().find("service name"), std::string::npos);
  EXPECT_TRUE(serviceKey("demo", "web-1.v2_x").isOk());
  for (const char* bad : {"10.0.0.0", "/24", "10.0.0.0/", "10.0.0.0/24/1", "../x/1", "a b/2"}) {
    EXPECT_FALSE(subnetKey(bad).isOk()) << bad;
    EXPECT_FALSE(clusterSubnetManifestKey(bad).isOk()) << bad;
  }
}

TEST(Keys, FiltersEndWithTheSeparator) {
  EXPECT_EQ(servicesPrefix("ns").value(), "/service/ns:");
  EXPECT_EQ(deploymentsPrefix("ns", "svc").value(), "/deployment/ns:svc:");
  EXPECT_EQ(podsOfServicePrefix("ns", "svc").value(), "/pod/ns:svc:");
  EXPECT_EQ(podsOfDeploymentPrefix("ns", "svc", "d").value(), "/pod/ns:svc:d:");
  EXPECT_EQ(namespacePrefix(Collection::kSecret, "ns").value(), "/secret/ns:");
  EXPECT_FALSE(namespacePrefix(Collection::kNamespace, "ns").isOk());
  EXPECT_EQ(nodeManifestsPrefix("n1").value(), "/manifest/node/n1/");
  EXPECT_EQ(nodeManifestsPrefix("n1", ManifestKind::kPod).value(), "/manifest/node/n1/pod/");
  EXPECT_EQ(nodesPrefix(), "/cluster/node/");
  EXPECT_EQ(controllersPrefix(), "/system/controller/");
  // The pods of ns:svc2 are not pods of ns:svc.
  auto pod2 = podKey("ns", "svc2", "d", "p").value();
  EXPECT_NE(pod2.rfind(podsOfServicePrefix("ns", "svc").value(), 0), 0u);
}

TEST(Keys, CollectionsHaveDistinctNamesAndPrefixes) {
  std::set<std::string_view> names;
  for (auto c : collections()) {
    EXPECT_TRUE(names.insert(collectionName(c)).second) << collectionName(c);
    EXPECT_EQ(collectionPrefix(c), "/" + std::string(collectionName(c)) + "/");
  }
  EXPECT_EQ(names.size(), 17u);
  EXPECT_EQ(collectionName(Collection::kClusterManifest), "manifests");
  EXPECT_EQ(selfLinkParts(Collection::kPod), 4);
  EXPECT_EQ(selfLinkParts(Collection::kCluster), 0);
}

}  // namespace
}  // namespace lb::storage::keys
