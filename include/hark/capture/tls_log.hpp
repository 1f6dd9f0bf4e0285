#pragma once
// tls_connection_log: what the TLS connection log keeps of one intercepted connection (SPEC §3,
// §6.5). The proxy collects raw messages while it relays; they are decoded only when read
// (tls/handshake_log.hpp), so that logging costs the relay a copy of a few KiB per handshake.

#include "hark/capture/entry_record.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hark::capture {

/** Which of Hark's two TLS connections a message was seen on. */
enum class tls_leg : std::uint8_t { client = 0, upstream = 1 };
/** Who sent the message. */
enum class tls_side : std::uint8_t { client = 0, server = 1 };

/** One TLS message as seen by OpenSSL's message callback. */
struct tls_message {
  std::chrono::system_clock::time_point at{};
  tls_leg leg = tls_leg::client;
  tls_side side = tls_side::client;
  std::uint8_t content_type = 0;  ///< 22 handshake (4-byte header included), 21 alert
  std::uint16_t version = 0;      ///< the leg's protocol version when the message was processed
  std::string bytes;
};

struct tls_connection_log {
  std::string connection_id;  ///< the ULID shared with the entries' `tls.connectionId`
  std::string session_id;     ///< the session that was recording at the handshake
  std::chrono::system_clock::time_point at{};
  std::optional<net_address> client_addr;
  std::optional<std::string> sni;
  std::optional<std::string> alpn;     ///< negotiated with the client, if any
  tls_details details;                 ///< version, cipher suite, JA3, JA4 (unset on failure)
  std::optional<std::string> failure;  ///< why the client handshake failed, when it did
  std::vector<tls_message> messages;   ///< in the order OpenSSL processed them
};

}  // namespace hark::capture
