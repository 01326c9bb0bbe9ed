#pragma once

// Shared by the controller's integration tests: a store, objects written the
// way the REST API writes them, and small queries.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <type_traits>

#include "lastbackend/storage/keys.h"
#include "lastbackend/storage/storage.h"
#include "lastbackend/types/codec.h"
#include "lastbackend/types/secret.h"

namespace lb::controller::testing {

namespace keys = storage::keys;

inline types::Service makeService(const std::string& ns, const std::string& name, int replicas,
                                  const std::string& image = "web:1") {
  types::Service s;
  s.meta.name = name;
  s.meta.namespace_ = ns;
  s.meta.selflink = types::objectSelflink(ns, name);
  s.meta.created = "2026-11-26T00:00:00Z";
  s.spec.replicas = replicas;
  types::ContainerSpec c;
  c.name = "main";
  c.image.name = image;
  s.spec.template_.containers.push_back(c);
  s.spec.network.ports.push_back({80, 8080, "tcp"});
  return s;
}

inline void putNamespace(storage::Storage& store, const std::string& ns) {
  types::Namespace n;
  n.meta.name = ns;
  n.meta.selflink = ns;
  ASSERT_TRUE(store.put(*keys::namespaceKey(ns), types::toJson(n)).isOk());
}

// Creates or replaces the service's spec, keeping the stored status (what
// the API's apply does), with CAS retries.
inline void applyService(storage::Storage& store, const types::Service& svc) {
  auto key = *keys::serviceKey(svc.meta.namespace_, svc.meta.name);
  for (int i = 0; i < 100; ++i) {
    auto cur = store.get(key);
    types::Service next = svc;
    int64_t expect = 0;
    if (cur.isOk()) {
      types::Service old;
      ASSERT_TRUE(types::fromJson(cur->value, &old).isOk());
      next.status = old.status;
      expect = cur->revision;
    }
    auto r = store.txn({{storage::Op::Type::kPut, key, types::toJson(next), expect}});
    if (r.isOk()) return;
  }
  FAIL() << "could not write " << key;
}

// Writes (creates or replaces) Secret or Config `ns:name` with `data`.
template <class T>
inline void putData(storage::Storage& store, const std::string& ns, const std::string& name,
                    std::map<std::string, std::string> data) {
  T obj;
  obj.meta.name = name;
  obj.meta.namespace_ = ns;
  obj.meta.selflink = ns + ":" + name;
  obj.spec.data = std::move(data);
  auto key =
      std::is_same_v<T, types::Secret> ? keys::secretKey(ns, name) : keys::configKey(ns, name);
  ASSERT_TRUE(store.set(*key, types::toJson(obj)).isOk());
}

inline void markDestroy(storage::Storage& store, const std::string& ns, const std::string& name) {
  auto key = *keys::serviceKey(ns, name);
  for (int i = 0; i < 100; ++i) {
    auto cur = store.get(key);
    ASSERT_TRUE(cur.isOk());
    types::Service s;
    ASSERT_TRUE(types::fromJson(cur->value, &s).isOk());
    s.status.state = types::State::kDestroy;
    if (store.set(key, types::toJson(s), cur->revision).isOk()) return;
  }
}

template <class T>
std::map<std::string, T> listOf(storage::Storage& store, const std::string& prefix) {
  std::map<std::string, T> out;
  auto l = store.list(prefix);
  EXPECT_TRUE(l.isOk());
  if (!l.isOk()) return out;
  for (const auto& o : l->items) {
    T v;
    EXPECT_TRUE(types::fromJson(o.value, &v).isOk()) << o.key;
    out[o.key] = v;
  }
  return out;
}

inline std::map<std::string, types::Pod> podsOf(storage::Storage& store, const std::string& ns,
                                                const std::string& svc) {
  return listOf<types::Pod>(store, *keys::podsOfServicePrefix(ns, svc));
}

// The live deployments of a service; with `retired`, also the replaced ones
// the controller keeps as history.
inline std::map<std::string, types::Deployment> deploymentsOf(storage::Storage& store,
                                                              const std::string& ns,
                                                              const std::string& svc,
                                                              bool retired = false) {
  auto all = listOf<types::Deployment>(store, *keys::deploymentsPrefix(ns, svc));
  if (!retired)
    std::erase_if(all,
                  [](const auto& d) { return d.second.status.state == types::State::kDestroyed; });
  return all;
}

inline int readyPods(storage::Storage& store, const std::string& ns, const std::string& svc) {
  int n = 0;
  for (const auto& [k, p] : podsOf(store, ns, svc)) n += p.status.ready ? 1 : 0;
  return n;
}

}  // namespace lb::controller::testing
