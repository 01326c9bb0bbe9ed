#pragma once

// In-memory driver: full semantics (revisions, CAS, bounded watch history),
// nothing persisted. For tests and `--storage mock`.

#include <memory>

#include "lastbackend/storage/storage.h"

namespace lb::storage::mock {

// Never fails; `options.historySize` bounds the watch history.
StatusOr<std::unique_ptr<Storage>> open(const Options& options);

}  // namespace lb::storage::mock
