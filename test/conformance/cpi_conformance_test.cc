// The CPI suite (cpi_conformance.h) against fakes::FakeProxyRuntime and the
// nftables driver, the latter opened (by name, through the driver table)
// inside a network namespace this test makes: its table, its rules and its
// conntrack entries never exist outside it.

#include "conformance/cpi_conformance.h"

#include <memory>

#include "fakes/runtime/fake_cpi.h"
#include "lastbackend/runtime/factory.h"
#include "support/netns.h"

namespace lb::conformance {
namespace {

class FakeBackend {
 public:
  std::string problem() { return ""; }
  bool maySkip() { return false; }
  runtime::cpi::ProxyRuntime& proxy() { return *proxy_; }
  void reopen() { proxy_ = proxy_->reopened(); }
  void damage(const std::string& vip) { proxy_->damage(vip); }

 private:
  std::unique_ptr<fakes::FakeProxyRuntime> proxy_ = std::make_unique<fakes::FakeProxyRuntime>();
};

class NftablesBackend {
 public:
  NftablesBackend() {
    problem_ = testing::netnsProblem();
    if (!problem_.empty()) return;
    ns_ = std::make_unique<testing::Netns>("cpi");
    if (!ns_->ok()) {
      problem_ = ns_->error();
      return;
    }
    reopen();
  }

  std::string problem() { return problem_; }
  bool maySkip() { return testing::netnsMaySkip(); }
  runtime::cpi::ProxyRuntime& proxy() { return *proxy_; }

  // The old instance goes first, as when an agent is restarted.
  void reopen() {
    proxy_.reset();
    StatusOr<std::unique_ptr<runtime::cpi::ProxyRuntime>> opened = internalError("not run");
    if (!ns_->run([&] { opened = runtime::cpi::open({"nftables"}); })) {
      problem_ = "cannot enter " + ns_->path();
    } else if (!opened.isOk()) {
      problem_ = opened.status().message();
    } else {
      proxy_ = std::move(*opened);
    }
  }

  void damage(const std::string& vip) {
    auto r = ns_->exec({"/usr/sbin/nft", "delete", "element", "ip", "lastbackend", "endpoints",
                        "{ " + vip + " }"});
    EXPECT_EQ(r.code, 0) << r.err;
  }

 private:
  std::string problem_;
  std::unique_ptr<testing::Netns> ns_;
  std::unique_ptr<runtime::cpi::ProxyRuntime> proxy_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Fake, CpiConformance, FakeBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Nftables, CpiConformance, NftablesBackend);

}  // namespace
}  // namespace lb::conformance
