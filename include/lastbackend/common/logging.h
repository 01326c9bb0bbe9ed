#pragma once

// Logging for every component. Levels follow the reference's 0–7 scale
// (`-v`, LB_VERBOSE, `verbose:`): 0 errors and warnings only, 1–2 info,
// 3–5 debug, 6–7 trace. Secrets must never be passed to these functions.

#include <spdlog/spdlog.h>

namespace lb::log {

// Sets the process-wide level from a 0–7 verbosity (values are clamped).
void setVerbosity(int verbose);
int verbosity();

}  // namespace lb::log
