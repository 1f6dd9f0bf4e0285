#include "hark/core/config.hpp"

#include <charconv>
#include <cstdlib>
#include <stdexcept>

namespace hark {

endpoint_spec parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("expected HOST:PORT, got '" + text + "'");
  }
  endpoint_spec ep;
  ep.host = text.substr(0, colon);
  if (ep.host.size() >= 2 && ep.host.front() == '[' && ep.host.back() == ']') {
    ep.host = ep.host.substr(1, ep.host.size() - 2);
  }
  const auto port_text = std::string_view(text).substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || p != port_text.data() + port_text.size() || port > 65535) {
    throw std::invalid_argument("invalid port in '" + text + "'");
  }
  ep.port = static_cast<std::uint16_t>(port);
  return ep;
}

std::filesystem::path default_data_dir() {
  if (const char* d = std::getenv("HARK_DATA_DIR"); d != nullptr && *d != '\0') {
    return d;
  }
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x != '\0') {
    return std::filesystem::path(x) / "hark";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    return std::filesystem::path(h) / ".local" / "share" / "hark";
  }
  return std::filesystem::path(".hark");
}

}  // namespace hark
