#pragma once

// Resource quantities as written in manifests. Memory/storage: a number with
// an optional decimal (KB, MB, GB, TB; also K, M, G, T) or binary (Ki, Mi, Gi,
// Ti, KiB...) unit, case-insensitive unit, plain number = bytes. CPU: cores
// ("0.5", "2") or millicores ("500m").

#include <cstdint>
#include <string>
#include <string_view>

#include "lastbackend/common/status.h"

namespace lb::types {

StatusOr<int64_t> parseMemory(std::string_view text);  // bytes
StatusOr<int64_t> parseCpu(std::string_view text);     // millicores
// Shortest exact representation: "512MB", "256Mi", "1234" (bytes).
std::string formatMemory(int64_t bytes);
// "500m", "2".
std::string formatCpu(int64_t millicores);

}  // namespace lb::types
