#include "lastbackend/common/logging.h"

#include <algorithm>
#include <atomic>

namespace lb::log {
namespace {
std::atomic<int> gVerbosity{0};
}

void setVerbosity(int verbose) {
  verbose = std::clamp(verbose, 0, 7);
  gVerbosity = verbose;
  spdlog::level::level_enum level = spdlog::level::warn;
  if (verbose >= 6) level = spdlog::level::trace;
  else if (verbose >= 3) level = spdlog::level::debug;
  else if (verbose >= 1) level = spdlog::level::info;
  spdlog::set_level(level);
}

int verbosity() { return gVerbosity; }

}  // namespace lb::log
