#pragma once
// next_layer: the one place where Hark decides what a client connection speaks next. Every layer
// runs until it has learnt what comes after it, records that in the connection's facts and returns;
// this table picks the next layer from the facts.
//
//   what the connection showed last                        next layer
//   ─────────────────────────────────────────────────────  ──────────
//    1 accepted                                             http1 (proxy requests: absolute-form,
//                                                                  origin-form, CONNECT)
//    2 http1 read CONNECT host:port                         connect (200, then peek)
//    3 tunnel, first bytes a TLS ClientHello, interception  tls
//    4 tunnel, first bytes a TLS ClientHello, no CA         raw_relay
//    5 tunnel, first bytes the HTTP/2 preface               http2 (h2c prior knowledge)
//    6 tunnel, first bytes an HTTP/1.x method               http1
//    7 tunnel, anything else                                raw_relay
//    8 tls: the host is on the passthrough list             raw_relay
//    9 tls: intercepted, the client chose h2                http2
//   10 tls: intercepted, the client chose http/1.1 or none  http1
//   11 http1 relayed 101 to a WebSocket upgrade             websocket
//   12 http1 relayed 101 to another upgrade                 raw_relay
//   13 the layer ended the connection (closed, failed)      done

#include <optional>
#include <string>
#include <string_view>

namespace hark::layers {

enum class layer { http1, connect, tls, http2, websocket, raw_relay, done };

/** What the last layer learnt. */
enum class step {
  accepted,           ///< nothing read yet
  connect_requested,  ///< a CONNECT head was read (the tunnel's authority is on the connection)
  tunnel_peeked,      ///< the tunnel's first bytes were classified
  tls_intercepted,    ///< the client handshake completed with Hark's certificate
  tls_passthrough,    ///< the TLS connection is relayed untouched
  upgraded,           ///< a 101 was relayed: both streams now belong to the upgraded protocol
  ended               ///< the connection is over
};

/** The first bytes a client sent inside a CONNECT tunnel. */
enum class tunnel_bytes { tls_hello, h2_preface, http1, other };

/** The protocol a 101 switched to. */
enum class upgrade_kind { none, websocket, other };

struct connection_facts {
  step last = step::accepted;
  tunnel_bytes peeked = tunnel_bytes::other;
  bool interception = false;  ///< a CA and an upstream TLS context are configured
  std::string alpn;           ///< what the client agreed with Hark after interception
  upgrade_kind upgrade = upgrade_kind::none;
};

/** The table above. Pure: no I/O, no state. */
layer next_layer(const connection_facts& f) noexcept;

/** What the first bytes of a tunnel are, from its first byte and, for an upper-case letter,
 *  its first four (`PRI ` starts the HTTP/2 preface). nullopt: more bytes are needed. */
std::optional<tunnel_bytes> classify_tunnel_bytes(std::string_view first) noexcept;

/** `http1`, `connect`, … for logs and tests. */
const char* to_string(layer l) noexcept;

}  // namespace hark::layers
