#include "connect_layer.hpp"

namespace hark::layers {

asio::awaitable<void> connect_layer::run(connection_facts& facts) {
  facts.last = step::ended;
  if (!co_await c_.write("HTTP/1.1 200 Connection established\r\n\r\n")) {
    co_return;
  }
  // Bytes an earlier exchange's upstream sent past its response belong to that connection,
  // not to this tunnel.
  c_.upstream_buf.clear();
  auto& dog = c_.dog;
  dog.reset_fired();
  dog.arm(c_.services.cfg.idle_timeout, c_.socket);
  const auto kind = co_await peek();
  dog.disarm();
  if (!kind) {
    co_return;
  }
  facts.last = step::tunnel_peeked;
  facts.peeked = *kind;
  if (*kind == tunnel_bytes::tls_hello && !c_.buf.empty()) {
    // The ClientHello came right behind the CONNECT head and was read already: OpenSSL cannot
    // see it in the socket any more, so the tunnel is relayed untouched.
    facts.peeked = tunnel_bytes::other;
  }
  co_return;
}

asio::awaitable<std::optional<tunnel_bytes>> connect_layer::peek() {
  if (c_.buf.empty()) {
    // Wait for the first byte and look at it without taking it from the socket.
    auto [wec] = co_await c_.socket.async_wait(tcp::socket::wait_read, use_nothrow);
    char first = 0;
    boost::system::error_code ec;
    const auto n =
        wec ? 0 : c_.socket.receive(asio::buffer(&first, 1), tcp::socket::message_peek, ec);
    if (wec || ec || n == 0) {
      co_return std::nullopt;
    }
    auto kind = classify_tunnel_bytes(std::string_view(&first, 1));
    if (kind) {
      co_return kind;
    }
  }
  // An upper-case letter: read (and keep) up to four bytes to tell HTTP/1.x from HTTP/2.
  for (;;) {
    if (auto kind = classify_tunnel_bytes(c_.buf.data())) {
      co_return kind;
    }
    auto* space = c_.buf.prepare(16 * 1024);
    auto [ec, n] =
        co_await c_.socket.async_read_some(asio::buffer(space, c_.buf.free_space()), use_nothrow);
    if (ec) {
      co_return std::nullopt;
    }
    c_.buf.commit(n);
  }
}

}  // namespace hark::layers
