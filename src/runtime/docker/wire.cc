#include "runtime/docker/wire.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "lastbackend/http/uri.h"

namespace lb::runtime::docker {

Status LogDemuxer::feed(std::string_view data, const Out& out) {
  if (stopped_) return Status::ok();
  if (tty_) {
    if (!data.empty() && !out(1, data)) stopped_ = true;
    return Status::ok();
  }
  while (!data.empty()) {
    if (remaining_ == 0 && headerLen_ < 8) {
      size_t take = std::min(data.size(), 8 - headerLen_);
      std::copy_n(data.data(), take, header_ + headerLen_);
      headerLen_ += take;
      data.remove_prefix(take);
      if (headerLen_ < 8) break;
      stream_ = header_[0];
      if (stream_ > 3 || header_[1] != 0 || header_[2] != 0 || header_[3] != 0) {
        return internalError("malformed log frame header (stream byte " + std::to_string(stream_) +
                             "); is the container a TTY?");
      }
      remaining_ = (uint32_t(header_[4]) << 24) | (uint32_t(header_[5]) << 16) |
                   (uint32_t(header_[6]) << 8) | uint32_t(header_[7]);
      headerLen_ = 0;
      if (remaining_ == 0) continue;
      if (stream_ == 0) stream_ = 1;
    }
    size_t take = std::min<size_t>(data.size(), remaining_);
    std::string_view piece = data.substr(0, take);
    data.remove_prefix(take);
    remaining_ -= static_cast<uint32_t>(take);
    if (stream_ == 3) {
      sysErr_.append(piece);
      if (remaining_ == 0) {
        return internalError("daemon error in log stream: " + sysErr_);
      }
      continue;
    }
    if (!out(stream_, piece)) {
      stopped_ = true;
      return Status::ok();
    }
  }
  return Status::ok();
}

bool LineSplitter::feed(std::string_view data, const Out& out) {
  while (!data.empty()) {
    auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      buf_.append(data);
      break;
    }
    std::string line;
    std::string_view view;
    if (buf_.empty()) {
      view = data.substr(0, nl);
    } else {
      buf_.append(data.substr(0, nl));
      line.swap(buf_);
      view = line;
    }
    data.remove_prefix(nl + 1);
    if (!view.empty() && view.back() == '\r') view.remove_suffix(1);
    if (view.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (!out(view)) return false;
  }
  return true;
}

bool LineSplitter::finish(const Out& out) {
  std::string rest;
  rest.swap(buf_);
  std::string_view view = rest;
  if (!view.empty() && view.back() == '\r') view.remove_suffix(1);
  if (view.find_first_not_of(" \t\r") == std::string_view::npos) return true;
  return out(view);
}

Status errorFromResponse(int status, std::string_view body) {
  std::string message;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    message = j["message"].get<std::string>();
  } else {
    message = std::string(body);
    while (!message.empty() &&
           (message.back() == '\n' || message.back() == '\r' || message.back() == ' ')) {
      message.pop_back();
    }
    if (message.size() > 512) message = message.substr(0, 512) + "...";
  }
  std::string text = std::to_string(status) + " " + message;
  Code code = Code::kInternal;
  switch (status) {
    case 400:
      code = Code::kInvalidArgument;
      break;
    case 401:
    case 403:
      code = Code::kPermissionDenied;
      break;
    case 404:
      code = Code::kNotFound;
      break;
    case 409:
      code = message.find("already in use") != std::string::npos ? Code::kAlreadyExists
                                                                 : Code::kConflict;
      break;
    case 503:
      code = Code::kUnavailable;
      break;
    default:
      break;
  }
  return Status(code, text);
}

std::string ApiVersion::str() const { return std::to_string(major) + "." + std::to_string(minor); }

ApiVersion parseApiVersion(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos) return {};
  ApiVersion v;
  auto a = std::from_chars(text.data(), text.data() + dot, v.major);
  auto b = std::from_chars(text.data() + dot + 1, text.data() + text.size(), v.minor);
  if (a.ec != std::errc() || a.ptr != text.data() + dot || b.ec != std::errc() ||
      b.ptr != text.data() + text.size()) {
    return {};
  }
  return v;
}

StatusOr<ApiVersion> negotiateApiVersion(std::string_view daemonApiVersion) {
  ApiVersion daemon = parseApiVersion(daemonApiVersion);
  if (daemon == ApiVersion{}) {
    return unavailable("daemon reported an unreadable API version '" +
                       std::string(daemonApiVersion) + "'");
  }
  if (daemon < kMinApiVersion) {
    return unavailable("daemon API version " + daemon.str() + " is older than the minimum " +
                       kMinApiVersion.str() + " we support");
  }
  return std::min(daemon, kMaxApiVersion);
}

std::string filtersJson(const std::map<std::string, std::vector<std::string>>& filters) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, values] : filters) {
    if (!values.empty()) j[k] = values;
  }
  return j.dump();
}

std::vector<std::string> labelFilterValues(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> out;
  out.reserve(labels.size());
  for (const auto& [k, v] : labels) out.push_back(v.empty() ? k : k + "=" + v);
  return out;
}

std::string escapeRef(std::string_view ref) {
  std::string out;
  size_t start = 0;
  for (size_t i = 0; i <= ref.size(); ++i) {
    if (i == ref.size() || ref[i] == '/' || ref[i] == ':' || ref[i] == '@') {
      out += http::percentEncode(ref.substr(start, i - start));
      if (i < ref.size()) out += ref[i];
      start = i + 1;
    }
  }
  return out;
}

std::string normalizeTime(std::string_view t) {
  if (t.empty() || t.starts_with("0001-01-01")) return {};
  return std::string(t);
}

}  // namespace lb::runtime::docker
