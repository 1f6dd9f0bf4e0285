#pragma once
// connect_layer: a CONNECT tunnel's start (private to src/layers): `200 Connection established`,
// then the client's first bytes are classified without consuming them, so that a TLS
// ClientHello is still in the socket when OpenSSL reads it (SPEC §2).

#include "connection.hpp"

namespace hark::layers {

class connect_layer {
 public:
  explicit connect_layer(client_connection& c) : c_(c) {}

  /** tunnel_peeked with what the client sent first, or ended. */
  asio::awaitable<void> run(connection_facts& facts);

 private:
  asio::awaitable<std::optional<tunnel_bytes>> peek();

  client_connection& c_;
};

}  // namespace hark::layers
