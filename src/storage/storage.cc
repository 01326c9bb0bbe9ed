// The non-virtual conveniences of Storage: every driver gets them over txn().

#include "lastbackend/storage/storage.h"

namespace lb::storage {
namespace {

std::optional<int64_t> condition(int64_t expectRevision) {
  if (expectRevision > 0) return expectRevision;
  return std::nullopt;
}

}  // namespace

StatusOr<int64_t> Storage::put(std::string_view key, std::string value) {
  return txn({Op{Op::Type::kPut, std::string(key), std::move(value), 0}});
}

StatusOr<int64_t> Storage::set(std::string_view key, std::string value, int64_t expectRevision) {
  return txn({Op{Op::Type::kPut, std::string(key), std::move(value), condition(expectRevision)}});
}

Status Storage::del(std::string_view key, int64_t expectRevision) {
  auto r = txn({Op{Op::Type::kDelete, std::string(key), {}, condition(expectRevision)}});
  return r.status();
}

StatusOr<std::map<std::string, Object>> Storage::map(std::string_view prefix) {
  auto listed = list(prefix);
  if (!listed) return listed.status();
  std::map<std::string, Object> out;
  for (auto& obj : listed->items) {
    std::string key = obj.key;
    out.emplace(std::move(key), std::move(obj));
  }
  return out;
}

}  // namespace lb::storage
