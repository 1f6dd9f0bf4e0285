#pragma once
// raw_relay_layer: bytes relayed untouched in both directions (private to src/layers) — a
// passthrough TLS host, a tunnel that speaks neither TLS nor HTTP, and, after a 101, the
// upgraded connection. Not an entry; tunnels are counted in /metrics.

#include "connection.hpp"

namespace hark::layers {

class raw_relay_layer {
 public:
  explicit raw_relay_layer(client_connection& c) : c_(c) {}

  /** Relays until both directions ended; always ended. */
  asio::awaitable<void> run(connection_facts& facts);

 private:
  client_connection& c_;
};

}  // namespace hark::layers
