#include "hark/layers/next_layer.hpp"

namespace hark::layers {

namespace {

layer after_peek(const connection_facts& f) noexcept {
  switch (f.peeked) {
    case tunnel_bytes::tls_hello:
      return f.interception ? layer::tls : layer::raw_relay;  // rules 3, 4
    case tunnel_bytes::h2_preface:
      return layer::http2;  // rule 5
    case tunnel_bytes::http1:
      return layer::http1;  // rule 6
    case tunnel_bytes::other:
      break;
  }
  return layer::raw_relay;  // rule 7
}

}  // namespace

layer next_layer(const connection_facts& f) noexcept {
  switch (f.last) {
    case step::accepted:
      return layer::http1;  // rule 1
    case step::connect_requested:
      return layer::connect;  // rule 2
    case step::tunnel_peeked:
      return after_peek(f);
    case step::tls_passthrough:
      return layer::raw_relay;  // rule 8
    case step::tls_intercepted:
      return f.alpn == "h2" ? layer::http2 : layer::http1;  // rules 9, 10
    case step::upgraded:
      return f.upgrade == upgrade_kind::websocket ? layer::websocket : layer::raw_relay;  // 11, 12
    case step::ended:
      break;
  }
  return layer::done;  // rule 13
}

std::optional<tunnel_bytes> classify_tunnel_bytes(std::string_view first) noexcept {
  if (first.empty()) {
    return std::nullopt;
  }
  if (first.front() == 0x16) {
    return tunnel_bytes::tls_hello;
  }
  if (first.front() < 'A' || first.front() > 'Z') {
    return tunnel_bytes::other;
  }
  // An upper-case letter: an HTTP/1.x method, or the HTTP/2 preface `PRI * HTTP/2.0`.
  if (first.size() < 4) {
    return std::nullopt;
  }
  return first.substr(0, 4) == "PRI " ? tunnel_bytes::h2_preface : tunnel_bytes::http1;
}

const char* to_string(layer l) noexcept {
  switch (l) {
    case layer::http1:
      return "http1";
    case layer::connect:
      return "connect";
    case layer::tls:
      return "tls";
    case layer::http2:
      return "http2";
    case layer::websocket:
      return "websocket";
    case layer::raw_relay:
      return "raw_relay";
    case layer::done:
      break;
  }
  return "done";
}

}  // namespace hark::layers
