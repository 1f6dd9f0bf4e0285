#pragma once
// tls_layer: TLS interception of a CONNECT tunnel (private to src/layers), SPEC §3:
//
//   peek ClientHello (bytes stay in the socket) ─► passthrough host? ─yes─► tls_passthrough
//        │ no
//        ▼
//   tls_origin: pooled or new upstream TLS with the client's SNI and ALPN offer, verified
//        │ (a verification failure is remembered: every request then gets 502)
//        ▼
//   leaf for SNI + the upstream certificate's names ─► client handshake selecting exactly the
//   upstream's ALPN ─► tls_intercepted (alpn) │ failed ─► ended (a TLS failure is recorded)

#include "connection.hpp"

#include "hark/tls/client_hello.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hark::layers {

class tls_layer {
 public:
  explicit tls_layer(client_connection& c) : c_(c) {}

  asio::awaitable<void> run(connection_facts& facts);

 private:
  asio::awaitable<std::optional<tls::client_hello>> peek_client_hello();
  bool is_passthrough(const tls::client_hello& hello) const;
  void start_log(const tls::client_hello& hello);
  std::vector<std::string> certificate_names(net::upstream_connection* upstream) const;
  std::optional<std::string> alpn_choice(net::upstream_connection* upstream) const;
  asio::awaitable<bool> handshake_with_client(const tls::client_hello& hello,
                                              const std::vector<std::string>& names,
                                              std::optional<std::string> alpn);
  void note_client_tls(const tls::client_hello& hello);
  void record_failure(proxy_metrics::tls_failure kind, std::string reason,
                      std::optional<capture::named_u8> alert = {});

  client_connection& c_;
  std::string server_name_;
};

}  // namespace hark::layers
