// One HTTP/1.x exchange: request head → upstream (pooled or new) → request body and response
// relayed as they arrive, bytes forwarded verbatim after the heads, capture on the side.

#include "client_session.hpp"
#include "websocket_relay.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include "hark/net/splice.hpp"

#include <array>

namespace hark::layers {

using namespace boost::asio::experimental::awaitable_operators;
namespace beast_http = boost::beast::http;

namespace {

using steady = std::chrono::steady_clock;

/** Bodies shorter than this are never spliced: a pipe costs two descriptors and syscalls. */
constexpr std::uint64_t splice_min_body = 1 << 20;

double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

/** Writes `prefix` then `bytes` with one gather write. */
asio::awaitable<boost::system::error_code> write_two(net::duplex to, std::string_view prefix,
                                                     std::string_view bytes) {
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(prefix), asio::buffer(bytes)};
  auto [ec, n] = co_await to.write(buffers);
  co_return ec;
}

/** Moves one message body from `from` to `to`: parses what is buffered, hands the decoded body
 *  pieces to `on_body`, writes the raw consumed bytes (after `prefix`, sent with the first
 *  write), reads more until the parser is done. */
template <bool IsRequest, class OnBody, class HandOff>
asio::awaitable<pump_status> pump_body(net::duplex from, net::byte_buffer& buf,
                                       http1::message_parser<IsRequest>& p, net::duplex to,
                                       std::string_view prefix, net::watchdog* dog, OnBody on_body,
                                       HandOff hand_off) {
  for (;;) {
    if (!buf.empty() && !p.is_done()) {
      boost::system::error_code ec;
      const auto n = p.put(buf.data(), ec);
      if (ec && ec != beast_http::error::need_more) {
        co_return pump_status::protocol_error;
      }
      for (auto piece : p.body_pieces()) {
        on_body(piece);
      }
      if (n > 0 || !prefix.empty()) {
        if (co_await write_two(to, prefix, buf.data().substr(0, n))) {
          co_return pump_status::sink_error;
        }
        prefix = {};
        buf.consume(n);
      }
    }
    if (p.is_done()) {
      break;
    }
    if (prefix.empty() && buf.empty() && hand_off()) {
      co_return pump_status::handed_off;  // everything read so far is written
    }
    auto* space = buf.prepare(64 * 1024);
    auto [ec, n] = co_await from.read_some(asio::buffer(space, buf.free_space()));
    if (ec == asio::error::eof && p.need_eof()) {
      boost::system::error_code eof_ec;
      p.put_eof(eof_ec);
      break;
    }
    if (ec) {
      if (dog != nullptr && dog->fired()) {
        co_return pump_status::timeout;
      }
      co_return ec == asio::error::eof ? pump_status::source_closed : pump_status::source_error;
    }
    buf.commit(n);
  }
  if (!prefix.empty() && co_await write_two(to, prefix, {})) {
    co_return pump_status::sink_error;
  }
  co_return pump_status::done;
}

proxy_metrics::protocol protocol_of(const capture::flow& f) {
  return f.scheme == "https" || f.scheme == "wss" ? proxy_metrics::https1 : proxy_metrics::http1;
}

capture::flow_error make_error(errc code, std::string message) {
  return capture::flow_error{std::string(to_string(code)), std::move(message)};
}

}  // namespace

asio::awaitable<bool> client_session::fail_exchange(capture::flow& f, http1::request_parser& p,
                                                    errc code, const std::string& message) {
  const int status = code == errc::upstream_timeout ? 504 : 502;
  const bool close = !p.is_done() || !p.keep_alive();
  const auto r = http1::make_synthetic(status, status == 504 ? "Gateway Timeout" : "Bad Gateway",
                                       code, message + "\n", close);
  const bool written = co_await write_client(r.wire);
  services_.metrics.count_request(protocol_of(f), status, true);
  services_.sink.on_flow_end(f, capture::flow_outcome{make_error(code, message)});
  co_return written && !close;
}

asio::awaitable<pump_status> client_session::pump_request_body(capture::flow& f,
                                                               http1::request_parser& p,
                                                               net::duplex upstream) {
  auto& sink = services_.sink;
  const auto status = co_await pump_body(
      client_io(), client_buf_, p, upstream, {}, nullptr,
      [&](std::string_view b) { sink.on_request_body(f, b); }, [] { return false; });
  if (status == pump_status::done) {
    sink.on_request_end(f, p.trailers());
  }
  co_return status;
}

asio::awaitable<response_outcome> client_session::relay_response(capture::flow& f,
                                                                 net::upstream_connection& up,
                                                                 http1::request_parser& req) {
  response_outcome out;
  const auto& cfg = services_.cfg;
  const auto sent_at = steady::now();
  const bool head_request = http1::iequals(req.head().method, "HEAD");
  std::optional<http1::response_parser> rp;
  std::uint64_t received = 0;
  // Read heads until the final one; 1xx interim responses are forwarded verbatim (RFC 9110 §15.2).
  for (;;) {
    rp.emplace();
    if (head_request) {
      rp->skip_body();
    }
    dog_.reset_fired();
    dog_.arm(cfg.upstream_timeout, up.io().socket());
    // The parser takes the status line and each complete field line as they arrive; they stay
    // in the buffer (before `parsed`) until the head is complete, so an interim head can be
    // forwarded whole.
    std::size_t parsed = 0;
    while (!rp->head_done()) {
      if (upstream_buf_.size() > parsed) {
        boost::system::error_code ec;
        parsed += rp->put(upstream_buf_.data().substr(parsed), ec);
        if (rp->head_done()) {
          if (rp->head().status >= 100 && rp->head().status < 200 && rp->head().status != 101) {
            if (!co_await write_client(upstream_buf_.data().substr(0, parsed))) {
              out.error = make_error(errc::client_reset, "hark: client closed the connection");
              co_return out;
            }
          }
          upstream_buf_.consume(parsed);
          break;
        }
        if (ec && ec != beast_http::error::need_more) {
          dog_.disarm();
          out.error = make_error(errc::upstream_protocol,
                                 "hark: invalid response from " + up.key + ": " + ec.message());
          co_return out;
        }
      }
      auto* space = upstream_buf_.prepare(16 * 1024);
      auto [ec, n] = co_await up.io().read_some(asio::buffer(space, upstream_buf_.free_space()));
      if (ec) {
        dog_.disarm();
        if (dog_.fired()) {
          out.error = make_error(errc::upstream_timeout,
                                 "hark: " + up.key + " did not answer within " +
                                     std::to_string(cfg.upstream_timeout.count()) + " s");
        } else {
          out.retryable = up.reused && received == 0;
          out.error = make_error(errc::upstream_reset,
                                 "hark: " + up.key + " closed the connection: " + ec.message());
        }
        co_return out;
      }
      received += n;
      upstream_buf_.commit(n);
    }
    dog_.disarm();
    const int status = rp->head().status;
    if (status >= 200 || status == 101) {
      break;
    }
  }
  const auto head_at = steady::now();
  f.timings.wait = ms_between(sent_at, head_at);
  auto& head = rp->head();
  out.status = head.status;
  services_.sink.on_response_head(f, head);

  const bool upgraded = head.status == 101 && req.upgrade();
  const bool close_client = !upgraded && (!req.keep_alive() || rp->need_eof());
  const auto directive = close_client               ? http1::connection_directive::close
                         : req.head().version == 10 ? http1::connection_directive::keep_alive
                                                    : http1::connection_directive::none;
  head_out_.clear();
  http1::write_response_head(head_out_, head, upgraded, directive);
  if (upgraded) {
    f.is_websocket = http1::iequals(http1::field_value(req.head().fields, "upgrade"), "websocket");
    out.ws_deflate = ws::negotiated_deflate(head.fields);
    const bool ok = co_await write_client(head_out_);
    services_.sink.on_response_end(f, {});
    out.upgraded = ok;
    co_return out;
  }
  auto& sink = services_.sink;
  // A long content-length body that capture has seen enough of (past the capture cap, or not
  // recording) goes on with splice(2): the kernel moves it, the proxy does not copy it.
  const auto length = rp->content_length();
  const bool can_splice =
      length && *length >= splice_min_body && !up.io().is_tls() && !client_io().is_tls();
  auto status = co_await pump_body(
      up.io(), upstream_buf_, *rp, client_io(), head_out_, &dog_,
      [&](std::string_view b) { sink.on_response_body(f, b); },
      [&] { return can_splice && !sink.wants_response_body(f); });
  if (status == pump_status::handed_off) {
    const auto rest = *length - rp->body_bytes();
    auto [ec, moved] = co_await net::splice_bytes(up.socket, client_, rest);
    sink.on_response_body_skipped(f, moved);
    services_.metrics.response_body_bytes.fetch_add(moved, std::memory_order_relaxed);
    status = !ec                      ? pump_status::spliced
             : ec == asio::error::eof ? pump_status::source_closed
                                      : pump_status::sink_error;
  }
  f.timings.receive = ms_between(head_at, steady::now());
  services_.metrics.response_body_bytes.fetch_add(rp->body_bytes(), std::memory_order_relaxed);
  switch (status) {
    case pump_status::done:
    case pump_status::spliced:
      sink.on_response_end(f, rp->trailers());
      out.keep_client = !close_client;
      // After a splice the parser did not see the end of the body: the upstream connection is
      // in a clean state (exactly the body was read) but is not reused, to stay simple.
      out.reuse_upstream = status == pump_status::done && rp->keep_alive() && !rp->need_eof() &&
                           upstream_buf_.empty();
      break;
    case pump_status::sink_error:
      out.error = make_error(errc::client_reset, "hark: client closed the connection");
      break;
    case pump_status::protocol_error:
      out.error = make_error(errc::upstream_protocol, "hark: invalid response body from " + up.key);
      break;
    default:
      out.error = make_error(errc::upstream_reset,
                             "hark: " + up.key + " closed the connection mid-response");
      break;
  }
  co_return out;
}

asio::awaitable<bool> client_session::exchange(http1::request_parser& p, const exchange_target& t) {
  auto& sink = services_.sink;
  capture::flow f;
  f.connection = &info_;
  f.scheme = t.scheme;
  f.host = t.host;
  f.port = t.port;
  f.url = t.url;
  if (p.upgrade() && is_websocket_upgrade(p.head().fields)) {
    use_websocket_scheme(f);  // ws:// or wss://, as the client used it
  }
  f.tls = tls_info_;
  f.timings.started_at = std::chrono::system_clock::now();
  f.started = steady::now();
  sink.on_request_head(f, p.head());

  const bool upgrading = p.upgrade();
  head_out_.clear();
  http1::write_request_head(head_out_, p.head(), t.origin_form, upgrading);
  const auto key = net::upstream_key(t.host, t.port);

  response_outcome out;
  std::optional<net::upstream_connection> up;
  if (!p.has_body()) {
    // A bodiless request is complete with its head: tell capture once, not once per attempt.
    sink.on_request_end(f, p.trailers());
  }
  // A bodiless request that fails on a reused connection before any response byte is sent
  // again on a new one: the peer closed an idle keep-alive connection (RFC 9112 §9.3.1).
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto blocked_at = steady::now();
    if (client_tls_) {
      // An intercepted connection has its own upstream, made eagerly (tls_intercept.cpp).
      if (tls_upstream_ && tls_upstream_->tls && tls_upstream_->tls->next_layer().is_open()) {
        up = std::move(tls_upstream_);
      } else if (!tls_upstream_error_) {
        up = co_await connect_tls_upstream();
      }
      f.timings.dns = std::exchange(tls_upstream_dns_ms_, std::nullopt);
      f.timings.connect = std::exchange(tls_upstream_connect_ms_, std::nullopt);
      f.timings.ssl = std::exchange(tls_upstream_ssl_ms_, std::nullopt);
      tls_upstream_.reset();
      if (!up) {
        const auto& e = *tls_upstream_error_;
        const auto code = errc_from_string(e.code).value_or(errc::connect_failed);
        const auto message = e.message;
        if (code != errc::upstream_cert_invalid) {
          tls_upstream_error_.reset();  // transient: the next request tries again
        }
        co_return co_await fail_exchange(f, p, code, message);
      }
    } else {
      up = worker_.pool.take(key);
    }
    f.timings.blocked = ms_between(blocked_at, steady::now());
    if (!up) {
      auto connected =
          co_await net::connect_upstream(t.host, t.port, services_.cfg.connect_timeout, dog_);
      f.timings.dns = connected.dns_ms;
      f.timings.connect = connected.connect_ms;
      if (!connected.connection) {
        co_return co_await fail_exchange(f, p, connected.error, connected.message);
      }
      up = std::move(connected.connection);
    }
    f.remote_addr = capture::to_net_address(up->remote);
    f.upstream_http_version = capture::http_version_string(p.head().version);
    upstream_buf_.clear();

    const auto send_at = steady::now();
    if (!p.has_body()) {
      const auto ec = co_await write_two(up->io(), head_out_, {});
      f.timings.send = ms_between(send_at, steady::now());
      if (ec) {
        out.retryable = up->reused;
        out.error = make_error(errc::upstream_reset, "hark: " + key + " closed the connection");
      } else {
        out = co_await relay_response(f, *up, p);
      }
      if (out.retryable && attempt == 0) {
        up.reset();
        out = {};
        continue;
      }
    } else {
      if (co_await write_two(up->io(), head_out_, {})) {
        co_return co_await fail_exchange(f, p, errc::upstream_reset,
                                         "hark: " + key + " closed the connection");
      }
      auto [request_status, response] =
          co_await (pump_request_body(f, p, up->io()) && relay_response(f, *up, p));
      f.timings.send = ms_between(send_at, steady::now()) - f.timings.wait.value_or(0) -
                       f.timings.receive.value_or(0);
      if (*f.timings.send < 0) {
        f.timings.send = 0.0;
      }
      out = std::move(response);
      if (request_status != pump_status::done) {
        out.keep_client = false;
        out.reuse_upstream = false;
        if (!out.error && request_status != pump_status::sink_error) {
          out.error = make_error(errc::client_reset, "hark: client closed the connection");
        }
      }
    }
    break;
  }

  services_.metrics.request_body_bytes.fetch_add(p.body_bytes(), std::memory_order_relaxed);
  if (out.upgraded) {
    services_.metrics.count_request(protocol_of(f), out.status, false);
    sink.on_flow_end(f, {});
    if (f.is_websocket) {
      co_await relay_websocket(client_io(), client_buf_, up->io(), upstream_buf_, sink, f,
                               out.ws_deflate, services_.cfg.max_body_capture);
    } else {
      co_await relay_raw(std::move(*up));
    }
    co_return false;
  }
  if (out.error && !f.timings.wait) {
    // Nothing was sent to the client yet: it gets the synthetic response (SPEC §2).
    const auto code = errc_from_string(out.error->code).value_or(errc::upstream_reset);
    co_return co_await fail_exchange(f, p, code, out.error->message);
  }
  if (out.reuse_upstream) {
    if (client_tls_) {
      up->reused = true;
      tls_upstream_ = std::move(up);
    } else {
      worker_.pool.give_back(std::move(*up));
    }
  }
  services_.metrics.count_request(protocol_of(f), out.status, out.error.has_value());
  sink.on_flow_end(f, capture::flow_outcome{out.error});
  co_return out.keep_client && !out.error;
}

}  // namespace hark::layers
