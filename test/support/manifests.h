#pragma once

// The manifests the api and CLI tests apply: one service `web` (2 replicas,
// port 80:8080, label app=web), its secret `db` (auth: admin / hunter2), a
// config `app` (mode=fast) and a route `www` (www.demo.example:80 -> web:80).
// Tests that need a variant take a copy and replace a line of it
// ("replicas: 2" -> "replicas: 4"); the container block is last in kServiceYaml,
// so lines appended to it (env, volume) belong to the container.

#include <initializer_list>
#include <string>
#include <string_view>

namespace lb::testing {

inline constexpr char kServiceYaml[] = R"(kind: Service
version: v1
meta:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  network:
    ports: ["80:8080/tcp"]
  template:
    containers:
    - name: nginx
      image:
        name: nginx:1.25
)";

inline constexpr char kSecretYaml[] = R"(kind: Secret
version: v1
meta:
  name: db
spec:
  type: auth
  data:
  - key: username
    value: admin
  - key: password
    value: hunter2
)";

inline constexpr char kConfigYaml[] = R"(kind: Config
version: v1
meta:
  name: app
spec:
  type: text
  data:
  - key: mode
    value: fast
)";

inline constexpr char kRouteYaml[] = R"(kind: Route
version: v1
meta:
  name: www
spec:
  domain: www.demo.example
  port: 80
  rules:
  - path: /
    service: web
    port: 80
)";

// One multi-document manifest file of `docs`, each after a "---" line.
inline std::string joinDocuments(std::initializer_list<std::string_view> docs) {
  std::string out;
  for (std::string_view d : docs) out += "---\n" + std::string(d);
  return out;
}

}  // namespace lb::testing
