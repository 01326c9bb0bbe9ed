// The OpenAPI document and the router's route table list the same
// (method, path) pairs: a route added without documenting it (or a
// documented path nobody serves) fails here.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "api/api.h"
#include "lastbackend/storage/storage.h"

namespace lb::api {
namespace {

std::shared_ptr<storage::Storage> memoryStore() {
  storage::Options o;
  o.driver = "mock";
  auto s = storage::open(o);
  EXPECT_TRUE(s.isOk());
  return std::shared_ptr<storage::Storage>(std::move(*s));
}

std::unique_ptr<Api> makeApi() {
  config::ApiConfig cfg;
  cfg.token = "t";
  cfg.server.host = "127.0.0.1";
  auto api = Api::create(cfg, memoryStore());
  EXPECT_TRUE(api.isOk()) << api.status().toString();
  return std::move(*api);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(OpenApiTest, DocumentIsValidJsonOfVersion3) {
  auto doc = nlohmann::json::parse(openApiJson(), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_TRUE(doc["paths"].is_object());
}

TEST(OpenApiTest, RouteTableAndDocumentAgree) {
  auto api = makeApi();
  auto doc = nlohmann::json::parse(openApiJson());
  std::set<std::string> served, documented;
  for (const auto& r : api->routes()) served.insert(lower(r.method) + " " + r.pattern);
  for (const auto& [path, ops] : doc["paths"].items())
    for (const auto& [method, op] : ops.items())
      if (method != "parameters") documented.insert(method + " " + path);
  for (const auto& s : served)
    EXPECT_TRUE(documented.count(s)) << "served but not documented: " << s;
  for (const auto& d : documented)
    EXPECT_TRUE(served.count(d)) << "documented but not served: " << d;
}

TEST(OpenApiTest, PublicRoutesAreMarkedPublicInTheDocument) {
  auto api = makeApi();
  auto doc = nlohmann::json::parse(openApiJson());
  for (const auto& r : api->routes()) {
    const auto& op = doc["paths"][r.pattern][lower(r.method)];
    bool docPublic = op.contains("security") && op["security"].empty();
    EXPECT_EQ(docPublic, r.isPublic) << r.method << " " << r.pattern;
    // Every path parameter is declared.
    size_t braces = std::count(r.pattern.begin(), r.pattern.end(), '{');
    size_t declared = 0;
    for (const auto& p : op.value("parameters", nlohmann::json::array()))
      declared += p["in"] == "path";
    EXPECT_EQ(declared, braces) << r.pattern;
  }
}

TEST(OpenApiTest, RefusesToBeCreatedWithoutAToken) {
  config::ApiConfig cfg;
  auto api = Api::create(cfg, memoryStore());
  ASSERT_FALSE(api.isOk());
  EXPECT_EQ(api.status().code(), Code::kInvalidArgument);
  EXPECT_NE(api.status().message().find("access token is required"), std::string::npos);
}

}  // namespace
}  // namespace lb::api
