#include "controller/election.h"

#include <nlohmann/json.hpp>

#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"

namespace lb::controller {

namespace {

int64_t unixMs(Clock::TimePoint tp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

}  // namespace

std::string encodeLease(const LeaseRecord& r) {
  nlohmann::json j;
  j["holder"] = r.holder;
  j["expires"] = r.expiresMs;
  j["term"] = r.term;
  return j.dump();
}

StatusOr<LeaseRecord> decodeLease(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return invalidArgument("lease record is not a JSON object");
  LeaseRecord r;
  try {
    r.holder = j.value("holder", std::string());
    r.expiresMs = j.value("expires", int64_t{0});
    r.term = j.value("term", int64_t{0});
  } catch (const std::exception& e) {
    return invalidArgument(std::string("lease record: ") + e.what());
  }
  return r;
}

Elector::Elector(storage::Storage& store, const Clock& clock, std::string id,
                 std::chrono::milliseconds ttl)
    : store_(store),
      clock_(clock),
      id_(std::move(id)),
      ttl_(ttl),
      key_(*storage::keys::controllerKey("lead")) {}

StatusOr<bool> Elector::tick() {
  const auto start = clock_.steadyNow();
  const int64_t nowMs = unixMs(clock_.now());
  auto fail = [&](const Status& s) -> StatusOr<bool> {
    std::lock_guard lock(mu_);
    failures_++;
    return s.withContext("controller '" + id_ + "' lease");
  };
  auto current = store_.get(key_);
  LeaseRecord next{id_, nowMs + ttl_.count(), 1};
  std::optional<int64_t> expect = 0;
  if (current.isOk()) {
    auto rec = decodeLease(current->value);
    if (rec.isOk() && rec->holder != id_ && rec->expiresMs > nowMs) {
      // Someone else holds a live lease: we follow.
      std::lock_guard lock(mu_);
      failures_ = 0;
      if (holding_)
        spdlog::warn("controller '{}': lease taken by '{}'; stepping down", id_, rec->holder);
      holding_ = false;
      return false;
    }
    next.term = rec.isOk() ? (rec->holder == id_ ? rec->term : rec->term + 1) : 1;
    expect = current->revision;
  } else if (current.status().code() != Code::kNotFound) {
    return fail(current.status());
  }
  auto rev = store_.txn({{storage::Op::Type::kPut, key_, encodeLease(next), expect}});
  if (!rev.isOk()) {
    Code c = rev.status().code();
    if (c == Code::kConflict || c == Code::kAlreadyExists || c == Code::kNotFound) {
      // Lost the race for this round; the winner's record decides next time.
      std::lock_guard lock(mu_);
      failures_ = 0;
      return holding_ && clock_.steadyNow() < leaderUntil_;
    }
    return fail(rev.status());
  }
  std::lock_guard lock(mu_);
  failures_ = 0;
  bool was = holding_ && clock_.steadyNow() < leaderUntil_;
  holding_ = true;
  // Measured from before the read: the lease cannot be older than that.
  leaderUntil_ = start + ttl_ * 2 / 3;
  term_ = next.term;
  if (!was) {
    leadership_++;
    spdlog::info("controller '{}' leads (term {})", id_, term_);
  }
  return true;
}

bool Elector::isLeader() const {
  std::lock_guard lock(mu_);
  return holding_ && clock_.steadyNow() < leaderUntil_;
}

void Elector::release() {
  {
    std::lock_guard lock(mu_);
    if (!holding_) return;
    holding_ = false;
  }
  auto current = store_.get(key_);
  if (!current.isOk()) return;
  auto rec = decodeLease(current->value);
  if (rec.isOk() && rec->holder == id_) {
    Status s = store_.del(key_, current->revision);
    if (s.isOk()) spdlog::info("controller '{}' released the lease", id_);
  }
}

std::chrono::milliseconds Elector::nextDelay() const {
  std::lock_guard lock(mu_);
  auto renew = std::max(ttl_ / 3, std::chrono::milliseconds(1));
  if (failures_ == 0) return renew;
  auto backoff = std::chrono::milliseconds(100) * (1 << std::min(failures_ - 1, 10));
  return std::min(backoff, renew);
}

int64_t Elector::term() const {
  std::lock_guard lock(mu_);
  return term_;
}

uint64_t Elector::leadership() const {
  std::lock_guard lock(mu_);
  return leadership_;
}

}  // namespace lb::controller
