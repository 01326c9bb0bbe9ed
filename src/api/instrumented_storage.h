#pragma once

// A Storage decorator that counts every store operation and its latency
// (for /metrics), so the API can show what the store costs without the
// drivers depending on the HTTP layer. Thread-safe as the wrapped store is.

#include <memory>
#include <string_view>

#include "lastbackend/http/metrics.h"
#include "lastbackend/storage/storage.h"

namespace lb::api {

inline constexpr char kStoreOpsMetric[] = "lb_storage_operations_total";
inline constexpr char kStoreLatencyMetric[] = "lb_storage_operation_duration_seconds";

class InstrumentedStorage : public storage::Storage {
 public:
  // `metrics` must outlive this object.
  InstrumentedStorage(std::shared_ptr<storage::Storage> inner, http::Metrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  StatusOr<storage::Info> info() override;
  StatusOr<storage::Object> get(std::string_view key) override;
  StatusOr<storage::ListResult> list(std::string_view prefix) override;
  StatusOr<int64_t> txn(const std::vector<storage::Op>& ops) override;
  StatusOr<std::unique_ptr<storage::WatchStream>> watch(std::string_view prefix,
                                                        int64_t afterRevision) override;

 private:
  template <class F>
  auto timed(const char* op, F&& f) -> decltype(f());

  std::shared_ptr<storage::Storage> inner_;
  http::Metrics& metrics_;
};

}  // namespace lb::api
