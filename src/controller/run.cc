// `lastbackend controller`.

#include "lastbackend/config/run.h"

#include <cstdlib>

#include "controller/controller.h"
#include "lastbackend/common/logging.h"

namespace lb::controller {

int run(const config::ControllerConfig& config) {
  config::blockShutdownSignals();
  auto store = storage::open(config.storage);
  if (!store.isOk()) {
    spdlog::error("controller: {}", store.status().withContext("opening the store").message());
    return 1;
  }
  Options options;
  options.servicesCidr = config.servicesCidr.empty() ? options.servicesCidr : config.servicesCidr;
  if (config.nodeOfflineTimeout.count() > 0) options.nodeOfflineTimeout = config.nodeOfflineTimeout;
  // Not in the option table yet (src/config is another component's).
  if (const char* id = std::getenv("LB_CONTROLLER_ID"); id && *id) options.id = id;
  if (const char* ttl = std::getenv("LB_CONTROLLER_LEASE_TTL"); ttl && *ttl) {
    long ms = std::strtol(ttl, nullptr, 10);
    if (ms > 0) options.leaseTtl = std::chrono::milliseconds(ms);
  }
  if (const char* resync = std::getenv("LB_CONTROLLER_RESYNC"); resync && *resync) {
    long ms = std::strtol(resync, nullptr, 10);
    if (ms > 0) options.resyncInterval = std::chrono::milliseconds(ms);
  }
  if (const char* ne = std::getenv("LB_CONTROLLER_NODE_ENDPOINTS"); ne && *ne)
    options.nodeEndpointManifests = std::string(ne) != "0" && std::string(ne) != "false";
  auto controller =
      Controller::create(std::shared_ptr<storage::Storage>(std::move(*store)), options);
  if (!controller.isOk()) {
    spdlog::error("controller: {}", controller.status().message());
    return 2;
  }
  (*controller)->start();
  spdlog::info("controller started (services CIDR {}, node offline timeout {} ms)",
               options.servicesCidr, options.nodeOfflineTimeout.count());
  config::waitForShutdownSignal();
  spdlog::info("controller stopping");
  (*controller)->stop(true);
  return 0;
}

}  // namespace lb::controller
