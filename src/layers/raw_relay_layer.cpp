#include "raw_relay_layer.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace hark::layers {

using namespace boost::asio::experimental::awaitable_operators;

asio::awaitable<void> raw_relay_layer::run(connection_facts& facts) {
  facts.last = step::ended;
  if (!c_.upgraded) {
    // A tunnel: its upstream is the CONNECT authority.
    auto& t = *c_.tunnel;
    auto outcome = co_await net::connect_upstream(t.host, t.port, c_.services.cfg.connect_timeout,
                                                  c_.dog.main());
    if (!outcome.connection) {
      spdlog::debug("connection {}: tunnel to {}:{} failed: {}", c_.info.id, t.host, t.port,
                    outcome.message);
      co_return;
    }
    ++c_.services.metrics.tunnels_relayed;
    c_.upstream_buf.clear();
    c_.upgraded = std::move(outcome.connection);
  }
  const auto up = c_.upgraded->io();
  co_await (copy_stream(c_.io(), c_.buf, up) && copy_stream(up, c_.upstream_buf, c_.io()));
  co_return;
}

}  // namespace hark::layers
