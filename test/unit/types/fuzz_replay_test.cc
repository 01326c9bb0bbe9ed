// The gcc stand-in for the libFuzzer run: replays the seed corpus and a few
// thousand deterministic mutations of it through the same property check the
// fuzzer uses (fuzz/manifest_check.cc).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "manifest_check.h"

namespace lb::types {
namespace {

std::vector<std::string> seeds() {
  std::vector<std::string> out;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(std::string(LB_TYPES_TEST_DATA))) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

std::string mutate(std::string s, std::mt19937& rng) {
  static const char* kTokens[] = {"[",
                                  "]",
                                  "{",
                                  "}",
                                  ":",
                                  ": ",
                                  "- ",
                                  "\n  ",
                                  "\n",
                                  "&a ",
                                  "*a",
                                  "\"",
                                  "'",
                                  "---\n",
                                  "~",
                                  "null",
                                  "99999999999999999999",
                                  "-1",
                                  "\\",
                                  "#",
                                  "!!binary ",
                                  "|\n  ",
                                  ">",
                                  "? ",
                                  ",",
                                  "\t",
                                  "\0"};
  int ops = 1 + rng() % 4;
  for (int i = 0; i < ops; ++i) {
    size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 5) {
      case 0:
        if (!s.empty() && pos < s.size()) s[pos] = static_cast<char>(rng());
        break;
      case 1:
        s.insert(pos, kTokens[rng() % std::size(kTokens)]);
        break;
      case 2:
        s.erase(pos, rng() % 16);
        break;
      case 3: {
        size_t len = rng() % 64;
        if (pos < s.size()) s.insert(rng() % (s.size() + 1), s.substr(pos, len));
        break;
      }
      default:
        if (pos < s.size()) s.erase(pos, 1);
        break;
    }
  }
  return s;
}

TEST(FuzzReplay, SeedsAndMutationsHoldTheProperties) {
  auto corpus = seeds();
  ASSERT_FALSE(corpus.empty());
  for (const auto& s : corpus)
    ASSERT_TRUE(fuzz::checkManifestInput(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  std::mt19937 rng(20261126);  // fixed: failures must reproduce
  for (int i = 0; i < 4000; ++i) {
    std::string input = mutate(corpus[i % corpus.size()], rng);
    ASSERT_TRUE(
        fuzz::checkManifestInput(reinterpret_cast<const uint8_t*>(input.data()), input.size()))
        << "mutation " << i << ":\n"
        << input;
  }
}

}  // namespace
}  // namespace lb::types
