// The driver tables of the runtimes: one per interface. Adding a driver adds
// a line here and a folder beside the others; no other driver changes.

#include "lastbackend/runtime/factory.h"

#include <array>
#include <string_view>

#include "runtime/cii/docker/docker_cii.h"
#include "runtime/cri/docker/docker_cri.h"
#include "runtime/csi/dir/dir_csi.h"

namespace lb::runtime {
namespace {

template <typename Table>
std::vector<std::string> namesOf(const Table& table) {
  std::vector<std::string> names;
  for (const auto& d : table) names.emplace_back(d.name);
  return names;
}

template <typename Table, typename Opts>
auto openFrom(const Table& table, const char* kind, const std::string& driver, const Opts& o,
              const char* field) -> decltype(table[0].open(o)) {
  for (const auto& d : table) {
    if (d.name == driver) {
      auto r = d.open(o);
      if (!r) return r.status().withContext(std::string(kind) + " driver '" + driver + "'");
      return r;
    }
  }
  std::string valid;
  for (const auto& d : table) {
    if (!valid.empty()) valid += ", ";
    valid += d.name;
  }
  return invalidArgument(
      "unknown " + std::string(kind) + " driver '" + driver + "' (valid: " + valid + ")", field);
}

}  // namespace

namespace cri {
namespace {
struct Driver {
  std::string_view name;
  StatusOr<std::unique_ptr<ContainerRuntime>> (*open)(const Options&);
};
constexpr std::array kDrivers = {
    Driver{"docker", [](const Options& o) { return docker::open(o.docker); }},
};
}  // namespace
std::vector<std::string> driverNames() { return namesOf(kDrivers); }
StatusOr<std::unique_ptr<ContainerRuntime>> open(const Options& options) {
  return openFrom(kDrivers, "container runtime", options.driver, options, "container.cri.type");
}
}  // namespace cri

namespace cii {
namespace {
struct Driver {
  std::string_view name;
  StatusOr<std::unique_ptr<ImageRuntime>> (*open)(const Options&);
};
constexpr std::array kDrivers = {
    Driver{"docker", [](const Options& o) { return docker::open(o.docker); }},
};
}  // namespace
std::vector<std::string> driverNames() { return namesOf(kDrivers); }
StatusOr<std::unique_ptr<ImageRuntime>> open(const Options& options) {
  return openFrom(kDrivers, "image runtime", options.driver, options, "container.iri.type");
}
}  // namespace cii

namespace csi {
namespace {
struct Driver {
  std::string_view name;
  StatusOr<std::unique_ptr<VolumeRuntime>> (*open)(const Options&);
};
constexpr std::array kDrivers = {
    Driver{"dir", [](const Options& o) { return dir::open(o.root); }},
};
}  // namespace
std::vector<std::string> driverNames() { return namesOf(kDrivers); }
StatusOr<std::unique_ptr<VolumeRuntime>> open(const Options& options) {
  return openFrom(kDrivers, "storage runtime", options.driver, options, "container.csi.type");
}
}  // namespace csi

}  // namespace lb::runtime
