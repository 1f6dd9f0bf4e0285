#pragma once
// http1_layer: HTTP/1.x requests on a client connection (private to src/layers).
//
//            ┌──────────────── keep-alive ─────────────────┐
//            ▼                                             │
//   wait_request_head ──absolute-form / in a tunnel──► exchange ──close──► ended
//        │   │                                             └──101──► upgraded
//        │   └──CONNECT (not in a tunnel yet)──► connect_requested
//        └──origin-form to the proxy / hark.local──► local page (onboarding, CA)

#include "connection.hpp"
#include "exchange.hpp"

#include "hark/layers/http1_parser.hpp"

namespace hark::layers {

class http1_layer {
 public:
  explicit http1_layer(client_connection& c) : c_(c) {}

  /** Serves requests until the connection closes, a CONNECT arrives or a 101 hands the
   *  connection to another protocol; says which in the returned facts. */
  asio::awaitable<void> run(connection_facts& facts);

 private:
  enum class head_status { ok, closed, timeout, too_large, malformed };

  asio::awaitable<head_status> read_request_head(http1::request_parser& p, bool first);
  asio::awaitable<void> answer_bad_head(head_status s);
  asio::awaitable<bool> start_tunnel(const capture::http_head& head);
  bool resolve_target(const capture::http_head& head, exchange_target& t) const;
  asio::awaitable<bool> serve_local(http1::request_parser& p, const exchange_target& t);

  client_connection& c_;
};

}  // namespace hark::layers
