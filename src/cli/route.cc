// `lb route ...`: ls, inspect, create, update, remove.

#include <cstdlib>

#include "cli/commands.h"

namespace lb::cli {
namespace {

// "svc:port" or "/path=svc:port".
StatusOr<types::RouteRule> parseRule(const std::string& arg, const std::string& defaultPath) {
  types::RouteRule rule;
  std::string rest = arg;
  if (size_t eq = rest.find('='); eq != std::string::npos) {
    rule.path = rest.substr(0, eq);
    rest = rest.substr(eq + 1);
  } else {
    rule.path = defaultPath;
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return invalidArgument("invalid rule `" + arg + "`: expected SERVICE:PORT");
  rule.service = rest.substr(0, colon);
  std::string port = rest.substr(colon + 1);
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 1 || p > 65535)
    return invalidArgument("invalid rule `" + arg + "`: port must be 1-65535");
  rule.port = static_cast<int>(p);
  if (rule.path.empty()) rule.path = "/";
  return rule;
}

Status routeShow(Context& c, const std::string& answer) {
  LB_ASSIGN_OR_RETURN_STATUS(route, types::parseJson<types::Route>(answer));
  if (c.table())
    c.out << renderRoute(route);
  else
    c.print(route);
  return Status::ok();
}

Status routeSave(Context& c, bool update) {
  std::vector<types::RouteRule> rules;  // bad arguments fail before any I/O
  for (const auto& r : c.a.rules) {
    LB_ASSIGN_OR_RETURN_STATUS(rule, parseRule(r, c.a.path.empty() ? "/" : c.a.path));
    rules.push_back(rule);
  }
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  types::Document doc;
  doc.kind = types::Kind::kRoute;
  doc.meta.name = c.a.name;
  types::RouteSpec spec;
  if (update) {
    LB_ASSIGN_OR_RETURN_STATUS(current,
                               api->getObject<types::Route>(objectPath(c.a.ns, "route", c.a.name)));
    doc = types::toDocument(current);
    spec = std::get<types::RouteSpec>(doc.spec);
  }
  if (c.a.port) spec.port = c.a.port;
  if (!c.a.domain.empty()) spec.domain = c.a.domain;
  if (!c.a.tlsSecret.empty()) spec.tls.secret = c.a.tlsSecret == "none" ? "" : c.a.tlsSecret;
  if (c.a.tlsRedirect) spec.tls.redirect = true;
  if (spec.tls.secret.empty()) spec.tls.redirect = false;
  if (!rules.empty()) spec.rules = rules;
  if (spec.rules.empty()) return invalidArgument("a route needs at least one SERVICE:PORT rule");
  doc.spec = spec;
  std::string body = types::toManifestJson(doc);
  LB_ASSIGN_OR_RETURN_STATUS(answer,
                             update ? api->call("PUT", objectPath(c.a.ns, "route", c.a.name), body)
                                    : api->call("POST", collectionPath(c.a.ns, "route"), body));
  return routeShow(c, answer);
}

}  // namespace

void addRouteCommands(Commands& cmds) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  CLI::App* route = cmds.group("route", "Manage routes (external traffic to services)");
  cmds.listVerb<types::Route>(route, "route", "List the routes of a namespace", renderRouteList);
  cmds.inspectVerb<types::Route>(route, "route", "Show a route and its rules", "Route",
                                 renderRoute);
  for (bool update : {false, true}) {
    auto* s = cmds.objectVerb(
        route, update ? "update" : "create",
        update ? "Change a route (given parts replace the current ones)" : "Create a route",
        "Route", [&, update] { return routeSave(c, update); });
    auto* p = s->add_option("-p,--port", a.port, "Port the route listens on (e.g. 80, 443)")
                  ->check(CLI::Range(1, 65535));
    auto* r = s->add_option("RULE", a.rules, "SERVICE:PORT or PATH=SERVICE:PORT (repeatable)");
    if (!update) {
      p->required();
      r->required();
    }
    s->add_option("--domain", a.domain, "Domain (default: chosen by the cluster)");
    s->add_option("--path", a.path, "Path of rules given without one (default /)");
    s->add_option("--tls-secret", a.tlsSecret,
                  std::string("Terminate HTTPS with the PEM certificate and key in this secret "
                              "(e.g. lb secret create NS NAME -f tls.crt -f tls.key)") +
                      (update ? "; 'none' ends HTTPS" : ""));
    s->add_flag("--tls-redirect", a.tlsRedirect,
                "Answer plain HTTP on port 80 for the domain with a redirect to HTTPS");
  }
  cmds.removeVerb(route, "route", "Route");
}

}  // namespace lb::cli
