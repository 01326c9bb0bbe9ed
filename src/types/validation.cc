#include "lastbackend/types/validation.h"

#include <set>

#include "types/tree.h"

namespace lb::types {

using detail::childPath;
using detail::fieldError;
using detail::indexPath;

namespace {

Status required(const std::string& path) { return fieldError(path, "required"); }

Status requireNonEmpty(std::string_view value, const std::string& path) {
  return value.empty() ? required(path) : Status::ok();
}

Status checkRange(int64_t v, int64_t lo, int64_t hi, const std::string& path) {
  if (v < lo || v > hi)
    return fieldError(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return Status::ok();
}

Status checkOneOf(const std::string& v, std::initializer_list<const char*> allowed,
                  const std::string& path) {
  std::string list;
  for (const char* a : allowed) {
    if (v == a) return Status::ok();
    if (*a == '\0') continue;  // "" means "may be omitted"; not worth listing
    list += list.empty() ? "" : ", ";
    list += a;
  }
  return fieldError(path, "invalid value '" + v + "' (valid: " + list + ")");
}

// Exactly one of several optional sources is set.
Status checkExactlyOne(int count, const std::string& what, const std::string& path) {
  if (count != 1) return fieldError(path, "exactly one of " + what + " is required");
  return Status::ok();
}

Status checkPortMapping(const PortMapping& p, const std::string& path) {
  auto parsed = parsePortMapping(formatPortMapping(p));
  return parsed.isOk() ? Status::ok() : fieldError(path, parsed.status().message());
}

Status checkKeyRef(const KeyRef& ref, const std::string& path) {
  LB_RETURN_IF_ERROR(validateName(ref.name, childPath(path, "name")));
  return requireNonEmpty(ref.key, childPath(path, "key"));
}

Status checkProbe(const Probe& p, const std::string& path) {
  LB_RETURN_IF_ERROR(checkExactlyOne(p.exec.has_value() + p.tcp.has_value(), "exec or tcp", path));
  if (p.exec && p.exec->command.empty()) return required(childPath(path, "exec.command"));
  if (p.tcp) LB_RETURN_IF_ERROR(checkRange(p.tcp->port, 1, 65535, childPath(path, "tcp.port")));
  LB_RETURN_IF_ERROR(checkRange(p.initialDelay, 0, 86400, childPath(path, "initial_delay")));
  LB_RETURN_IF_ERROR(checkRange(p.period, 1, 86400, childPath(path, "period")));
  LB_RETURN_IF_ERROR(checkRange(p.timeout, 1, 86400, childPath(path, "timeout")));
  LB_RETURN_IF_ERROR(checkRange(p.successThreshold, 1, 1000, childPath(path, "success_threshold")));
  return checkRange(p.failureThreshold, 1, 1000, childPath(path, "failure_threshold"));
}

Status checkResources(const Resources& r, const std::string& path) {
  // Negative amounts are refused by the decoder; here: a request above its limit.
  if (r.limits.ram && r.request.ram > r.limits.ram)
    return fieldError(childPath(path, "request.ram"), "exceeds limits.ram");
  if (r.limits.cpu && r.request.cpu > r.limits.cpu)
    return fieldError(childPath(path, "request.cpu"), "exceeds limits.cpu");
  if (r.limits.ram < 0 || r.limits.cpu < 0 || r.request.ram < 0 || r.request.cpu < 0)
    return fieldError(path, "must not be negative");
  return Status::ok();
}

Status checkContainer(const ContainerSpec& c, const std::set<std::string>& volumes,
                      const std::string& path) {
  LB_RETURN_IF_ERROR(validateName(c.name, childPath(path, "name")));
  LB_RETURN_IF_ERROR(requireNonEmpty(c.image.name, childPath(path, "image.name")));
  for (size_t i = 0; i < c.env.size(); ++i) {
    const EnvVar& e = c.env[i];
    std::string p = indexPath(childPath(path, "env"), i);
    LB_RETURN_IF_ERROR(requireNonEmpty(e.name, childPath(p, "name")));
    LB_RETURN_IF_ERROR(
        checkExactlyOne(e.value.has_value() + e.secret.has_value() + e.config.has_value(),
                        "value, secret or config", p));
    if (e.secret) LB_RETURN_IF_ERROR(checkKeyRef(*e.secret, childPath(p, "secret")));
    if (e.config) LB_RETURN_IF_ERROR(checkKeyRef(*e.config, childPath(p, "config")));
  }
  for (size_t i = 0; i < c.ports.size(); ++i)
    LB_RETURN_IF_ERROR(checkPortMapping(c.ports[i], indexPath(childPath(path, "ports"), i)));
  LB_RETURN_IF_ERROR(checkResources(c.resources, childPath(path, "resources")));
  LB_RETURN_IF_ERROR(checkOneOf(c.restart.policy, {"", "always", "on-failure", "never"},
                                childPath(path, "restart.policy")));
  LB_RETURN_IF_ERROR(checkRange(c.restart.attempt, 0, 1000000, childPath(path, "restart.attempt")));
  for (size_t i = 0; i < c.volumes.size(); ++i) {
    const VolumeMount& m = c.volumes[i];
    std::string p = indexPath(childPath(path, "volume"), i);
    LB_RETURN_IF_ERROR(requireNonEmpty(m.name, childPath(p, "name")));
    if (!volumes.count(m.name))
      return fieldError(childPath(p, "name"),
                        "volume '" + m.name + "' is not declared in template.volumes");
    LB_RETURN_IF_ERROR(requireNonEmpty(m.path, childPath(p, "path")));
    if (m.path[0] != '/') return fieldError(childPath(p, "path"), "must be an absolute path");
    LB_RETURN_IF_ERROR(checkOneOf(m.mode, {"", "rw", "ro"}, childPath(p, "mode")));
  }
  if (c.probes.liveness)
    LB_RETURN_IF_ERROR(checkProbe(*c.probes.liveness, childPath(path, "probes.liveness")));
  if (c.probes.readiness)
    LB_RETURN_IF_ERROR(checkProbe(*c.probes.readiness, childPath(path, "probes.readiness")));
  return Status::ok();
}

bool isDomainName(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  size_t start = 0;
  while (start <= d.size()) {
    size_t dot = d.find('.', start);
    if (dot == std::string_view::npos) dot = d.size();
    if (!isValidName(d.substr(start, dot - start))) return false;
    start = dot + 1;
  }
  return true;
}

Status checkDataKey(const std::string& key, const std::string& path) {
  LB_RETURN_IF_ERROR(requireNonEmpty(key, path));
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return fieldError(path, "keys may contain only letters, digits, '.', '_' and '-'");
  }
  if (key == "." || key == "..") return fieldError(path, "invalid key");
  return Status::ok();
}

template <class Map>
Status checkDataMap(const std::string& type, const Map& data, bool secret,
                    const std::string& path) {
  LB_RETURN_IF_ERROR(secret ? checkOneOf(type, {"text", "file", "auth"}, childPath(path, "type"))
                            : checkOneOf(type, {"text", "file"}, childPath(path, "type")));
  for (const auto& [k, v] : data)
    LB_RETURN_IF_ERROR(checkDataKey(k, childPath(childPath(path, "data"), k)));
  return Status::ok();
}

}  // namespace

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

Status validateName(std::string_view name, const std::string& field) {
  if (name.empty()) return required(field);
  if (!isValidName(name))
    return fieldError(field, "invalid name '" + std::string(name) +
                                 "': use 1-63 lowercase letters, digits and '-', not starting "
                                 "or ending with '-'");
  return Status::ok();
}

Status validateTemplate(const PodTemplate& tmpl, const std::string& path) {
  std::set<std::string> volumes;
  for (size_t i = 0; i < tmpl.volumes.size(); ++i) {
    const TemplateVolume& v = tmpl.volumes[i];
    std::string p = indexPath(childPath(path, "volumes"), i);
    LB_RETURN_IF_ERROR(validateName(v.name, childPath(p, "name")));
    if (!volumes.insert(v.name).second)
      return fieldError(childPath(p, "name"), "duplicate volume name '" + v.name + "'");
    int sources = v.secret.has_value() + v.config.has_value() + v.volume.has_value();
    if (sources > 1) return fieldError(p, "at most one of secret, config or volume is allowed");
    if (v.secret) LB_RETURN_IF_ERROR(validateName(v.secret->name, childPath(p, "secret.name")));
    if (v.config) LB_RETURN_IF_ERROR(validateName(v.config->name, childPath(p, "config.name")));
    if (v.volume) LB_RETURN_IF_ERROR(validateName(v.volume->name, childPath(p, "volume.name")));
  }
  std::string containers = childPath(path, "containers");
  if (tmpl.containers.empty()) return fieldError(containers, "at least one container is required");
  std::set<std::string> names;
  for (size_t i = 0; i < tmpl.containers.size(); ++i) {
    std::string p = indexPath(containers, i);
    LB_RETURN_IF_ERROR(checkContainer(tmpl.containers[i], volumes, p));
    if (!names.insert(tmpl.containers[i].name).second)
      return fieldError(childPath(p, "name"),
                        "duplicate container name '" + tmpl.containers[i].name + "'");
  }
  return Status::ok();
}

static Status checkStrategy(const ServiceStrategy& s, const std::string& path) {
  LB_RETURN_IF_ERROR(checkOneOf(s.type, {"", "blue-green", "rolling"}, childPath(path, "type")));
  if (s.surge) LB_RETURN_IF_ERROR(checkRange(*s.surge, 0, 10000, childPath(path, "surge")));
  if (s.unavailable)
    LB_RETURN_IF_ERROR(checkRange(*s.unavailable, 0, 10000, childPath(path, "unavailable")));
  if (s.type == "rolling" && s.surge == 0 && s.unavailable == 0)
    return fieldError(childPath(path, "surge"),
                      "a rolling strategy with surge 0 and unavailable 0 can never replace a pod");
  return checkRange(s.deadline, 0, 86400, childPath(path, "deadline"));
}

Status validateServiceSpec(const ServiceSpec& spec, const std::string& path) {
  LB_RETURN_IF_ERROR(checkRange(spec.replicas, 0, 10000, childPath(path, "replicas")));
  LB_RETURN_IF_ERROR(checkStrategy(spec.strategy, childPath(path, "strategy")));
  std::set<std::pair<int, std::string>> ports;
  for (size_t i = 0; i < spec.network.ports.size(); ++i) {
    const PortMapping& p = spec.network.ports[i];
    std::string pp = indexPath(childPath(path, "network.ports"), i);
    LB_RETURN_IF_ERROR(checkPortMapping(p, pp));
    if (!ports.insert({p.port, p.protocol}).second)
      return fieldError(pp, "duplicate port " + std::to_string(p.port) + "/" + p.protocol);
  }
  return validateTemplate(spec.template_, childPath(path, "template"));
}

Status validateNamespaceSpec(const NamespaceSpec& spec, const std::string& path) {
  const NamespaceAmounts& l = spec.resources.limits;
  if (l.ram < 0 || l.cpu < 0 || l.pods < 0 || l.services < 0)
    return fieldError(childPath(path, "resources.limits"), "must not be negative (0: no limit)");
  return Status::ok();
}

Status validateRouteSpec(const RouteSpec& spec, const std::string& path) {
  if (!spec.domain.empty() && !isDomainName(spec.domain))
    return fieldError(childPath(path, "domain"), "invalid domain name '" + spec.domain + "'");
  LB_RETURN_IF_ERROR(checkRange(spec.port, 1, 65535, childPath(path, "port")));
  std::string rules = childPath(path, "rules");
  if (spec.rules.empty()) return fieldError(rules, "at least one rule is required");
  for (size_t i = 0; i < spec.rules.size(); ++i) {
    const RouteRule& r = spec.rules[i];
    std::string p = indexPath(rules, i);
    if (!r.path.empty() && r.path[0] != '/')
      return fieldError(childPath(p, "path"), "must start with '/'");
    LB_RETURN_IF_ERROR(validateName(r.service, childPath(p, "service")));
    LB_RETURN_IF_ERROR(checkRange(r.port, 1, 65535, childPath(p, "port")));
  }
  if (!spec.tls.secret.empty())
    LB_RETURN_IF_ERROR(validateName(spec.tls.secret, childPath(path, "tls.secret")));
  if (spec.tls.redirect && spec.tls.secret.empty())
    return fieldError(childPath(path, "tls.redirect"), "needs tls.secret");
  if (spec.tls.redirect && spec.port == 80)
    return fieldError(childPath(path, "tls.redirect"), "the route itself is on port 80");
  return Status::ok();
}

Status validateVolumeSpec(const VolumeSpec& spec, const std::string& path) {
  LB_RETURN_IF_ERROR(
      checkOneOf(spec.accessMode, {"", "rwo", "rwm"}, childPath(path, "access_mode")));
  if (spec.capacity.storage < 0)
    return fieldError(childPath(path, "capacity.storage"), "must not be negative");
  return Status::ok();
}

Status validateDataSpec(const DataManifestSpec& spec, bool secret, const std::string& path) {
  LB_RETURN_IF_ERROR(checkDataMap(spec.type, std::map<std::string, int>{}, secret, path));
  std::set<std::string> keys;
  for (size_t i = 0; i < spec.data.size(); ++i) {
    const DataItem& d = spec.data[i];
    std::string p = indexPath(childPath(path, "data"), i);
    LB_RETURN_IF_ERROR(checkDataKey(d.key, childPath(p, "key")));
    if (!keys.insert(d.key).second)
      return fieldError(childPath(p, "key"), "duplicate key '" + d.key + "'");
    LB_RETURN_IF_ERROR(
        checkExactlyOne(d.value.has_value() + d.file.has_value(), "value or file", p));
    if (d.file && d.file->empty()) return required(childPath(p, "file"));
  }
  return Status::ok();
}

Status validateSecretSpec(const SecretSpec& spec, const std::string& path) {
  return checkDataMap(spec.type, spec.data, true, path);
}

Status validateConfigSpec(const ConfigSpec& spec, const std::string& path) {
  return checkDataMap(spec.type, spec.data, false, path);
}

Status validateDocument(const Document& doc) {
  if (doc.version != "v1")
    return fieldError("version", doc.version.empty()
                                     ? "required"
                                     : "unsupported version '" + doc.version + "' (valid: v1)");
  LB_RETURN_IF_ERROR(validateName(doc.meta.name, "meta.name"));
  for (const auto& [k, v] : doc.meta.labels)
    if (k.empty() || k.size() > 253)
      return fieldError("meta.labels", "label keys must be 1-253 characters");
  return std::visit(
      [&](const auto& spec) -> Status {
        using T = std::decay_t<decltype(spec)>;
        if constexpr (std::is_same_v<T, NamespaceSpec>)
          return validateNamespaceSpec(spec);
        else if constexpr (std::is_same_v<T, ServiceSpec>)
          return validateServiceSpec(spec);
        else if constexpr (std::is_same_v<T, RouteSpec>)
          return validateRouteSpec(spec);
        else if constexpr (std::is_same_v<T, VolumeSpec>)
          return validateVolumeSpec(spec);
        else
          return validateDataSpec(spec, doc.kind == Kind::kSecret);
      },
      doc.spec);
}

}  // namespace lb::types
