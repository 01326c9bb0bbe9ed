#pragma once

// One explicit table of named entries per "choose by name" (storage drivers,
// runtime drivers, the commands of `lastbackend`): a fixed list of {name,
// factory}, looked up by name, an unknown name an error that lists the valid
// ones. No registration at static-initialization time: the table is the list.
//
// The names are usable at compile time (joinedNames), so the option tables
// of src/config take their allowed values from the same table without
// linking the drivers themselves.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb {

// "a, b, c": the valid names as error messages and --help list them.
template <typename Names>
std::string listNames(const Names& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += std::string_view(n);
  }
  return out;
}

// kInvalidArgument "unknown <what> 'x' (valid: a, b, c)", naming `field`.
template <typename Names>
Status unknownName(std::string_view what, std::string_view name, const Names& valid,
                   std::string field = {}) {
  return invalidArgument("unknown " + std::string(what) + " '" + std::string(name) +
                             "' (valid: " + listNames(valid) + ")",
                         std::move(field));
}

template <typename Factory>
struct Named {
  std::string_view name;
  Factory factory;
};

template <typename Factory, std::size_t N>
class DriverTable {
 public:
  // `what` names the kind in errors ("storage driver"); `field` is the
  // configuration key an unknown name is reported against.
  constexpr DriverTable(std::string_view what, std::string_view field,
                        std::array<Named<Factory>, N> entries)
      : what_(what), field_(field), entries_(entries) {}

  constexpr std::string_view what() const { return what_; }
  constexpr const std::array<Named<Factory>, N>& entries() const { return entries_; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.emplace_back(e.name);
    return out;
  }

  // The entry named `name`, or nullptr.
  constexpr const Named<Factory>* find(std::string_view name) const {
    for (const auto& e : entries_) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

  // The factory named `name`; an unknown name is kInvalidArgument listing
  // the valid ones.
  StatusOr<Factory> lookup(std::string_view name) const {
    if (const auto* e = find(name)) return e->factory;
    return unknownName(what_, name, names(), std::string(field_));
  }

  // lookup() and call: the factory's error gains "<what> 'name'" as context.
  template <typename... Args>
  auto open(std::string_view name, Args&&... args) const
      -> decltype(std::declval<Factory>()(std::forward<Args>(args)...)) {
    auto f = lookup(name);
    if (!f.isOk()) return f.status();
    auto r = (*f)(std::forward<Args>(args)...);
    if (!r.isOk())
      return r.status().withContext(std::string(what_) + " '" + std::string(name) + "'");
    return r;
  }

 private:
  std::string_view what_;
  std::string_view field_;
  std::array<Named<Factory>, N> entries_;
};

namespace detail {
template <const auto& Table>
consteval std::size_t joinedSize() {
  std::size_t n = 0;
  for (const auto& e : Table.entries()) n += e.name.size() + 1;
  return n;
}
}  // namespace detail

// "a,b,c\0" of a table's names, computed at compile time: option tables
// (Check::kOneOf choices) view it without referring to the factories.
template <const auto& Table>
consteval auto joinedNames() {
  std::array<char, detail::joinedSize<Table>()> out{};
  std::size_t i = 0;
  for (const auto& e : Table.entries()) {
    if (i) out[i++] = ',';
    for (char c : e.name) out[i++] = c;
  }
  return out;
}

// The joined names as a string_view (without the trailing NUL).
template <std::size_t N>
constexpr std::string_view namesView(const std::array<char, N>& joined) {
  return {joined.data(), N == 0 ? 0 : N - 1};
}

}  // namespace lb
