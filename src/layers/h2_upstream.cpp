#include "h2_upstream.hpp"

#include "hark/core/ids.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace hark::layers {

using namespace boost::asio::experimental::awaitable_operators;

h2::settings h2_upstream::settings() {
  h2::settings s;
  s.enable_push = true;
  return s;
}

h2_upstream::h2_upstream(net::upstream_connection&& conn, const h2::settings& s,
                         capture::flow_sink& sink)
    : conn_(std::move(conn)),
      session_(h2::role::client, s),
      id_(ids::new_ulid()),
      tap_(sink, id_, capture::h2_leg::upstream),
      pump_(conn_.io().socket().get_executor()),
      settings_wait_(conn_.io().socket().get_executor()) {
  settings_wait_.expires_at(asio::steady_timer::time_point::max());
}

h2_upstream::~h2_upstream() = default;

void h2_upstream::start(const std::shared_ptr<h2_upstream>& self) {
  asio::co_spawn(self->conn_.io().socket().get_executor(), run(self), asio::detached);
}

asio::awaitable<void> h2_upstream::run(std::shared_ptr<h2_upstream> self) {
  try {
    co_await (self->read_loop() && self->write_loop());
  } catch (const std::exception& e) {
    spdlog::error("upstream HTTP/2 connection {} to {}: {}", self->id_, self->conn_.key, e.what());
  }
  self->retired_ = true;
  self->settings_wait_.cancel();
  self->fail_all(NGHTTP2_CANCEL);
  self->tap_.flush();
  boost::system::error_code ignored;
  self->conn_.io().socket().close(ignored);
}

asio::awaitable<void> h2_upstream::read_loop() {
  std::string buf(64 * 1024, '\0');
  for (;;) {
    auto [ec, n] = co_await conn_.io().read_some(asio::buffer(buf));
    if (ec) {
      break;
    }
    const auto r = h2_pump::receive(session_, tap_, std::string_view(buf.data(), n));
    dispatch();
    wake();
    if (!r.ok) {
      spdlog::info("upstream HTTP/2 connection {} to {}: {}", id_, conn_.key, r.reason);
      break;
    }
    if (!session_.want_read()) {
      break;
    }
  }
  retired_ = true;
  pump_.reading_done();
}

asio::awaitable<void> h2_upstream::write_loop() {
  co_await pump_.write_loop(
      session_, tap_, conn_.io(), [this] { dispatch(); }, [this] { notify_writable(); });
}

asio::awaitable<void> h2_upstream::wait_settings(std::chrono::steady_clock::duration limit) {
  if (settings_received_ || retired_) {
    co_return;
  }
  // Each waiter has its own limit; the arrival (or the end) cancels every wait at once.
  asio::steady_timer limit_reached(settings_wait_.get_executor());
  limit_reached.expires_after(limit);
  co_await (settings_wait_.async_wait(use_nothrow) || limit_reached.async_wait(use_nothrow));
}

void h2_upstream::notify_writable() {
  // A handler may detach itself meanwhile: ids first, then each one looked up again.
  writable_.clear();
  for (const auto& [id, h] : handlers_) {
    writable_.push_back(id);
  }
  for (auto id : writable_) {
    if (auto it = handlers_.find(id); it != handlers_.end()) {
      it->second->on_upstream_writable();
    }
  }
}

void h2_upstream::dispatch() {
  auto& events = session_.events();
  // Handlers may submit (which may append events): index, not iterators.
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::visit(
        [&](auto& e) {
          using event = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<event, h2::headers_event>) {
            if (auto it = handlers_.find(e.stream_id); it != handlers_.end()) {
              it->second->on_upstream_headers(e);
            }
            if (e.kind == h2::head_kind::push_promise &&
                !handlers_.contains(e.promised_stream_id)) {
              session_.submit_rst(e.promised_stream_id, NGHTTP2_CANCEL);  // nobody takes it
            }
          } else if constexpr (std::is_same_v<event, h2::data_event>) {
            if (auto it = handlers_.find(e.stream_id); it != handlers_.end()) {
              it->second->on_upstream_data(e);
            } else {
              session_.consume(e.stream_id, e.bytes.size());  // nobody wants them any more
            }
          } else if constexpr (std::is_same_v<event, h2::reset_event>) {
            on_closed(e.stream_id, e.error_code, true);
          } else if constexpr (std::is_same_v<event, h2::stream_closed_event>) {
            on_closed(e.stream_id, e.error_code, false);
          } else if constexpr (std::is_same_v<event, h2::goaway_event>) {
            on_goaway(e);
          } else if constexpr (std::is_same_v<event, h2::settings_event>) {
            settings_received_ = true;
            settings_wait_.cancel();
          }
        },
        events[i]);
  }
  session_.clear_events();
}

void h2_upstream::on_closed(std::int32_t id, std::uint32_t code, bool by_peer) {
  auto it = handlers_.find(id);
  if (it == handlers_.end()) {
    return;
  }
  auto* h = it->second;
  handlers_.erase(it);
  h->on_upstream_closed(code, by_peer);
  if (handlers_.empty()) {
    tap_.publish();  // an idle shared connection's frames become visible now
  }
}

void h2_upstream::on_goaway(const h2::goaway_event& e) {
  retired_ = true;
  // Streams the origin did not process will never be answered on this connection.
  std::vector<std::int32_t> refused;
  for (const auto& [id, h] : handlers_) {
    // last_stream_id counts Hark's streams (odd); pushed ones (even) go on (RFC 9113 §6.8).
    if (id % 2 == 1 && id > e.last_stream_id) {
      refused.push_back(id);
    }
  }
  for (auto id : refused) {
    on_closed(id, NGHTTP2_REFUSED_STREAM, true);
  }
}

void h2_upstream::fail_all(std::uint32_t code) {
  while (!handlers_.empty()) {
    on_closed(handlers_.begin()->first, code, false);
  }
}

std::int32_t h2_upstream::open_stream(const capture::header_list& fields, bool end_stream,
                                      handler* h) {
  if (retired_) {
    return -1;
  }
  const auto id = session_.submit_request(fields, end_stream);
  if (id > 0) {
    handlers_[id] = h;
    wake();
  }
  return id;
}

bool h2_upstream::send_data(std::int32_t id, std::string_view bytes, bool end_stream) {
  const bool ok = session_.submit_data(id, bytes, end_stream);
  wake();
  return ok;
}

bool h2_upstream::send_trailers(std::int32_t id, const capture::header_list& fields) {
  const bool ok = session_.submit_trailers(id, fields);
  wake();
  return ok;
}

void h2_upstream::reset(std::int32_t id, std::uint32_t code) {
  session_.submit_rst(id, code);
  wake();
}

void h2_upstream::consume(std::int32_t id, std::size_t n) {
  session_.consume(id, n);
  wake();
}

void h2_upstream::detach(std::int32_t id) {
  if (handlers_.erase(id) > 0) {
    session_.submit_rst(id, NGHTTP2_CANCEL);
    wake();
  }
}

bool h2_upstream::has_capacity() const {
  const auto limit = std::min<std::uint32_t>(
      session_.remote_setting(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 256);
  return !retired_ && session_.open_streams() < limit;
}

void h2_upstream::close() {
  retired_ = true;
  session_.submit_goaway(0);
  wake();
}

}  // namespace hark::layers
