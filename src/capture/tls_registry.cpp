#include "hark/capture/tls_registry.hpp"

#include "hark/capture/event_hub.hpp"
#include "hark/core/ids.hpp"
#include "hark/core/time.hpp"

#include <nlohmann/json.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace hark::capture {

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool host_name_chars(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

}  // namespace

bool tls_registry::valid_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.size() > 253) {
    return false;
  }
  if (pattern.substr(0, 2) == "*.") {
    return host_name_chars(pattern.substr(2));
  }
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(std::string(pattern), ec);
  return !ec || host_name_chars(pattern);
}

bool tls_registry::matches(std::string_view pattern, std::string_view host) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    const auto suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && iequals(host.substr(host.size() - suffix.size()), suffix);
  }
  return iequals(pattern, host);
}

passthrough_pattern tls_registry::add_passthrough(std::string pattern) {
  passthrough_pattern p{ids::new_ulid(), std::move(pattern)};
  std::unique_lock lock(patterns_mutex_);
  patterns_.push_back(p);
  return p;
}

bool tls_registry::remove_passthrough(const std::string& id) {
  std::unique_lock lock(patterns_mutex_);
  const auto it = std::find_if(patterns_.begin(), patterns_.end(),
                               [&](const passthrough_pattern& p) { return p.id == id; });
  if (it == patterns_.end()) {
    return false;
  }
  patterns_.erase(it);
  return true;
}

std::vector<passthrough_pattern> tls_registry::passthrough() const {
  std::shared_lock lock(patterns_mutex_);
  return patterns_;
}

bool tls_registry::is_passthrough(std::string_view host) const {
  std::shared_lock lock(patterns_mutex_);
  return std::any_of(patterns_.begin(), patterns_.end(),
                     [&](const passthrough_pattern& p) { return matches(p.pattern, host); });
}

nlohmann::ordered_json net_address_json(const std::optional<net_address>& address) {
  if (!address) {
    return nullptr;
  }
  return {{"ip", address->ip}, {"port", address->port.value_or(0)}};
}

nlohmann::ordered_json tls_failure_json(const tls_failure& f) {
  nlohmann::ordered_json out;
  out["connectionId"] = f.connection_id;
  out["at"] = timefmt::iso8601(f.at);
  out["clientAddr"] = net_address_json(f.client_addr);
  out["sni"] = f.sni ? nlohmann::ordered_json(*f.sni) : nlohmann::ordered_json(nullptr);
  out["reason"] = f.reason;
  if (f.alert) {
    out["alert"] = {{"value", f.alert->value}, {"name", f.alert->name}};
  } else {
    out["alert"] = nullptr;
  }
  return out;
}

void tls_registry::record_failure(tls_failure failure) {
  std::string event;
  if (events_ != nullptr && events_->has_subscribers()) {
    // The SNI and the reason come from the client: replace invalid UTF-8 rather than throw.
    event =
        tls_failure_json(failure).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  {
    std::lock_guard lock(failures_mutex_);
    failures_.push_back(std::move(failure));
    ++failure_count_;
    while (failures_.size() > max_failures_) {
      failures_.pop_front();
    }
  }
  if (!event.empty()) {  // after recording it: a listener may GET /api/tls/failures at once
    events_->publish(event_type::tls_failure, {}, std::move(event));
  }
}

std::vector<tls_failure> tls_registry::failures() const {
  std::lock_guard lock(failures_mutex_);
  return {failures_.rbegin(), failures_.rend()};
}

std::uint64_t tls_registry::failure_count() const {
  std::lock_guard lock(failures_mutex_);
  return failure_count_;
}

}  // namespace hark::capture
