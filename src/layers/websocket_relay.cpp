// The WebSocket relay: verbatim copy in both directions, observed on the side (see the header).

#include "websocket_relay.hpp"

#include "hark/layers/http1_codec.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tuple>

namespace hark::layers {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

/** Relay reads at most this much at a time: a chunk is forwarded as soon as it arrives. */
constexpr std::size_t read_size = std::size_t{64} * 1024;

/** One direction: `from` → `to`, each chunk shown to the observer once written. */
asio::awaitable<void> pump(net::duplex from, net::byte_buffer& pending, net::duplex to,
                           ws::observer& observer, ws::side side) {
  auto observe = [&](std::string_view bytes) {
    if (side == ws::side::client) {
      observer.client_bytes(bytes);
    } else {
      observer.server_bytes(bytes);
    }
  };
  boost::system::error_code ec;
  if (!pending.empty()) {
    std::tie(ec, std::ignore) = co_await to.write(asio::buffer(pending.data()));
    observe(pending.data());
    pending.clear();
  }
  bool eof = false;
  while (!ec) {
    auto* space = pending.prepare(read_size);
    auto [rec, n] = co_await from.read_some(asio::buffer(space, pending.free_space()));
    if (rec) {
      eof = rec == asio::error::eof || rec == asio::ssl::error::stream_truncated;
      break;
    }
    std::tie(ec, std::ignore) = co_await to.write(asio::buffer(space, n));
    observe(std::string_view(space, n));
  }
  if (side == ws::side::client) {
    observer.client_finished();
  } else {
    observer.server_finished();
  }
  boost::system::error_code ignored;
  if (eof) {
    // The peer closed its sending side: pass the half-close on, the other direction goes on.
    to.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    co_return;
  }
  // An error on either side ends both directions.
  from.socket().close(ignored);
  to.socket().close(ignored);
}

}  // namespace

bool is_websocket_upgrade(const capture::header_list& request_fields) {
  return http1::iequals(http1::field_value(request_fields, "upgrade"), "websocket");
}

void use_websocket_scheme(capture::flow& f) {
  const std::string_view scheme = f.scheme == "https" ? "wss" : f.scheme == "http" ? "ws" : "";
  if (scheme.empty()) {
    return;  // already ws/wss
  }
  if (f.url.compare(0, f.scheme.size() + 3, f.scheme + "://") == 0) {
    f.url.replace(0, f.scheme.size(), scheme);
  }
  f.scheme = scheme;
}

asio::awaitable<void> relay_websocket(net::duplex client, net::byte_buffer& client_pending,
                                      net::duplex upstream, net::byte_buffer& upstream_pending,
                                      ws::observer& observer) {
  co_await (pump(client, client_pending, upstream, observer, ws::side::client) &&
            pump(upstream, upstream_pending, client, observer, ws::side::server));
}

asio::awaitable<void> relay_websocket(net::duplex client, net::byte_buffer& client_pending,
                                      net::duplex upstream, net::byte_buffer& upstream_pending,
                                      capture::flow_sink& sink, capture::flow& f,
                                      ws::deflate_params deflate, std::uint64_t max_capture) {
  flow_message_sink messages(sink, f);
  ws::observer observer(deflate, max_capture, messages);
  co_await relay_websocket(client, client_pending, upstream, upstream_pending, observer);
}

}  // namespace hark::layers
