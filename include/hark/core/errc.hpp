#pragma once
// hark::errc — the failure codes a user sees as an entry's `error.code` and in `X-Hark-Error`.

#include <boost/system/error_code.hpp>

#include <optional>
#include <string_view>
#include <type_traits>

namespace hark {

enum class errc {
  ok = 0,
  dns_failed,             ///< the upstream host name did not resolve
  connect_failed,         ///< TCP connect to the upstream was refused or unreachable
  upstream_timeout,       ///< connect or first response byte took longer than the deadline
  upstream_cert_invalid,  ///< the upstream TLS certificate did not verify
  upstream_reset,         ///< the upstream closed or reset the connection mid-response
  upstream_protocol,      ///< the upstream sent a response Hark could not parse
  client_reset,           ///< the client closed the connection before the exchange completed
  client_protocol,        ///< the client sent a malformed request (answered with 400)
  header_too_large,       ///< the client's header section exceeded 64 KiB (answered with 431)
  client_timeout,         ///< the client did not send a request head or body in time
  alpn_mismatch,          ///< client and origin share no application protocol (ALPN)
  internal_error,         ///< Hark failed unexpectedly during the exchange (a defect)
};

/** The snake_case code string of `e`, as stored in entries and sent in `X-Hark-Error`. */
std::string_view to_string(errc e) noexcept;

/** The errc whose to_string() is `code`, or nullopt. */
std::optional<errc> errc_from_string(std::string_view code) noexcept;

/** The boost::system category of hark::errc. */
const boost::system::error_category& hark_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), hark_category()};
}

}  // namespace hark

template <>
struct boost::system::is_error_code_enum<hark::errc> : std::true_type {};
