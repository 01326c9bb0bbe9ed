// `lastbackend controller`.

#include "lastbackend/config/run.h"

#include "controller/controller.h"
#include "lastbackend/common/logging.h"

namespace lb::controller {

Options optionsFrom(const config::ControllerConfig& config) {
  Options options;
  if (!config.servicesCidr.empty()) options.servicesCidr = config.servicesCidr;
  if (!config.podsCidr.empty()) options.podsCidr = config.podsCidr;
  if (config.nodeSubnetSize > 0) options.nodeSubnetSize = config.nodeSubnetSize;
  if (config.nodeOfflineTimeout.count() > 0) options.nodeOfflineTimeout = config.nodeOfflineTimeout;
  if (!config.id.empty()) options.id = config.id;
  if (config.leaseTtl.count() > 0) options.leaseTtl = config.leaseTtl;
  if (config.resync.count() > 0) options.resyncInterval = config.resync;
  options.nodeEndpointManifests = config.nodeEndpoints;
  if (config.deploymentHistory > 0) options.deploymentHistory = config.deploymentHistory;
  if (config.rolloutDeadline.count() > 0) options.rolloutDeadline = config.rolloutDeadline;
  return options;
}

int run(const config::ControllerConfig& config) {
  config::blockShutdownSignals();
  auto store = storage::open(config.storage);
  if (!store.isOk()) {
    spdlog::error("controller: {}", store.status().withContext("opening the store").message());
    return 1;
  }
  Options options = optionsFrom(config);
  auto controller =
      Controller::create(std::shared_ptr<storage::Storage>(std::move(*store)), options);
  if (!controller.isOk()) {
    spdlog::error("controller: {}", controller.status().message());
    return 2;
  }
  (*controller)->start();
  spdlog::info(
      "controller started (services CIDR {}, pods CIDR {} in /{} subnets, node offline timeout "
      "{} ms, lease TTL {} ms, resync {} ms, node endpoint manifests {}, deployment history {})",
      options.servicesCidr, options.podsCidr, options.nodeSubnetSize,
      options.nodeOfflineTimeout.count(), options.leaseTtl.count(), options.resyncInterval.count(),
      options.nodeEndpointManifests ? "on" : "off", options.deploymentHistory);
  config::waitForShutdownSignal();
  spdlog::info("controller stopping");
  (*controller)->stop(true);
  return 0;
}

}  // namespace lb::controller
