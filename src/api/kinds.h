#pragma once

// Private to the REST API: the kinds a user writes (Namespace, Service,
// Secret, Config, Route, Volume) and the one write path they share. POST,
// PUT and apply all turn a manifest into a desired object, compare it with
// the stored one on the fields the manifest controls, and produce at most
// one compare-and-swap storage op — so "unchanged" means the same thing
// everywhere and an unchanged manifest writes nothing.

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "api/context.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/types/manifest.h"

namespace lb::api {

namespace keys = storage::keys;

template <class T>
struct KindTraits;

// kWord: the path word and the noun in messages ("service 'web'").
#define LB_API_NAMESPACED_KIND(Type, KindValue, Word, KeyFn, Coll)                 \
  template <>                                                                      \
  struct KindTraits<types::Type> {                                                 \
    static constexpr types::Kind kKind = types::Kind::KindValue;                   \
    static constexpr const char* kWord = Word;                                     \
    static StatusOr<std::string> key(std::string_view ns, std::string_view name) { \
      return keys::KeyFn(ns, name);                                                \
    }                                                                              \
    static StatusOr<std::string> prefix(std::string_view ns) {                     \
      return keys::namespacePrefix(keys::Collection::Coll, ns);                    \
    }                                                                              \
  };

LB_API_NAMESPACED_KIND(Service, kService, "service", serviceKey, kService)
LB_API_NAMESPACED_KIND(Secret, kSecret, "secret", secretKey, kSecret)
LB_API_NAMESPACED_KIND(Config, kConfig, "config", configKey, kConfig)
LB_API_NAMESPACED_KIND(Route, kRoute, "route", routeKey, kRoute)
LB_API_NAMESPACED_KIND(Volume, kVolume, "volume", volumeKey, kVolume)
#undef LB_API_NAMESPACED_KIND

// "service 'web' in namespace 'demo'"
template <class T>
std::string describe(std::string_view ns, std::string_view name) {
  return std::string(KindTraits<T>::kWord) + " '" + std::string(name) + "' in namespace '" +
         std::string(ns) + "'";
}

// Server-side defaults, applied to every desired object before it is
// compared or stored, so a manifest that omits them stays "unchanged".
void normalize(types::Namespace& ns, const ClusterOptions& cluster);
void normalize(types::Route& route, const ClusterOptions& cluster);
template <class T>
void normalize(T&, const ClusterOptions&) {}

// Whether a stored object may take new intent: a service being destroyed
// may not (kConflict); everything else may.
Status checkWritable(const types::Service& svc);
template <class T>
Status checkWritable(const T&) {
  return Status::ok();
}

// Manifest -> desired object of namespace `ns` (ignored for Namespace).
template <class T>
StatusOr<T> desiredFrom(const types::Document& doc, std::string_view ns, const ClusterOptions& c) {
  T obj;
  Status s;
  if constexpr (std::is_same_v<T, types::Namespace>) {
    s = types::fromDocument(doc, &obj);
  } else {
    s = types::fromDocument(doc, ns, &obj);
  }
  if (!s.isOk()) return s;
  normalize(obj, c);
  return obj;
}

// The fields a manifest controls.
template <class T>
bool sameIntent(const T& a, const T& b) {
  return a.meta.description == b.meta.description && a.meta.labels == b.meta.labels &&
         a.spec == b.spec;
}

enum class Action { kCreated, kUpdated, kUnchanged };
const char* actionName(Action a);

template <class T>
struct Plan {
  Action action = Action::kUnchanged;
  T object;                       // what is (or will be) stored
  std::optional<storage::Op> op;  // nothing to write when unchanged
};

// Creates (expect: absent) or updates (expect: the read revision) `key`.
// An update keeps identity, timestamps and status and takes description,
// labels and spec from `desired`; a changed template is recorded on the
// service spec and the controller decides about deployments.
template <class T>
StatusOr<Plan<T>> planWrite(const std::optional<T>& existing, T desired, const std::string& key,
                            const std::string& now) {
  Plan<T> plan;
  if (!existing) {
    desired.meta.created = desired.meta.updated = now;
    plan.action = Action::kCreated;
    plan.op = storage::Op{storage::Op::Type::kPut, key, encodeForStore(desired), 0};
    plan.object = std::move(desired);
    return plan;
  }
  LB_RETURN_IF_ERROR(checkWritable(*existing));
  plan.object = *existing;
  if (sameIntent(*existing, desired)) return plan;
  plan.action = Action::kUpdated;
  plan.object.meta.description = std::move(desired.meta.description);
  plan.object.meta.labels = std::move(desired.meta.labels);
  plan.object.spec = std::move(desired.spec);
  plan.object.meta.updated = now;
  plan.op = storage::Op{storage::Op::Type::kPut, key, encodeForStore(plan.object),
                        existing->meta.revision};
  return plan;
}

}  // namespace lb::api
