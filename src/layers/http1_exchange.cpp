#include "http1_exchange.hpp"

#include "http1_body.hpp"
#include "tls_origin.hpp"

#include "hark/layers/http1_codec.hpp"
#include "hark/net/splice.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace hark::layers {

using namespace boost::asio::experimental::awaitable_operators;
namespace beast_http = boost::beast::http;

namespace {

/** Bodies shorter than this are never spliced: a pipe costs two descriptors and syscalls. */
constexpr std::uint64_t splice_min_body = 1 << 20;

struct response_outcome {
  bool keep_client = false;  ///< the client connection may carry another request
  bool reuse_upstream = false;
  bool retryable = false;  ///< failed before any response byte on a reused connection
  bool upgraded = false;   ///< 101: both sockets now belong to the upgraded protocol
  std::optional<capture::flow_error> error;
};

proxy_metrics::protocol protocol_of(const exchange_target& t) {
  return t.scheme == "https" || t.scheme == "wss" ? proxy_metrics::https1 : proxy_metrics::http1;
}

std::string seconds_text(std::chrono::seconds s) {
  return std::to_string(s.count()) + " s";
}

class http1_exchange {
 public:
  http1_exchange(client_connection& c, http1::request_parser& p, const exchange_target& t)
      : c_(c),
        req_(p),
        ex_(c, t, protocol_of(t)),
        key_(net::upstream_key(t.host, t.port)),
        client_deadline_(c.dog),
        upstream_deadline_(c.dog) {}

  asio::awaitable<http1_next> run();
  /** Records an exception that escaped run(), answering 502 if nothing was sent yet. */
  asio::awaitable<http1_next> fail_unexpected(const std::string& what);

 private:
  asio::awaitable<http1_next> fail(errc code, const std::string& message);
  asio::awaitable<response_outcome> attempt();
  asio::awaitable<response_outcome> send_with_body();
  asio::awaitable<pump_status> pump_request_body();
  asio::awaitable<response_outcome> relay_response();
  asio::awaitable<bool> read_final_head(http1::response_parser& rp, response_outcome& out);
  asio::awaitable<pump_status> relay_response_body(http1::response_parser& rp);
  void conclude_response(pump_status status, http1::response_parser& rp, bool close_client,
                         response_outcome& out);
  asio::awaitable<http1_next> finish(response_outcome& out);

  client_connection& c_;
  http1::request_parser& req_;
  exchange ex_;
  std::string key_;
  net::watchdog::deadline client_deadline_;    ///< reading the client (request body)
  net::watchdog::deadline upstream_deadline_;  ///< connecting and reading the upstream
  std::optional<net::upstream_connection> up_;
  std::string head_out_;
  std::uint64_t received_ = 0;  ///< upstream bytes read by this exchange
};

asio::awaitable<http1_next> http1_exchange::fail(errc code, const std::string& message) {
  const auto a = answer_for(code, message);
  const bool close = !req_.is_done() || !req_.keep_alive();
  const auto r = http1::make_synthetic(a.status, a.reason, a.code, a.body, close);
  const bool written = co_await c_.write(r.wire);
  ex_.finish(make_error(code, message));
  co_return written && !close ? http1_next::keep_alive : http1_next::close;
}

asio::awaitable<http1_next> http1_exchange::fail_unexpected(const std::string& what) {
  spdlog::error("connection {}: exchange for {} failed: {}", c_.info.id, ex_.flow().url, what);
  const std::string message = "hark: internal error: " + what;
  if (!ex_.response_started() && !ex_.finished()) {
    const auto a = answer_for(errc::internal_error, message);
    co_await c_.write(http1::make_synthetic(a.status, a.reason, a.code, a.body, true).wire);
  }
  ex_.finish(make_error(errc::internal_error, message));
  co_return http1_next::close;
}

asio::awaitable<http1_next> http1_exchange::run() {
  ex_.request_head(req_.head());
  head_out_.clear();
  http1::write_request_head(head_out_, req_.head(), ex_.target().origin_form, req_.upgrade());
  if (!req_.has_body()) {
    // A bodiless request is complete with its head: tell capture once, not once per attempt.
    ex_.request_end(req_.trailers());
  }
  response_outcome out;
  // A bodiless request that fails on a reused connection before any response byte is sent
  // again on a new one: the peer closed an idle keep-alive connection (RFC 9112 §9.3.1).
  for (int attempt_no = 0; attempt_no < 2; ++attempt_no) {
    const auto asked_at = exchange::steady::now();
    auto acquired = co_await acquire_upstream(c_, ex_.target(), upstream_deadline_);
    ex_.upstream_acquired(acquired, asked_at, capture::http_version_string(req_.head().version));
    if (!acquired.connection) {
      const auto& e = *acquired.error;
      co_return co_await fail(errc_from_string(e.code).value_or(errc::connect_failed), e.message);
    }
    up_ = std::move(acquired.connection);
    c_.upstream_buf.clear();
    // (An if, not ?: — GCC 12 mishandles co_await inside a conditional expression.)
    if (req_.has_body()) {
      out = co_await send_with_body();
    } else {
      out = co_await attempt();
    }
    if (!(out.retryable && attempt_no == 0 && !req_.has_body())) {
      break;
    }
    up_.reset();
  }
  c_.services.metrics.request_body_bytes.fetch_add(req_.body_bytes(), std::memory_order_relaxed);
  co_return co_await finish(out);
}

asio::awaitable<response_outcome> http1_exchange::attempt() {
  ex_.request_sending();
  auto [ec, n] = co_await up_->io().write(asio::buffer(head_out_));
  ex_.request_sent();
  if (ec) {
    response_outcome out;
    out.retryable = up_->reused;
    out.error = make_error(errc::upstream_reset, "hark: " + key_ + " closed the connection");
    co_return out;
  }
  co_return co_await relay_response();
}

asio::awaitable<response_outcome> http1_exchange::send_with_body() {
  ex_.request_sending();
  if (auto [ec, n] = co_await up_->io().write(asio::buffer(head_out_)); ec) {
    response_outcome out;
    out.error = make_error(errc::upstream_reset, "hark: " + key_ + " closed the connection");
    co_return out;
  }
  auto [request_status, out] = co_await (pump_request_body() && relay_response());
  ex_.request_done_at(exchange::steady::now());
  if (request_status != pump_status::done) {
    out.keep_client = false;
    out.reuse_upstream = false;
    if (request_status == pump_status::timeout) {
      out.error =
          make_error(errc::client_timeout, "hark: the client sent no request body data for " +
                                               seconds_text(c_.services.cfg.idle_timeout));
    } else if (!out.error && request_status != pump_status::sink_error) {
      out.error = make_error(errc::client_reset, "hark: client closed the connection");
    }
  }
  co_return out;
}

asio::awaitable<pump_status> http1_exchange::pump_request_body() {
  const auto status = co_await pump_body(
      c_.io(), c_.buf, req_, up_->io(), {},
      body_deadline{&client_deadline_, c_.services.cfg.idle_timeout},
      [&](std::string_view b) { ex_.request_body(b); }, [] { return false; });
  if (status == pump_status::done) {
    ex_.request_end(req_.trailers());
  } else if (status == pump_status::timeout) {
    // A stalled upload ends the exchange on both sides (SPEC §2).
    boost::system::error_code ignored;
    up_->io().socket().close(ignored);
  }
  co_return status;
}

asio::awaitable<bool> http1_exchange::read_final_head(http1::response_parser& rp,
                                                      response_outcome& out) {
  const auto& cfg = c_.services.cfg;
  auto& buf = c_.upstream_buf;
  upstream_deadline_.reset_fired();
  upstream_deadline_.arm(cfg.upstream_timeout, up_->io().socket());
  // The parser takes the status line and each complete field line as they arrive; they stay in
  // the buffer (before `parsed`) until the head is complete, so an interim head can be
  // forwarded whole.
  std::size_t parsed = 0;
  while (!rp.head_done()) {
    if (buf.size() > parsed) {
      boost::system::error_code ec;
      parsed += rp.put(buf.data().substr(parsed), ec);
      if (rp.head_done()) {
        break;
      }
      if (ec && ec != beast_http::error::need_more) {
        upstream_deadline_.disarm();
        out.error = make_error(errc::upstream_protocol,
                               "hark: invalid response from " + key_ + ": " + ec.message());
        co_return false;
      }
    }
    auto* space = buf.prepare(16 * 1024);
    auto [ec, n] = co_await up_->io().read_some(asio::buffer(space, buf.free_space()));
    if (ec) {
      upstream_deadline_.disarm();
      if (upstream_deadline_.fired()) {
        out.error = make_error(errc::upstream_timeout, "hark: " + key_ + " did not answer within " +
                                                           seconds_text(cfg.upstream_timeout));
      } else {
        out.retryable = up_->reused && received_ == 0;
        out.error = make_error(errc::upstream_reset,
                               "hark: " + key_ + " closed the connection: " + ec.message());
      }
      co_return false;
    }
    received_ += n;
    buf.commit(n);
  }
  upstream_deadline_.disarm();
  const int status = rp.head().status;
  if (status >= 100 && status < 200 && status != 101) {
    // Interim responses are forwarded verbatim (RFC 9110 §15.2).
    if (!co_await c_.write(buf.data().substr(0, parsed))) {
      out.error = make_error(errc::client_reset, "hark: client closed the connection");
      co_return false;
    }
  }
  buf.consume(parsed);
  co_return true;
}

asio::awaitable<response_outcome> http1_exchange::relay_response() {
  response_outcome out;
  const bool head_request = http1::iequals(req_.head().method, "HEAD");
  std::optional<http1::response_parser> rp;
  do {
    rp.emplace();
    if (head_request) {
      rp->skip_body();
    }
    if (!co_await read_final_head(*rp, out)) {
      co_return out;
    }
  } while (rp->head().status < 200 && rp->head().status != 101);
  auto& head = rp->head();
  ex_.response_head(head);
  co_await c_.settle_process();
  const bool upgraded = head.status == 101 && req_.upgrade();
  const bool close_client = !upgraded && (!req_.keep_alive() || rp->need_eof());
  const auto directive = close_client                ? http1::connection_directive::close
                         : req_.head().version == 10 ? http1::connection_directive::keep_alive
                                                     : http1::connection_directive::none;
  head_out_.clear();
  http1::write_response_head(head_out_, head, upgraded, directive);
  if (upgraded) {
    ex_.flow().is_websocket = ex_.target().scheme.starts_with("ws");
    if (ex_.flow().is_websocket) {
      c_.upgraded_deflate = ws::negotiated_deflate(head.fields);
    }
    out.upgraded = co_await c_.write(head_out_);
    ex_.response_end({});
    co_return out;
  }
  const auto status = co_await relay_response_body(*rp);
  conclude_response(status, *rp, close_client, out);
  co_return out;
}

asio::awaitable<pump_status> http1_exchange::relay_response_body(http1::response_parser& rp) {
  // A long content-length body that capture has seen enough of (past the capture cap, or not
  // recording) goes on with splice(2): the kernel moves it, the proxy does not copy it.
  const auto length = rp.content_length();
  const bool can_splice =
      length && *length >= splice_min_body && !up_->io().is_tls() && !c_.io().is_tls();
  auto status = co_await pump_body(
      up_->io(), c_.upstream_buf, rp, c_.io(), head_out_,
      body_deadline{&upstream_deadline_, c_.services.cfg.upstream_timeout},
      [&](std::string_view b) { ex_.response_body(b); },
      [&] { return can_splice && !ex_.wants_response_body(); });
  if (status == pump_status::handed_off) {
    const auto rest = *length - rp.body_bytes();
    auto [ec, moved] = co_await net::splice_bytes(up_->socket, c_.socket, rest);
    ex_.response_body_skipped(moved);
    c_.services.metrics.response_body_bytes.fetch_add(moved, std::memory_order_relaxed);
    status = !ec                      ? pump_status::spliced
             : ec == asio::error::eof ? pump_status::source_closed
                                      : pump_status::sink_error;
  }
  c_.services.metrics.response_body_bytes.fetch_add(rp.body_bytes(), std::memory_order_relaxed);
  co_return status;
}

void http1_exchange::conclude_response(pump_status status, http1::response_parser& rp,
                                       bool close_client, response_outcome& out) {
  switch (status) {
    case pump_status::done:
    case pump_status::spliced:
      ex_.response_end(rp.trailers());
      out.keep_client = !close_client;
      // After a splice the parser did not see the end of the body: the upstream connection is
      // in a clean state (exactly the body was read) but is not reused, to stay simple.
      out.reuse_upstream = status == pump_status::done && rp.keep_alive() && !rp.need_eof() &&
                           c_.upstream_buf.empty();
      break;
    case pump_status::sink_error:
      out.error = make_error(errc::client_reset, "hark: client closed the connection");
      break;
    case pump_status::protocol_error:
      out.error = make_error(errc::upstream_protocol, "hark: invalid response body from " + key_);
      break;
    case pump_status::timeout:
      out.error =
          make_error(errc::upstream_timeout, "hark: " + key_ + " sent no response data for " +
                                                 seconds_text(c_.services.cfg.upstream_timeout));
      break;
    default:
      out.error =
          make_error(errc::upstream_reset, "hark: " + key_ + " closed the connection mid-response");
      break;
  }
}

asio::awaitable<http1_next> http1_exchange::finish(response_outcome& out) {
  if (out.upgraded) {
    ex_.finish();
    c_.upgraded = std::move(up_);
    if (ex_.flow().is_websocket) {
      c_.upgraded_flow.emplace(std::move(ex_.flow()));  // its messages belong to its entry
    }
    co_return ex_.flow().is_websocket ? http1_next::upgraded_websocket : http1_next::upgraded_other;
  }
  if (out.error && !ex_.response_started()) {
    // Nothing was sent to the client yet: it gets the synthetic response (SPEC §2).
    const auto code = errc_from_string(out.error->code).value_or(errc::upstream_reset);
    co_return co_await fail(code, out.error->message);
  }
  if (out.reuse_upstream) {
    release_upstream(c_, std::move(*up_));
  }
  const bool keep = out.keep_client && !out.error;
  ex_.finish(std::move(out.error));
  co_return keep ? http1_next::keep_alive : http1_next::close;
}

}  // namespace

asio::awaitable<http1_next> run_http1_exchange(client_connection& c, http1::request_parser& p,
                                               const exchange_target& t) {
  http1_exchange x(c, p, t);
  auto next = http1_next::close;
  std::optional<std::string> unexpected;
  try {
    next = co_await x.run();
  } catch (const std::exception& e) {
    unexpected = e.what();  // co_await is not allowed inside a handler
  }
  if (unexpected) {
    next = co_await x.fail_unexpected(*unexpected);
  }
  co_return next;
}

asio::awaitable<acquired_upstream> acquire_upstream(client_connection& c, const exchange_target& t,
                                                    net::watchdog::deadline& d) {
  if (c.origin) {
    co_return co_await c.origin->acquire(d);
  }
  acquired_upstream a;
  a.connection = c.worker.pool.take(net::upstream_key(t.host, t.port));
  if (a.connection) {
    co_return a;
  }
  auto connected =
      co_await net::connect_upstream(t.host, t.port, c.services.cfg.connect_timeout, d);
  a.dns_ms = connected.dns_ms;
  a.connect_ms = connected.connect_ms;
  if (!connected.connection) {
    a.error = make_error(connected.error, std::move(connected.message));
  }
  a.connection = std::move(connected.connection);
  co_return a;
}

void release_upstream(client_connection& c, net::upstream_connection&& up) {
  up.reused = true;
  if (c.origin) {
    c.origin->keep(std::move(up));
  } else {
    c.worker.pool.give_back(std::move(up));
  }
}

}  // namespace hark::layers
