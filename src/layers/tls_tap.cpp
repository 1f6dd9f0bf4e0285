#include "tls_tap.hpp"

#include <algorithm>

namespace hark::layers {

namespace {

/** Bounds of one connection's log: hellos, certificates and alerts fit with room to spare. */
constexpr std::size_t max_logged_messages = 64;
constexpr std::size_t max_logged_message_bytes = 64 * 1024;

/** The handshake messages the log keeps (RFC 8446 §4): hellos, encrypted extensions,
 *  certificates and certificate requests. Key exchange, Finished and tickets say nothing a
 *  user inspects, and would only grow the log. */
bool is_logged_handshake(std::uint8_t type) {
  return type == 1 || type == 2 || type == 8 || type == 11 || type == 13;
}

/** OpenSSL's message callback (SSL_set_msg_callback): runs inside SSL_read, SSL_write and the
 *  handshake, on the connection's thread, with each whole message. */
void on_tls_message(int write_p, int version, int content_type, const void* buf, std::size_t len,
                    SSL* /*ssl*/, void* arg) {
  const auto* tap = static_cast<const tls_tap*>(arg);
  if (tap == nullptr || tap->log == nullptr || len == 0) {
    return;
  }
  const auto* bytes = static_cast<const char*>(buf);
  const bool alert = content_type == SSL3_RT_ALERT;
  const bool handshake =
      content_type == SSL3_RT_HANDSHAKE && is_logged_handshake(static_cast<std::uint8_t>(bytes[0]));
  auto& messages = tap->log->messages;
  if ((!alert && !handshake) || messages.size() >= max_logged_messages) {
    return;
  }
  capture::tls_message m;
  m.at = std::chrono::system_clock::now();
  m.leg = tap->leg;
  // Hark is the server on the client leg and the client on the upstream leg.
  const bool hark_is_server = tap->leg == capture::tls_leg::client;
  m.side = (write_p != 0) == hark_is_server ? capture::tls_side::server : capture::tls_side::client;
  m.content_type = static_cast<std::uint8_t>(content_type);
  m.version = static_cast<std::uint16_t>(version);
  m.bytes.assign(bytes, std::min(len, max_logged_message_bytes));
  messages.push_back(std::move(m));
}

}  // namespace

void attach_tap(SSL* ssl, tls_tap* tap) {
  if (tap->log != nullptr) {
    SSL_set_msg_callback(ssl, on_tls_message);
    SSL_set_msg_callback_arg(ssl, tap);
  }
}

void detach_tap(SSL* ssl) {
  SSL_set_msg_callback(ssl, nullptr);
  SSL_set_msg_callback_arg(ssl, nullptr);
}

void submit_tls_log(client_connection& c) {
  if (c.tls_log == nullptr || c.tls_log->messages.size() == c.tls_log_submitted) {
    return;
  }
  c.tls_log->details = c.tls_details;
  c.tls_log_submitted = c.tls_log->messages.size();
  c.services.sink.on_tls_connection(*c.tls_log);
}

}  // namespace hark::layers
