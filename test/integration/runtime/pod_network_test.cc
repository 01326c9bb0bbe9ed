// The pod network of one node, as the agent sets it up: the vxlan CNI makes
// the bridge for the node's subnet, the docker CRI makes a docker network on
// that bridge, and a pod's first container gets an address of the subnet
// there. Runs in the rig's network namespace (a veth pair made here is the
// underlay); everything it makes is removed again.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "lastbackend/runtime/factory.h"
#include "support/docker_rig.h"
#include "support/process.h"

namespace lb {
namespace {

using namespace std::chrono_literals;

constexpr const char* kImage = "lb/busybox:local";
constexpr const char* kBridge = "lbpn0";
constexpr const char* kDevice = "lbpn.vx";
constexpr const char* kUnderlay = "lbpn-ul";
constexpr const char* kSubnet = "10.244.66.0/24";

testing::Outcome sh(const std::string& script) {
  static const std::string dir = testing::makeTempDir("lb-podnet-");
  return testing::runProcess({"/bin/sh", "-c", script}, {}, dir, "sh", 30s);
}

// A TCP connection to ip:port within `within` (inside this namespace).
bool connects(const std::string& ip, int port, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    pollfd p{fd, POLLOUT, 0};
    int err = -1;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, 500) == 1) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    ::close(fd);
    if (err == 0) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

class PodNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    LB_REQUIRE_DOCKER_RIG();
    Cleanup();
    const std::string u = kUnderlay;
    auto r =
        sh("ip link add " + u + " type veth peer name " + u + "p && ip addr add " +
           "10.250.66.1/24 dev " + u + " && ip link set " + u + "p up && ip link set " + u + " up");
    ASSERT_EQ(r.code, 0) << r.err;
    runtime::cni::Options o;
    o.node = "node-a";
    o.underlay = kUnderlay;
    o.bridge = kBridge;
    o.device = kDevice;
    auto cni = runtime::cni::open(o);
    ASSERT_TRUE(cni.isOk()) << cni.status().message();
    cni_ = std::move(*cni);
    auto cri = runtime::cri::open({});
    ASSERT_TRUE(cri.isOk()) << cri.status().message();
    cri_ = std::move(*cri);
  }
  void TearDown() override {
    if (cri_) {
      if (!id_.empty()) (void)cri_->remove(id_, true);
      (void)cri_->removeNetwork("lbpn");
    }
    Cleanup();
  }
  // Every VXLAN device of the rig's namespace goes too: one left by an
  // earlier run (same VNI and port) makes the new one fail with EEXIST.
  static void Cleanup() {
    (void)sh(std::string("ip link del ") + kBridge + "; ip link del " + kDevice + "; ip link del " +
             kUnderlay +
             "; for d in $(ip -o link show type vxlan | awk -F': ' '{print $2}' | cut -d@ -f1); "
             "do ip link del \"$d\"; done; true");
  }

  std::unique_ptr<runtime::cni::NetworkRuntime> cni_;
  std::unique_ptr<runtime::cri::ContainerRuntime> cri_;
  std::string id_;
};

TEST_F(PodNetwork, APodGetsAnAddressOfTheNodesSubnetOnTheCniBridge) {
  auto local = cni_->create({.cidr = kSubnet,
                             .node = "node-a",
                             .type = "vxlan",
                             .iface = kUnderlay,
                             .addr = "",
                             .hwaddr = ""});
  ASSERT_TRUE(local.isOk()) << local.status().message();
  auto info = cni_->info();
  ASSERT_TRUE(info.isOk()) << info.status().message();

  runtime::cri::NetworkSpec spec{"lbpn", info->bridge, info->cidr, info->gateway, info->mtu, {}};
  auto net = cri_->ensureNetwork(spec);
  ASSERT_TRUE(net.isOk()) << net.status().message();

  runtime::cri::ContainerSpec c;
  c.name = "lbpn-" + std::to_string(::getpid());
  c.image = kImage;
  c.command = {"/bin/httpd", "-f", "-p", "8080", "-h", "/www"};
  c.network = "lbpn";
  auto id = cri_->create(c);
  ASSERT_TRUE(id.isOk()) << id.status().message();
  id_ = *id;
  ASSERT_TRUE(cri_->start(id_).isOk());
  auto seen = cri_->inspect(id_);
  ASSERT_TRUE(seen.isOk()) << seen.status().message();
  EXPECT_TRUE(seen->ip.starts_with("10.244.66.")) << seen->ip;
  EXPECT_NE(seen->ip, "10.244.66.1");

  // Its interface is a port of the CNI's bridge, with the overlay's MTU,
  // and its default route is the bridge's address.
  auto ports = sh(std::string("ip -o link show master ") + kBridge);
  EXPECT_NE(ports.out.find("mtu 1450"), std::string::npos) << ports.out;
  runtime::cri::ExecOptions e;
  e.command = {"/bin/sh", "-c", "cat /sys/class/net/eth0/mtu; ip route"};
  e.timeout = 10s;
  auto in = cri_->exec(id_, e);
  ASSERT_TRUE(in.isOk()) << in.status().message();
  EXPECT_NE(in->output.find("1450"), std::string::npos) << in->output;
  EXPECT_NE(in->output.find("default via 10.244.66.1"), std::string::npos) << in->output;
  EXPECT_TRUE(connects(seen->ip, 8080, 10s)) << "no answer from " << seen->ip;

  // Docker kept the bridge as the CNI made it, and NATs nothing of it.
  auto subnets = cni_->subnets();
  ASSERT_TRUE(subnets.isOk()) << subnets.status().message();
  EXPECT_TRUE(subnets->at(kSubnet).complete());
  auto addrs = sh(std::string("ip -o -4 addr show dev ") + kBridge);
  EXPECT_NE(addrs.out.find("10.244.66.1/24"), std::string::npos) << addrs.out;
  auto nat = sh("iptables -t nat -S POSTROUTING");
  EXPECT_EQ(nat.out.find("10.244.66.0/24"), std::string::npos) << nat.out;
}

}  // namespace
}  // namespace lb
