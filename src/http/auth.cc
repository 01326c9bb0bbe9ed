#include "http/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <strings.h>

namespace lb::http {
namespace {

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out.data());
  return out;
}

}  // namespace

StatusOr<TokenAuth> TokenAuth::create(std::string_view token) {
  if (token.empty()) return invalidArgument("an API token is required", "token");
  TokenAuth a;
  a.digest_ = sha256(token);
  return a;
}

bool TokenAuth::matches(std::string_view presented) const {
  auto d = sha256(presented);
  return CRYPTO_memcmp(d.data(), digest_.data(), d.size()) == 0;
}

Status TokenAuth::check(const Headers& headers,
                        const std::map<std::string, std::string>& query) const {
  std::optional<std::string> presented;
  if (auto h = findHeader(headers, "Authorization")) {
    constexpr std::string_view kBearer = "bearer ";
    if (h->size() > kBearer.size() && strncasecmp(h->data(), kBearer.data(), kBearer.size()) == 0) {
      std::string t = h->substr(kBearer.size());
      while (!t.empty() && t.front() == ' ') t.erase(t.begin());
      while (!t.empty() && t.back() == ' ') t.pop_back();
      presented = std::move(t);
    }
  }
  if (!presented) {
    if (auto it = query.find(std::string(kTokenQueryParam)); it != query.end()) presented = it->second;
  }
  if (!presented || presented->empty()) return Status(Code::kUnauthenticated, "missing token");
  if (!matches(*presented)) return Status(Code::kUnauthenticated, "invalid token");
  return Status::ok();
}

}  // namespace lb::http
