#include "api/instrumented_storage.h"

#include <chrono>

namespace lb::api {

template <class F>
auto InstrumentedStorage::timed(const char* op, F&& f) -> decltype(f()) {
  auto start = std::chrono::steady_clock::now();
  auto result = f();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const char* outcome = result.isOk() ? "ok" : codeName(result.status().code());
  metrics_.incrementCounter(kStoreOpsMetric, {{"op", op}, {"result", outcome}});
  metrics_.observeHistogram(kStoreLatencyMetric, {{"op", op}}, secs);
  return result;
}

StatusOr<storage::Info> InstrumentedStorage::info() {
  return timed("info", [&] { return inner_->info(); });
}
StatusOr<storage::Object> InstrumentedStorage::get(std::string_view key) {
  return timed("get", [&] { return inner_->get(key); });
}
StatusOr<storage::ListResult> InstrumentedStorage::list(std::string_view prefix) {
  return timed("list", [&] { return inner_->list(prefix); });
}
StatusOr<int64_t> InstrumentedStorage::txn(const std::vector<storage::Op>& ops) {
  return timed("txn", [&] { return inner_->txn(ops); });
}
StatusOr<std::unique_ptr<storage::WatchStream>> InstrumentedStorage::watch(std::string_view prefix,
                                                                           int64_t afterRevision) {
  return timed("watch", [&] { return inner_->watch(prefix, afterRevision); });
}

}  // namespace lb::api
