#include "lastbackend/config/run.h"

#include <unistd.h>

#include <filesystem>

#include "client/api_link.h"
#include "http/listen_options.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/runtime/factory.h"
#include "lastbackend/storage/keys.h"
#include "node/agent.h"
#include "node/cluster_link.h"
#include "node/node.h"
#include "node/node_server.h"

namespace lb::node {

namespace {

// The name becomes a store key segment and a URL path segment.
Status checkNodeName(const std::string& name) {
  Status s = storage::keys::validateSegment(name, "node name");
  return s.isOk() ? s : invalidArgument(s.message() + " (set --node-name)", "node.name");
}

}  // namespace

struct NodeProcess::Parts {
  std::unique_ptr<runtime::cri::ContainerRuntime> cri;
  std::unique_ptr<runtime::cii::ImageRuntime> cii;
  std::unique_ptr<runtime::csi::VolumeRuntime> csi;
  std::unique_ptr<runtime::cni::NetworkRuntime> cni;
  std::unique_ptr<runtime::cpi::ProxyRuntime> cpi;
  std::unique_ptr<client::Client> client;
  std::unique_ptr<ClusterLink> link;
  std::unique_ptr<Agent> agent;
  std::unique_ptr<NodeServer> server;
  std::string name;
};

namespace {

// The CNI (pod subnet, overlay) and the CPI (service VIPs), opened on this
// thread: they act in its network namespace.
Status openNetwork(const config::NodeConfig& config, const std::string& node,
                   NodeProcess::Parts& parts) {
  const auto& n = config.network;
  runtime::cni::Options no;
  if (!n.overlayDriver.empty()) no.driver = n.overlayDriver;
  no.node = node;
  no.underlay = n.overlayIfaceExternal;
  if (!n.overlayIfaceInternal.empty()) no.bridge = n.overlayIfaceInternal;
  no.vni = static_cast<uint32_t>(n.vxlanVni);
  no.port = n.vxlanPort;
  auto cni = runtime::cni::open(no);
  if (!cni.isOk()) return cni.status().withContext("node: network (network.cni)");
  parts.cni = std::move(*cni);
  runtime::cpi::Options po;
  po.driver = runtime::cpi::resolveDriver(n.proxyDriver, n.proxyDriverSet);
  auto cpi = runtime::cpi::open(po);
  if (!cpi.isOk()) return cpi.status().withContext("node: service proxy (network.cpi)");
  parts.cpi = std::move(*cpi);
  return Status::ok();
}

}  // namespace

StatusOr<std::unique_ptr<NodeProcess>> NodeProcess::start(const config::NodeConfig& config) {
  if (!config.nodeName.empty()) LB_RETURN_IF_ERROR(checkNodeName(config.nodeName));
  auto parts = std::make_unique<Parts>();
  runtime::cri::Options co;
  co.driver = config.containerRuntime.empty() ? "docker" : config.containerRuntime;
  co.docker.apiVersion = config.containerRuntimeDockerVersion;
  auto cri = runtime::cri::open(co);
  if (!cri.isOk()) return cri.status().withContext("node: container runtime");
  parts->cri = std::move(*cri);
  auto info = parts->cri->info();
  if (!info.isOk()) return info.status().withContext("node: container runtime");
  runtime::cii::Options io;
  io.driver = config.imageRuntime.empty() ? "docker" : config.imageRuntime;
  io.docker.apiVersion = config.imageRuntimeDockerVersion;
  auto cii = runtime::cii::open(io);
  if (!cii.isOk()) return cii.status().withContext("node: image runtime");
  parts->cii = std::move(*cii);
  runtime::csi::Options so;
  if (!config.storageRoot.empty()) so.root = config.storageRoot;
  auto csi = runtime::csi::open(so);
  if (!csi.isOk()) return csi.status().withContext("node: storage runtime");
  parts->csi = std::move(*csi);

  AgentOptions ao;
  const std::string workdir = config.workdir.empty() ? so.root : config.workdir;
  ao.host = readHostFacts(workdir);
  {
    std::error_code ec;
    std::filesystem::create_directories(workdir, ec);
  }
  ao.node = config.nodeName.empty() ? ao.host.info.hostname : config.nodeName;
  if (Status s = checkNodeName(ao.node); !s.isOk()) return s;
  ao.host.info.hostname = ao.node;
  // One file per node name: agents sharing a workdir keep apart.
  ao.stateFile = workdir + "/agent-" + ao.node + ".json";
  ao.host.info.labels = parseLabels(config.labels);
  if (config.server.port > 0)
    ao.host.info.labels["lastbackend.node.port"] = std::to_string(config.server.port);
  // A node server bound to one address is reached there (not at the
  // internal IP, which is the overlay's underlay address).
  if (const auto& h = config.server.host; !h.empty() && h != "0.0.0.0" && h != "::")
    ao.host.info.labels["lastbackend.node.host"] = h;
  ao.manifestDir = config.manifestDir;
  ao.stopGrace = std::chrono::ceil<std::chrono::seconds>(config.stopGrace);
  parts->name = ao.node;

  if (!config.api.uri.empty()) {
    // The cluster network (a node without the api has no subnet lease).
    LB_RETURN_IF_ERROR(openNetwork(config, ao.node, *parts));
    auto net = parts->cni->info();
    if (!net.isOk()) return net.status().withContext("node: network");
    // Peers send this node's pod traffic to its underlay address.
    ao.host.info.internalIp = net->underlayAddr;
    ao.host.info.internalIface = net->underlay;
    ao.cni = parts->cni.get();
    ao.cpi = parts->cpi.get();
    client::ClientOptions cl = client::apiLinkOptions(config.api, config.token);
    cl.requestTimeout = ao.specWait + std::chrono::seconds(10);
    auto c = client::Client::create(cl);
    if (!c.isOk()) return c.status().withContext("node: api client");
    parts->client = std::move(*c);
    parts->link = makeApiLink(parts->client.get(), ao.node);
  } else {
    spdlog::warn("node: no api uri (--api-uri): running local manifests only");
  }
  parts->agent = std::make_unique<Agent>(ao, parts->link.get(), parts->cri.get(), parts->cii.get(),
                                         parts->csi.get());
  if (config.server.port > 0 && !config.token.empty()) {
    auto no = http::listenOptions(config.server, config.token);
    if (!no.isOk()) return no.status().withContext("node server");
    auto s = NodeServer::create(std::move(*no), parts->agent.get());
    if (!s.isOk()) return s.status();
    parts->server = std::move(*s);
    LB_RETURN_IF_ERROR(parts->server->start());
  }
  LB_RETURN_IF_ERROR(parts->agent->start());
  spdlog::info("node '{}': running on {} {} (api {})", ao.node, info->driver, info->version,
               config.api.uri.empty() ? "none" : config.api.uri);
  std::unique_ptr<NodeProcess> out(new NodeProcess());
  out->parts_ = std::move(parts);
  return out;
}

NodeProcess::~NodeProcess() { stop(); }

void NodeProcess::stop() {
  if (!parts_) return;
  if (parts_->server) parts_->server->stop();
  parts_->agent->stop();
  parts_.reset();
}

const std::string& NodeProcess::name() const { return parts_->name; }
uint16_t NodeProcess::port() const { return parts_ && parts_->server ? parts_->server->port() : 0; }

int run(const config::NodeConfig& config) {
  config::blockShutdownSignals();
  auto p = NodeProcess::start(config);
  if (!p.isOk()) {
    spdlog::error("lastbackend node: {}", p.status().toString());
    return p.status().code() == Code::kInvalidArgument ? 2 : 1;
  }
  config::waitForShutdownSignal();
  spdlog::info("node: stopping (containers keep running)");
  (*p)->stop();
  return 0;
}

}  // namespace lb::node
