#pragma once

// The controller's loops, in the order they hear cache changes and queue
// their resync work.

#include <memory>
#include <vector>

#include "controller/loops/loop.h"

namespace lb::controller::loops {

std::vector<std::unique_ptr<Loop>> makeLoops(Context& ctx);

}  // namespace lb::controller::loops
