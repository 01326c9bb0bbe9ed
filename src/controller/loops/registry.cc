#include "controller/loops/registry.h"

#include "controller/loops/endpoints.h"
#include "controller/loops/ipam.h"
#include "controller/loops/nodes.h"
#include "controller/loops/pods.h"
#include "controller/loops/routes.h"
#include "controller/loops/services.h"
#include "controller/loops/subnets.h"

namespace lb::controller::loops {

std::vector<std::unique_ptr<Loop>> makeLoops(Context& ctx) {
  auto pods = std::make_unique<PodsLoop>(ctx);
  auto endpoints = std::make_unique<EndpointsLoop>(ctx);
  auto services = std::make_unique<ServicesLoop>(ctx, *pods, *endpoints);
  std::vector<std::unique_ptr<Loop>> out;
  out.push_back(std::make_unique<IpamLoop>(ctx));
  out.push_back(std::move(services));
  out.push_back(std::move(pods));
  out.push_back(std::move(endpoints));
  out.push_back(std::make_unique<RoutesLoop>(ctx));
  out.push_back(std::make_unique<NodesLoop>(ctx));
  out.push_back(std::make_unique<SubnetsLoop>(ctx));
  return out;
}

}  // namespace lb::controller::loops
