// Host guard and bearer token. A web page the user visits can make the browser send requests to
// 127.0.0.1:8889 through a DNS name it controls (DNS rebinding); such requests carry that name
// in Host, which is why only loopback names and the configured addresses are accepted.

#include "access.hpp"

#include <openssl/crypto.h>

#include <boost/url/authority_view.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>

namespace hark::api {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_loopback(const boost::urls::authority_view& authority) {
  switch (authority.host_type()) {
    case boost::urls::host_type::name:
      return iequals(authority.encoded_host(), "localhost");
    case boost::urls::host_type::ipv4:
      return authority.host_ipv4_address().is_loopback();
    case boost::urls::host_type::ipv6:
      return authority.host_ipv6_address().is_loopback();
    case boost::urls::host_type::none:
    case boost::urls::host_type::ipvfuture:
      return false;
  }
  return false;
}

bool is_listed(std::string_view host, const boost::urls::authority_view& authority,
               const std::vector<std::string>& allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& entry) {
    return iequals(entry, host) || iequals(entry, authority.encoded_host());
  });
}

}  // namespace

bool is_allowed_host(std::string_view host, const std::vector<std::string>& allowed) {
  // A bare IPv6 loopback is not valid authority syntax, but some clients send it.
  if (host == "::1") {
    return true;
  }
  const auto authority = boost::urls::parse_authority(host);
  // RFC 9110 §7.2: Host is uri-host [":" port]; userinfo has no place in it.
  if (!authority || authority->has_userinfo() || authority->encoded_host().empty()) {
    return false;
  }
  return is_loopback(*authority) || is_listed(host, *authority, allowed);
}

bool bearer_token_matches(std::string_view authorization, std::string_view token) {
  // RFC 9110 §11.1: the auth scheme is case-insensitive.
  constexpr std::string_view scheme = "bearer ";
  if (token.empty() || authorization.size() < scheme.size() ||
      !iequals(authorization.substr(0, scheme.size()), scheme)) {
    return false;
  }
  auto given = authorization.substr(scheme.size());
  while (!given.empty() && given.front() == ' ') {
    given.remove_prefix(1);
  }
  while (!given.empty() && (given.back() == ' ' || given.back() == '\t')) {
    given.remove_suffix(1);
  }
  // Only the length can be learned from timing, not how many leading bytes match.
  return given.size() == token.size() &&
         CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

}  // namespace hark::api
