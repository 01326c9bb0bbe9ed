#pragma once

// THE driver tables of the runtimes, one per interface. Adding a driver adds
// a line here and a folder beside the others; no other driver changes. The
// option tables (src/config) read the names from here at compile time, so
// `--container-runtime` and friends accept exactly the drivers of this build.

#include "common/driver_table.h"
#include "lastbackend/runtime/factory.h"
#include "runtime/cii/docker/docker_cii.h"
#include "runtime/cpi/ipvs/ipvs_cpi.h"
#include "runtime/cpi/nftables/nftables_cpi.h"
#include "runtime/cni/vxlan/vxlan_cni.h"
#include "runtime/cri/docker/docker_cri.h"
#include "runtime/csi/dir/dir_csi.h"
#include "runtime/docker/open.h"

namespace lb::runtime {

namespace cri {
using OpenFn = StatusOr<std::unique_ptr<ContainerRuntime>> (*)(const Options&);
inline constexpr DriverTable<OpenFn, 1> kDrivers{
    "container runtime driver",
    "container.cri.type",
    {{
        {"docker",
         [](const Options& o) { return runtime::docker::openWith(o.docker, &docker::fromClient); }},
    }}};
}  // namespace cri

namespace cii {
using OpenFn = StatusOr<std::unique_ptr<ImageRuntime>> (*)(const Options&);
inline constexpr DriverTable<OpenFn, 1> kDrivers{
    "image runtime driver",
    "container.iri.type",
    {{
        {"docker",
         [](const Options& o) { return runtime::docker::openWith(o.docker, &docker::fromClient); }},
    }}};
}  // namespace cii

namespace csi {
using OpenFn = StatusOr<std::unique_ptr<VolumeRuntime>> (*)(const Options&);
inline constexpr DriverTable<OpenFn, 1> kDrivers{
    "storage runtime driver",
    "container.csi.type",
    {{
        {"dir", [](const Options& o) { return dir::open(o.root); }},
    }}};
}  // namespace csi

namespace cpi {
using OpenFn = StatusOr<std::unique_ptr<ProxyRuntime>> (*)(const Options&);
inline constexpr DriverTable<OpenFn, 2> kDrivers{
    "network proxy driver",
    "network.cpi.type",
    {{
        // The reference's name and default: valid only where it can work
        // (see ipvs_cpi.h and resolveDriver()).
        {"ipvs", [](const Options&) { return ipvs::open(); }},
        {"nftables", [](const Options&) { return nftables::open(); }},
    }}};
}  // namespace cpi
namespace cni {
using OpenFn = StatusOr<std::unique_ptr<NetworkRuntime>> (*)(const Options&);
inline constexpr DriverTable<OpenFn, 1> kDrivers{
    "network driver",
    "network.cni.type",
    {{
        {"vxlan", [](const Options& o) { return vxlan::open(o); }},
    }}};
}  // namespace cni

}  // namespace lb::runtime
