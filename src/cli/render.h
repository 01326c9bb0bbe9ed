#pragma once

// What `lb` prints for each object, as pure functions of the objects and an
// injected "now" (for ages), so the layouts are unit-tested without a server.
// Layouts follow the reference transcripts (section 6.1 of the reference docs).

#include <chrono>
#include <string>
#include <vector>

#include "lastbackend/types/codec.h"

namespace lb::cli {

using TimePoint = std::chrono::system_clock::time_point;

// "<ns>.lb.local" (or the namespace's own internal domain when it has one).
std::string namespaceEndpoint(const types::Namespace& ns);
// "<svc>.<ns>.lb.local"
std::string serviceEndpoint(std::string_view ns, std::string_view service);

// NAME DESCRIPTION ENDPOINT
std::string renderNamespaceList(const std::vector<types::Namespace>& list);
// NAME / DESCRIPTION / ENDPOINT block; `detailed` adds LABELS, CREATED, UPDATED.
std::string renderNamespace(const types::Namespace& ns, bool detailed, TimePoint now);

// NAME ENDPOINT STATUS REPLICAS
std::string renderServiceList(const std::vector<types::Service>& list);

// One deployment of `lb service inspect` with its pods.
struct DeploymentView {
  types::Deployment deployment;
  std::vector<types::Pod> pods;
};
// Name/State/Endpoint (with the VIP, status.ip, when the service has one)/
// Created/Updated/Labels, then "Active deployments:" with
// each deployment's block and its Pods table (Name Ready Status Restarts Age).
// Why something is not ready is in the statuses: a Message line under the
// State of the service and of each deployment, and a Message column for the
// pods (the pod's message, else its first container's), where there is one.
std::string renderServiceInspect(const types::Service& svc,
                                 const std::vector<DeploymentView>& active, TimePoint now);
// Deployments shown as active: those not being destroyed.
bool isActiveDeployment(const types::Deployment& d);
// `lb service history`: DEPLOYMENT CREATED IMAGES STATE PODS MESSAGE,
// newest first; a replaced (kept) deployment's state reads "retired", the
// one the service's spec runs is marked "(current)".
std::string renderServiceHistory(const types::Service& svc,
                                 std::vector<types::Deployment> deployments, TimePoint now);

// NAMESPACE NAME DOMAIN HTTPS STATUS
std::string renderRouteList(const std::vector<types::Route>& list);
// NAME/NAMESPACE/DOMAIN/PORT/STATUS block, then PATH SERVICE ENDPOINT PORT.
std::string renderRoute(const types::Route& route);

// NAME TYPE KEYS — values are never printed.
std::string renderSecretList(const std::vector<types::Secret>& list);
std::string renderSecret(const types::Secret& secret, TimePoint now);
// Blanks every value (for `-o json|yaml` of secrets).
types::Secret redact(types::Secret secret);

// NAME TYPE KEYS
std::string renderConfigList(const std::vector<types::Config>& list);
// Block, then KEY VALUE for text configs (KEY SIZE for file configs).
std::string renderConfig(const types::Config& config, TimePoint now);

// NAME TYPE CAPACITY STATUS
std::string renderVolumeList(const std::vector<types::Volume>& list);
std::string renderVolume(const types::Volume& volume, TimePoint now);

// NAME ADDRESS OS ARCH STATUS PODS HEARTBEAT. STATUS: online, offline, or
// "not ready" for an online node without a pod subnet (spec.network.message).
std::string renderNodeList(const std::vector<types::Node>& list, TimePoint now);
// The node's facts with its POD SUBNET (spec.network.cidr), and a MESSAGE
// under STATUS when it is not ready.
std::string renderNode(const types::Node& node, TimePoint now);

std::string renderCluster(const types::Cluster& cluster);

// `lb cluster ls`: NAME ENDPOINT SELECTED ("*" marks the selected one).
struct ClusterRow {
  std::string name;
  std::string endpoint;
  bool selected = false;
};
std::string renderClusterList(const std::vector<ClusterRow>& rows);

// "Service `web` is created"
std::string actionLine(std::string_view kind, std::string_view name, std::string_view action);

}  // namespace lb::cli
