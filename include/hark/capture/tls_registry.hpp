#pragma once
// Shared TLS policy and observations between the proxy workers and the API thread: the
// passthrough patterns (SPEC §3) and the recent TLS handshake failures (SPEC §6.5).

#include "hark/capture/entry_record.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hark::capture {

/** `{"value": 48, "name": "unknown_ca"}` */
struct named_u8 {
  std::uint8_t value = 0;
  std::string name;
};

/** A handshake the client aborted or that could not complete (unknown CA, pinning, no shared
 *  cipher, a malformed ClientHello, a client that closed early). */
struct tls_failure {
  std::string connection_id;  ///< ULID of the client connection
  std::chrono::system_clock::time_point at{};
  std::optional<net_address> client_addr;
  std::optional<std::string> sni;  ///< or the CONNECT host when the client sent no SNI
  std::string reason;
  std::optional<named_u8> alert;  ///< the TLS alert the client sent, if any
};

/** `{"ip", "port"}` of an address as the API shows it (port 0 when unknown), or null. */
nlohmann::ordered_json net_address_json(const std::optional<net_address>& address);

/** The TlsFailure object of GET /api/tls/failures and of `tls_failure` events:
 *  {connectionId, at, clientAddr, sni, reason, alert}. */
nlohmann::ordered_json tls_failure_json(const tls_failure& failure);

class event_hub;

struct passthrough_pattern {
  std::string id;       ///< ULID
  std::string pattern;  ///< `example.com` or `*.example.com`
};

/** Thread-safe. Workers read the patterns at every intercepted CONNECT; the API edits them. */
class tls_registry {
 public:
  /** Keeps at most `max_failures` failures, the newest, and publishes each as a `tls_failure`
   *  event to `events` when it is not null (it must then outlive the registry). */
  explicit tls_registry(std::size_t max_failures = 1000, event_hub* events = nullptr)
      : max_failures_(max_failures), events_(events) {}

  /** Whether a pattern string is acceptable: a host name or `*.` + host name (letters, digits,
   *  `-`, `.`, `_`), or an IP literal; at most 253 characters. */
  static bool valid_pattern(std::string_view pattern);
  /** `example.com` matches exactly, `*.example.com` any subdomain; case-insensitive. */
  static bool matches(std::string_view pattern, std::string_view host);

  /** Adds a pattern (already validated) and returns it with its new id. */
  passthrough_pattern add_passthrough(std::string pattern);
  /** False when no pattern has that id. */
  bool remove_passthrough(const std::string& id);
  std::vector<passthrough_pattern> passthrough() const;
  /** Whether `host` matches one of the patterns. */
  bool is_passthrough(std::string_view host) const;

  void record_failure(tls_failure failure);
  /** Newest first. */
  std::vector<tls_failure> failures() const;
  std::uint64_t failure_count() const;

 private:
  mutable std::shared_mutex patterns_mutex_;
  std::vector<passthrough_pattern> patterns_;
  mutable std::mutex failures_mutex_;
  std::deque<tls_failure> failures_;
  std::size_t max_failures_;
  std::uint64_t failure_count_ = 0;
  event_hub* events_;
};

}  // namespace hark::capture
