#pragma once
// client_connection: what the layers of one client connection share (private to src/layers).
//
//   accepted socket ─► http1 ─CONNECT─► connect ─ClientHello─► tls ─► http1 | http2
//                        │                 │                              │
//                        │                 └─other bytes─► raw_relay      └─101─► websocket
//                        └─absolute-form / origin-form exchanges
//
// One coroutine per connection (run()) asks next_layer() which layer comes next and runs it;
// every layer works on this state and returns what it learnt (next_layer.hpp has the table).

#include "hark/capture/flow.hpp"
#include "hark/layers/next_layer.hpp"
#include "hark/layers/proxy_session.hpp"
#include "hark/net/byte_buffer.hpp"
#include "hark/net/duplex.hpp"
#include "hark/net/upstream.hpp"
#include "hark/net/watchdog.hpp"
#include "hark/ws/deflate.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace hark::layers {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/** `host:port` of a CONNECT (host lowercase, IPv6 without brackets). */
struct authority {
  std::string host;
  std::uint16_t port = 0;
};

class tls_origin;

/** Where OpenSSL's message callback of one TLS leg appends (tls_tap.cpp). */
struct tls_tap {
  capture::tls_connection_log* log = nullptr;
  capture::tls_leg leg = capture::tls_leg::client;
};

struct client_connection {
  client_connection(tcp::socket s, worker_state& w);
  ~client_connection();
  client_connection(const client_connection&) = delete;
  client_connection& operator=(const client_connection&) = delete;

  /** Runs the layers until the connection is over. Never throws. */
  asio::awaitable<void> run();

  /** The client's byte stream: TLS once intercepted, else the socket. */
  net::duplex io() { return tls ? net::duplex(*tls) : net::duplex(socket); }
  /** Writes all of `bytes` to the client; false when it is gone. */
  asio::awaitable<bool> write(std::string_view bytes);
  /** Reads more client bytes into `buf`; false at EOF, on error or when `d` fired. */
  asio::awaitable<bool> read_more(std::size_t at_least = 16 * 1024);
  /** Before the connection's first response goes to the client: waits until the lookup of the
   *  client's process has answered, at most process_settle_budget. A client that sends one
   *  request and exits is still alive until it has its answer, so its process is found;
   *  the lookup is normally done long before (the origin's round trip takes longer). */
  asio::awaitable<void> settle_process();

  tcp::socket socket;
  // Declared before the TLS stream so that it outlives the stream's message callback.
  std::unique_ptr<capture::tls_connection_log> tls_log;
  std::size_t tls_log_submitted = 0;  ///< messages in the log when it was last submitted
  tls_tap client_tap;
  tls_tap upstream_tap{nullptr, capture::tls_leg::upstream};
  std::unique_ptr<net::tls_over_socket> tls;
  worker_state& worker;
  proxy_services& services;
  capture::connection_info info;
  net::watchdog dog;
  net::byte_buffer buf;                ///< client bytes read and not consumed yet
  net::byte_buffer upstream_buf;       ///< upstream bytes read past the last response head
  std::optional<authority> tunnel;     ///< the CONNECT authority, once a tunnel is open
  capture::tls_details tls_details;    ///< carried by every entry of an intercepted connection
  std::unique_ptr<tls_origin> origin;  ///< the intercepted connection's upstream (tls_layer)
  std::optional<net::upstream_connection> upgraded;  ///< after a 101: the upstream half
  /** After a 101 to WebSocket: the upgrade's flow (its entry's capture state) and the
   *  permessage-deflate parameters of the 101, for the WebSocket layer. */
  std::optional<capture::flow> upgraded_flow;
  ws::deflate_params upgraded_deflate;
  bool process_settled = false;  ///< settle_process() has run
};

/** Copies bytes `from` → `to` until EOF or error (writing `pending` first); shuts down `to`'s
 *  sending side at EOF, closes both on error. */
asio::awaitable<void> copy_stream(net::duplex from, net::byte_buffer& pending, net::duplex to);

/** `scheme://host[:port]`, the port only when it is not the scheme's default. */
std::string origin_of(std::string_view scheme, const std::string& host, std::uint16_t port);

}  // namespace hark::layers
