#include "hark/net/upstream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <algorithm>

namespace hark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string timeout_message(const std::string& host, std::uint16_t port,
                            std::chrono::seconds timeout) {
  return "hark: " + host_port(host, port) + " did not answer within " +
         std::to_string(timeout.count()) + " s";
}

/** The TCP socket of a connection, under its TLS stream when it has one. */
tcp::socket& transport(upstream_connection& c) {
  return c.tls ? c.tls->next_layer() : c.socket;
}

/** Idle and open: nothing to read (an idle connection that has bytes waiting was closed or is
 *  out of step), and for TLS nothing buffered inside OpenSSL either. */
bool looks_open(upstream_connection& c) {
  if (c.tls && SSL_has_pending(c.tls->native_handle()) == 1) {
    return false;
  }
  char probe = 0;
  const auto n = ::recv(transport(c).native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::string upstream_key(const std::string& host, std::uint16_t port) {
  return host_port(host, port);
}

std::string tls_upstream_key(const std::string& host, std::uint16_t port, const std::string& sni,
                             const std::vector<std::string>& alpn) {
  std::string key = "tls " + host_port(host, port) + " sni=" + sni + " alpn=";
  for (const auto& protocol : alpn) {
    key += protocol;
    key += ',';
  }
  return key;
}

asio::awaitable<connect_outcome> connect_upstream(std::string host, std::uint16_t port,
                                                  std::chrono::seconds timeout,
                                                  watchdog::deadline& dog) {
  auto ex = co_await asio::this_coro::executor;
  connect_outcome out;
  tcp::socket socket(ex);
  std::vector<tcp::endpoint> endpoints;

  boost::system::error_code ec;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, port);
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), use_nothrow);
    out.dns_ms = ms_since(t0);
    if (rec) {
      out.error = errc::dns_failed;
      out.message = "hark: cannot resolve " + host + ": " + rec.message();
      co_return out;
    }
    for (const auto& entry : results) {
      endpoints.push_back(entry.endpoint());
    }
  }

  const auto t1 = std::chrono::steady_clock::now();
  dog.reset_fired();
  dog.arm(timeout, socket);
  auto [cec, remote] = co_await asio::async_connect(socket, endpoints, use_nothrow);
  dog.disarm();
  out.connect_ms = ms_since(t1);
  if (dog.fired()) {
    dog.reset_fired();
    out.error = errc::upstream_timeout;
    out.message = timeout_message(host, port, timeout);
    co_return out;
  }
  if (cec) {
    out.error = errc::connect_failed;
    out.message = "hark: cannot connect to " + host_port(host, port) + ": " + cec.message();
    co_return out;
  }
  socket.set_option(tcp::no_delay(true), ec);
  out.connection.emplace(upstream_connection{std::move(socket), upstream_key(host, port), remote});
  co_return out;
}

/** Shared by a pool and its sweeping coroutine: `pool` is cleared when the pool goes first. */
struct upstream_pool::sweeper {
  explicit sweeper(const asio::any_io_executor& ex) : timer(ex) {}
  upstream_pool* pool = nullptr;
  asio::steady_timer timer;
  bool running = false;
};

namespace {

/** Sweeps `s->pool` every `period` until it is empty or gone. A named coroutine with by-value
 *  parameters (STYLE.md 1): it may outlive the pool, never the sweeper state. */
asio::awaitable<void> sweep_periodically(std::shared_ptr<upstream_pool::sweeper> s,
                                         std::chrono::steady_clock::duration period) {
  for (;;) {
    s->timer.expires_after(period);
    auto [ec] = co_await s->timer.async_wait(use_nothrow);
    if (ec || s->pool == nullptr) {
      break;
    }
    s->pool->sweep();
    if (s->pool->idle_count() == 0) {
      break;
    }
  }
  s->running = false;
}

}  // namespace

upstream_pool::upstream_pool(std::size_t max_idle_per_key, std::chrono::seconds idle_ttl)
    : max_idle_per_key_(max_idle_per_key), idle_ttl_(idle_ttl) {}

upstream_pool::~upstream_pool() {
  for (auto& [key, list] : shared_) {
    for (auto& entry : list) {
      entry.connection->close();
    }
  }
  if (sweeper_) {
    sweeper_->pool = nullptr;
    sweeper_->timer.cancel();
  }
}

void upstream_pool::start_sweeper(const asio::any_io_executor& ex) {
  if (!sweeper_) {
    sweeper_ = std::make_shared<sweeper>(ex);
    sweeper_->pool = this;
  }
  if (sweeper_->running) {
    return;
  }
  sweeper_->running = true;
  const auto period =
      std::max<std::chrono::steady_clock::duration>(idle_ttl_ / 2, std::chrono::milliseconds(100));
  asio::co_spawn(ex, sweep_periodically(sweeper_, period), asio::detached);
}

std::optional<upstream_connection> upstream_pool::take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) {
    return std::nullopt;
  }
  auto& list = it->second;
  const auto now = std::chrono::steady_clock::now();
  while (!list.empty()) {
    idle candidate = std::move(list.back());
    list.pop_back();
    if (now - candidate.since < idle_ttl_ && looks_open(candidate.connection)) {
      candidate.connection.reused = true;
      return std::move(candidate.connection);
    }
    boost::system::error_code ignored;
    transport(candidate.connection).close(ignored);
  }
  return std::nullopt;
}

void upstream_pool::give_back(upstream_connection&& conn) {
  auto& list = idle_[conn.key];
  if (list.size() >= max_idle_per_key_ || !transport(conn).is_open()) {
    boost::system::error_code ignored;
    transport(conn).close(ignored);
    return;
  }
  auto ex = transport(conn).get_executor();
  list.push_back(idle{std::move(conn), std::chrono::steady_clock::now()});
  start_sweeper(ex);
}

std::shared_ptr<shared_upstream> upstream_pool::lend_shared(const std::string& key) {
  auto it = shared_.find(key);
  if (it == shared_.end()) {
    return nullptr;
  }
  for (auto& entry : it->second) {
    if (!entry.connection->retired() && entry.connection->has_capacity()) {
      entry.idle_since = std::chrono::steady_clock::now();
      return entry.connection;
    }
  }
  return nullptr;
}

void upstream_pool::add_shared(const std::string& key, std::shared_ptr<shared_upstream> conn,
                               const asio::any_io_executor& ex) {
  shared_[key].push_back(shared_entry{std::move(conn), std::chrono::steady_clock::now()});
  start_sweeper(ex);
}

std::size_t upstream_pool::sweep_shared(std::chrono::steady_clock::time_point now) {
  std::size_t dropped = 0;
  for (auto it = shared_.begin(); it != shared_.end();) {
    auto& list = it->second;
    const auto gone = [&](shared_entry& e) {
      if (!e.connection->idle()) {
        e.idle_since = now;
      }
      const bool expired = e.connection->idle() && now - e.idle_since >= idle_ttl_;
      if (!e.connection->retired() && !expired) {
        return false;
      }
      if (expired) {
        e.connection->close();
      }
      ++dropped;
      return true;
    };
    list.erase(std::remove_if(list.begin(), list.end(), gone), list.end());
    it = list.empty() ? shared_.erase(it) : std::next(it);
  }
  return dropped;
}

std::size_t upstream_pool::sweep() {
  const auto now = std::chrono::steady_clock::now();
  std::size_t closed = sweep_shared(now);
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    const auto expired = [&](idle& i) {
      if (now - i.since < idle_ttl_ && looks_open(i.connection)) {
        return false;
      }
      boost::system::error_code ignored;
      transport(i.connection).close(ignored);
      ++closed;
      return true;
    };
    list.erase(std::remove_if(list.begin(), list.end(), expired), list.end());
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
  return closed;
}

std::size_t upstream_pool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [key, list] : shared_) {
    n += list.size();
  }
  for (const auto& [key, list] : idle_) {
    n += list.size();
  }
  return n;
}

}  // namespace hark::net
