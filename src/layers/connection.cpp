#include "connection.hpp"

#include "connect_layer.hpp"
#include "http1_layer.hpp"
#include "http2_layer.hpp"
#include "raw_relay_layer.hpp"
#include "tls_layer.hpp"
#include "tls_origin.hpp"
#include "tls_tap.hpp"
#include "websocket_relay.hpp"

#include "hark/core/ids.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>

namespace hark::layers {

using namespace boost::asio::experimental::awaitable_operators;

namespace {

// How long the first response of a connection may wait for the lookup of the client's process
// (settle_process). The lookup takes well under a millisecond unless the machine is saturated;
// past this the answer goes on and the entry may say `process: null`.
constexpr auto process_settle_budget = std::chrono::milliseconds(10);
constexpr auto process_settle_poll = std::chrono::microseconds(200);

/** Runs layer `l` on `c`, which records in `f` what it learnt. (Named layer objects and
 *  facts by reference: GCC 12 mishandles temporaries inside co_await expressions.) */
asio::awaitable<void> run_layer(layer l, client_connection& c, connection_facts& f) {
  switch (l) {
    case layer::http1: {
      http1_layer h1(c);
      co_await h1.run(f);
      co_return;
    }
    case layer::connect: {
      connect_layer tunnel(c);
      co_await tunnel.run(f);
      co_return;
    }
    case layer::tls: {
      tls_layer tls(c);
      co_await tls.run(f);
      co_return;
    }
    case layer::http2: {
      http2_layer h2(c);
      co_await h2.run(f);
      co_return;
    }
    case layer::websocket: {
      f.last = step::ended;
      co_await relay_websocket(c.io(), c.buf, c.upgraded->io(), c.upstream_buf, c.services.sink,
                               *c.upgraded_flow, c.upgraded_deflate,
                               c.services.cfg.max_body_capture);
      co_return;
    }
    case layer::raw_relay: {
      raw_relay_layer relay(c);
      co_await relay.run(f);
      co_return;
    }
    case layer::done:
      break;
  }
  f.last = step::ended;
}

asio::awaitable<void> run_layers(client_connection& c) {
  connection_facts facts;
  facts.interception = c.services.certificates != nullptr && c.services.upstream_tls != nullptr;
  for (auto l = next_layer(facts); l != layer::done; l = next_layer(facts)) {
    co_await run_layer(l, c, facts);
  }
  if (c.origin) {
    submit_tls_log(c);  // the alerts of the connection's end (close_notify), later upstreams
    c.origin->release_to_pool();
  }
  boost::system::error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_send, ignored);
  c.socket.close(ignored);
}

}  // namespace

client_connection::client_connection(tcp::socket s, worker_state& w)
    : socket(std::move(s)), worker(w), services(w.services), dog(socket.get_executor()) {
  boost::system::error_code ec;
  info.id = ids::new_ulid();
  info.client = socket.remote_endpoint(ec);
  info.local = socket.local_endpoint(ec);
  socket.set_option(tcp::no_delay(true), ec);
  if (services.processes != nullptr) {
    info.process = services.processes->resolve(info.client, info.local);
  }
}

client_connection::~client_connection() = default;

asio::awaitable<void> client_connection::run() {
  ++services.metrics.connections_open;
  ++services.metrics.connections_total;
  try {
    co_await (run_layers(*this) || dog.run());
  } catch (const std::exception& e) {
    // Exchanges record their own failures (exchange.cpp); what reaches here ended a connection
    // between exchanges (STYLE.md 2: caught once per connection).
    spdlog::error("connection {} from {}: {}", info.id, info.client.address().to_string(),
                  e.what());
  }
  --services.metrics.connections_open;
}

asio::awaitable<bool> client_connection::write(std::string_view bytes) {
  auto [ec, n] = co_await io().write(asio::buffer(bytes));
  co_return !ec;
}

asio::awaitable<void> client_connection::settle_process() {
  if (process_settled) {
    co_return;
  }
  process_settled = true;
  const auto& lookup = info.process;
  if (!lookup.valid()) {
    co_return;
  }
  // The resolver answers through a std::future, which cannot wake a coroutine: poll it.
  const auto give_up = std::chrono::steady_clock::now() + process_settle_budget;
  asio::steady_timer timer(socket.get_executor());
  while (lookup.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < give_up) {
    timer.expires_after(process_settle_poll);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) {
      co_return;
    }
  }
}

asio::awaitable<bool> client_connection::read_more(std::size_t at_least) {
  auto* space = buf.prepare(at_least);
  auto [ec, n] = co_await io().read_some(asio::buffer(space, buf.free_space()));
  if (ec) {
    co_return false;
  }
  buf.commit(n);
  co_return true;
}

std::string origin_of(std::string_view scheme, const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = std::string(scheme) + "://" + (v6 ? "[" + host + "]" : host);
  const bool default_port = ((scheme == "http" || scheme == "ws") && port == 80) ||
                            ((scheme == "https" || scheme == "wss") && port == 443);
  if (!default_port) {
    out += ":" + std::to_string(port);
  }
  return out;
}

asio::awaitable<void> copy_stream(net::duplex from, net::byte_buffer& pending, net::duplex to) {
  boost::system::error_code ec;
  if (!pending.empty()) {
    std::tie(ec, std::ignore) = co_await to.write(asio::buffer(pending.data()));
    pending.clear();
  }
  while (!ec) {
    auto* space = pending.prepare(16 * 1024);
    auto [rec, n] = co_await from.read_some(asio::buffer(space, pending.free_space()));
    if (rec) {
      if (rec == asio::error::eof || rec == asio::ssl::error::stream_truncated) {
        to.socket().shutdown(tcp::socket::shutdown_send, ec);
        co_return;
      }
      break;
    }
    std::tie(ec, std::ignore) = co_await to.write(asio::buffer(space, n));
  }
  // An error on either side ends both directions.
  boost::system::error_code ignored;
  from.socket().close(ignored);
  to.socket().close(ignored);
}

asio::awaitable<void> serve_client(tcp::socket socket, worker_state& worker) {
  client_connection connection(std::move(socket), worker);
  co_await connection.run();
}

}  // namespace hark::layers
