#pragma once

// The CII contract (include/lastbackend/runtime/cii.h) as one typed suite,
// instantiated for the docker driver on the test dockerd
// (test/integration/runtime/docker_conformance_test.cc) and for
// fakes::FakeImageRuntime (test/conformance/cii_conformance_test.cc).
//
// A backend B provides:
//   std::string problem();  why it cannot run here, or ""
//   bool maySkip();          whether that problem skips (else it fails)
//   runtime::cii::ImageRuntime& images();
//   std::string image();     an image that is present ("repo:tag")
//   std::string missingRef();
//                            a ref whose registry answers, and has no such image
// Tags the suite adds are named lb/conformance:<pid>-... and removed in TearDown.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "conformance/backend_test.h"
#include "lastbackend/runtime/cii.h"

namespace lb::conformance {

template <typename B>
class CiiConformance : public BackendTest<B> {
 protected:
  void TearDown() override {
    if (!this->ready_) return;
    for (const auto& t : tags_) (void)images().remove(t, false);
  }

  runtime::cii::ImageRuntime& images() { return this->backend_.images(); }

  std::string tagName(const std::string& what) {
    std::string t = "lb/conformance:" + std::to_string(::getpid()) + "-" + what;
    tags_.push_back(t);
    return t;
  }

  static bool listed(const std::vector<runtime::cii::ImageInfo>& all, const std::string& tag,
                     const std::string& id) {
    for (const auto& i : all) {
      for (const auto& t : i.repoTags) {
        if (t == tag) return i.id == id;
      }
    }
    return false;
  }

  std::vector<std::string> tags_;
};

TYPED_TEST_SUITE_P(CiiConformance);

namespace cii = runtime::cii;

TYPED_TEST_P(CiiConformance, InspectExistsAndList) {
  const std::string image = this->backend_.image();
  auto info = this->images().inspect(image);
  ASSERT_TRUE(info.isOk()) << info.status().message();
  EXPECT_EQ(info->id.rfind("sha256:", 0), 0u) << info->id;
  EXPECT_NE(std::find(info->repoTags.begin(), info->repoTags.end(), image), info->repoTags.end());
  auto byId = this->images().inspect(info->id);
  ASSERT_TRUE(byId.isOk()) << byId.status().message();
  EXPECT_EQ(byId->id, info->id);
  auto exists = this->images().exists(image);
  ASSERT_TRUE(exists.isOk());
  EXPECT_TRUE(*exists);
  auto all = this->images().list();
  ASSERT_TRUE(all.isOk()) << all.status().message();
  EXPECT_TRUE(this->listed(*all, image, info->id));
}

TYPED_TEST_P(CiiConformance, MissingImagesAreNotFound) {
  const std::string missing = "lb/conformance-missing:1";
  EXPECT_EQ(this->images().inspect(missing).status().code(), Code::kNotFound);
  auto exists = this->images().exists(missing);
  ASSERT_TRUE(exists.isOk()) << exists.status().message();
  EXPECT_FALSE(*exists);
  EXPECT_EQ(this->images().remove(missing, false).code(), Code::kNotFound);
  EXPECT_EQ(this->images().remove(missing, true).code(), Code::kNotFound);
  EXPECT_EQ(this->images().tag(missing, this->tagName("never")).code(), Code::kNotFound);
}

TYPED_TEST_P(CiiConformance, TagThenRemoveTheTag) {
  const std::string image = this->backend_.image();
  auto base = this->images().inspect(image);
  ASSERT_TRUE(base.isOk()) << base.status().message();
  const std::string copy = this->tagName("copy");
  ASSERT_TRUE(this->images().tag(image, copy).isOk());
  auto tagged = this->images().inspect(copy);
  ASSERT_TRUE(tagged.isOk()) << tagged.status().message();
  EXPECT_EQ(tagged->id, base->id);
  auto all = this->images().list();
  ASSERT_TRUE(all.isOk());
  EXPECT_TRUE(this->listed(*all, copy, base->id));

  ASSERT_TRUE(this->images().remove(copy, false).isOk());
  EXPECT_FALSE(*this->images().exists(copy));
  EXPECT_TRUE(*this->images().exists(image));  // removing a tag keeps the image
  EXPECT_EQ(this->images().remove(copy, false).code(), Code::kNotFound);
}

TYPED_TEST_P(CiiConformance, PullOfAMissingImageIsNotFound) {
  const std::string missing = this->backend_.missingRef();
  std::vector<std::string> progress;
  auto r = this->images().pull(missing, {},
                               [&](const cii::PullProgress& p) { progress.push_back(p.status); });
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kNotFound) << r.status().message();
  EXPECT_NE(r.status().message().find(missing), std::string::npos) << r.status().message();
  EXPECT_FALSE(*this->images().exists(missing));
}

TYPED_TEST_P(CiiConformance, PullOfABadReferenceIsInvalid) {
  auto r = this->images().pull("bad ref", {}, {});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().message();
}

TYPED_TEST_P(CiiConformance, EnsureImageFollowsThePolicy) {
  const std::string image = this->backend_.image();
  EXPECT_TRUE(cii::ensureImage(this->images(), image, cii::PullPolicy::kIfNotPresent, {}).isOk());
  EXPECT_TRUE(cii::ensureImage(this->images(), image, cii::PullPolicy::kNever, {}).isOk());
  EXPECT_EQ(
      cii::ensureImage(this->images(), "lb/conformance-missing:1", cii::PullPolicy::kNever, {})
          .code(),
      Code::kNotFound);
  EXPECT_EQ(cii::ensureImage(this->images(), this->backend_.missingRef(),
                             cii::PullPolicy::kIfNotPresent, {})
                .code(),
            Code::kNotFound);
}

REGISTER_TYPED_TEST_SUITE_P(CiiConformance, InspectExistsAndList, MissingImagesAreNotFound,
                            TagThenRemoveTheTag, PullOfAMissingImageIsNotFound,
                            PullOfABadReferenceIsInvalid, EnsureImageFollowsThePolicy);

}  // namespace lb::conformance
