#include "http2_layer.hpp"

#include "h2_upstream.hpp"
#include "http2_stream.hpp"
#include "tls_origin.hpp"
#include "tls_tap.hpp"

#include "hark/core/ids.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace hark::layers {

using namespace boost::asio::experimental::awaitable_operators;

bool negotiated_h2(net::upstream_connection& conn) {
  if (!conn.tls) {
    return false;
  }
  const unsigned char* selected = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(conn.tls->native_handle(), &selected, &length);
  return std::string_view(reinterpret_cast<const char*>(selected), length) == "h2";
}

http2_layer::http2_layer(client_connection& c)
    : c_(c),
      tasks_ended_(c.socket.get_executor()),
      id_(ids::new_ulid()),
      tap_(c.services.sink, id_, capture::h2_leg::client, capture::to_net_address(c.info.client)),
      pump_(c.socket.get_executor()) {}

http2_layer::~http2_layer() = default;

asio::awaitable<void> http2_layer::run(connection_facts& facts) {
  facts.last = step::ended;
  if (c_.origin) {
    adopt_eager_upstream();
  }
  h2::settings s;
  s.enable_connect_protocol = co_await relays_extended_connect();
  // Before any stream can be answered, as the first HTTP/1 response does (settle_process): an
  // h2 client that sends one request and exits is still alive until then. After a TLS
  // handshake the lookup has long answered, and this is one check of its future.
  co_await c_.settle_process();
  session_.emplace(h2::role::server, s);
  std::optional<std::string> unexpected;
  try {
    co_await (read_loop() && write_loop());
  } catch (const std::exception& e) {
    unexpected = e.what();  // co_await is not allowed inside a handler
  }
  if (unexpected) {
    // STYLE.md 2: caught once; every exchange in flight is recorded as failed.
    spdlog::error("connection {}: HTTP/2: {}", c_.info.id, *unexpected);
    for (auto& [id, stream] : streams_) {
      stream->fail_unexpected("hark: internal error: " + *unexpected);
    }
    for (auto& push : unforwarded_pushes_) {
      push->fail_unexpected("hark: internal error: " + *unexpected);
    }
  }
  co_await end_streams();
  tap_.flush();
}

void http2_layer::adopt_eager_upstream() {
  upstream_key_ = c_.origin->pool_key();
  auto* conn = c_.origin->connection();
  if (conn != nullptr && !c_.origin->shares() && negotiated_h2(*conn)) {
    share_upstream(c_.origin->take_connection());
  }
}

asio::awaitable<bool> http2_layer::relays_extended_connect() {
  // RFC 8441 §3: Hark may advertise SETTINGS_ENABLE_CONNECT_PROTOCOL only when it can carry an
  // extended CONNECT on — to an HTTP/2 origin that advertises it (an HTTP/1.1 origin would need
  // a translation to an Upgrade, which Hark does not do). The eager connection was made before
  // the client's handshake, so its SETTINGS are usually there already.
  constexpr auto settings_wait = std::chrono::seconds(2);
  auto up = shared_upstream();
  if (!up) {
    co_return false;
  }
  co_await up->wait_settings(settings_wait);
  co_return up->accepts_extended_connect();
}

std::shared_ptr<h2_upstream> http2_layer::share_upstream(net::upstream_connection&& conn) {
  // Shared from now on: it outlives this client connection, so it stops logging into it.
  detach_tap(conn.tls->native_handle());
  auto up =
      std::make_shared<h2_upstream>(std::move(conn), h2_upstream::settings(), c_.services.sink);
  h2_upstream::start(up);
  c_.worker.pool.add_shared(upstream_key_, up, c_.socket.get_executor());
  return up;
}

std::shared_ptr<h2_upstream> http2_layer::shared_upstream() {
  if (upstream_key_.empty()) {
    return nullptr;
  }
  return std::dynamic_pointer_cast<h2_upstream>(c_.worker.pool.lend_shared(upstream_key_));
}

void http2_layer::task_ended() noexcept {
  --tasks_;
  tasks_ended_.cancel();
  wake();
}

asio::awaitable<void> http2_layer::read_loop() {
  // h2c prior knowledge: the preface's first bytes were read while the tunnel was classified.
  if (!c_.buf.empty()) {
    h2_pump::receive(*session_, tap_, c_.buf.data());
    c_.buf.clear();
    dispatch();
  }
  const auto idle_timeout = c_.services.cfg.idle_timeout;
  std::string buf(64 * 1024, '\0');
  while (session_->want_read()) {
    if (streams_.empty()) {
      c_.dog.arm(idle_timeout, c_.socket);  // an idle connection ends like an HTTP/1 one
    } else {
      c_.dog.disarm();
    }
    auto [ec, n] = co_await c_.io().read_some(asio::buffer(buf));
    c_.dog.disarm();
    if (ec) {
      break;
    }
    const auto r = h2_pump::receive(*session_, tap_, std::string_view(buf.data(), n));
    dispatch();
    wake();
    if (!r.ok) {
      spdlog::info("connection {}: HTTP/2 from the client: {}", c_.info.id, r.reason);
      break;
    }
  }
  pump_.reading_done();
}

asio::awaitable<void> http2_layer::write_loop() {
  co_await pump_.write_loop(
      *session_, tap_, c_.io(), [this] { dispatch(); }, [this] { on_written(); });
}

void http2_layer::on_written() {
  for (auto& [id, stream] : streams_) {
    stream->on_client_writable();
  }
}

void http2_layer::dispatch() {
  auto& events = session_->events();
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::visit(
        [&](auto& e) {
          using event = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<event, h2::headers_event>) {
            on_headers(e);
          } else if constexpr (std::is_same_v<event, h2::data_event>) {
            if (auto it = streams_.find(e.stream_id); it != streams_.end()) {
              it->second->on_client_data(e);
            } else {
              session_->consume(e.stream_id, e.bytes.size());
            }
          } else if constexpr (std::is_same_v<event, h2::stream_closed_event>) {
            on_closed(e.stream_id, e.error_code);
          }
        },
        events[i]);
  }
  session_->clear_events();
  collect_finished();
}

void http2_layer::on_headers(h2::headers_event& e) {
  if (e.kind == h2::head_kind::trailers) {
    if (auto it = streams_.find(e.stream_id); it != streams_.end()) {
      it->second->on_client_trailers(e);
    }
    return;
  }
  if (e.kind != h2::head_kind::request) {
    return;
  }
  std::string error;
  auto request = parse_h2_request(e.fields, error);
  if (!request || !c_.tunnel) {
    spdlog::debug("connection {}: HTTP/2 stream {}: {}", c_.info.id, e.stream_id, error);
    session_->submit_rst(e.stream_id, NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  const auto t = target_for(*request);
  auto stream = std::make_unique<http2_stream>(*this, e.stream_id, t, std::move(*request),
                                               std::move(e.fields), e.end_stream);
  auto* s = stream.get();
  streams_.emplace(e.stream_id, std::move(stream));
  s->start();
}

exchange_target http2_layer::target_for(const h2_request& r) const {
  exchange_target t;
  const bool websocket = r.method == "CONNECT" && r.protocol == "websocket";
  t.scheme = websocket ? (c_.tls ? "wss" : "ws") : (c_.tls ? "https" : "http");
  t.host = c_.tunnel->host;
  t.port = c_.tunnel->port;
  t.origin_form = r.path;
  t.url = origin_of(t.scheme, t.host, t.port) + r.path;
  return t;
}

void http2_layer::on_push(std::int32_t parent, const std::shared_ptr<h2_upstream>& up,
                          h2::headers_event& e) {
  std::string error;
  auto request = parse_h2_request(e.fields, error);
  if (!request || !c_.tunnel) {
    spdlog::debug("connection {}: HTTP/2 push on stream {}: {}", c_.info.id, parent, error);
    up->reset(e.promised_stream_id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  const auto t = target_for(*request);
  // 0 when the client's SETTINGS_ENABLE_PUSH is 0 (or its stream is gone): recorded only.
  const std::int32_t promised =
      session_->submit_push_promise(parent, h2_forwarded_fields(e.fields));
  auto stream =
      std::make_unique<http2_stream>(*this, promised, t, std::move(*request), std::move(e.fields),
                                     /*end_stream=*/true);
  stream->adopt_push(up, e.promised_stream_id);
  if (promised > 0) {
    streams_.emplace(promised, std::move(stream));
  } else {
    unforwarded_pushes_.push_back(std::move(stream));
  }
  wake();
}

void http2_layer::on_closed(std::int32_t id, std::uint32_t code) {
  if (auto it = streams_.find(id); it != streams_.end()) {
    it->second->on_client_closed(code);
  }
}

void http2_layer::collect_finished() {
  std::erase_if(unforwarded_pushes_, [](const auto& push) { return push->finished(); });
  const auto n =
      std::erase_if(streams_, [](const auto& entry) { return entry.second->finished(); });
  if (n > 0 && streams_.empty()) {
    tap_.publish();  // an idle connection's frames become visible now
  }
}

asio::awaitable<void> http2_layer::end_streams() {
  for (auto& [id, stream] : streams_) {
    stream->on_client_closed(NGHTTP2_CANCEL);  // the connection is gone
  }
  for (auto& push : unforwarded_pushes_) {
    push->on_client_closed(NGHTTP2_CANCEL);
  }
  while (tasks_ > 0) {
    tasks_ended_.expires_at(asio::steady_timer::time_point::max());
    co_await tasks_ended_.async_wait(use_nothrow);
  }
  streams_.clear();
  unforwarded_pushes_.clear();
}

}  // namespace hark::layers
