// http2_stream's HTTP/1.1 path: a client HTTP/2 stream relayed to an origin that speaks
// HTTP/1.1 (h2c prior knowledge, RFC 9113 §8 ↔ RFC 9112), on a connection of its own from the
// worker's pool. The request head is translated (http2_heads.hpp), the body chunked when its
// length is unknown; the response head becomes HTTP/2 fields, its body DATA, its trailers
// HEADERS — with back-pressure: the origin is read only while the client's queue is short.

#include "http1_body.hpp"
#include "http1_exchange.hpp"
#include "http2_layer.hpp"
#include "http2_stream.hpp"

#include "hark/layers/http1_codec.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <charconv>

namespace hark::layers {

using namespace boost::asio::experimental::awaitable_operators;

namespace {

std::string hex_size(std::size_t n) {
  char digits[20];
  auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), n, 16);
  return std::string(digits, end);
}

bool has_field(const capture::header_list& fields, std::string_view name) {
  for (const auto& [n, v] : fields) {
    if (http1::iequals(n, name)) {
      return true;
    }
  }
  return false;
}

}  // namespace

asio::awaitable<void> http2_stream::relay_h1(http2_stream* self) {
  try {
    co_await self->run_h1();
  } catch (const std::exception& e) {
    self->respond_failure(errc::internal_error, std::string("hark: internal error: ") + e.what());
  }
  self->h1_ = nullptr;
  self->task_running_ = false;
  self->layer_.task_ended();  // the layer may drop the stream from here on
}

asio::awaitable<void> http2_stream::wait() {
  wake_.expires_at(asio::steady_timer::time_point::max());
  co_await wake_.async_wait(use_nothrow);
}

asio::awaitable<void> http2_stream::run_h1() {
  auto& c = layer_.connection();
  const auto asked_at = exchange::steady::now();
  auto acquired = co_await acquire_upstream(c, ex_.target(), upstream_deadline_);
  ex_.upstream_acquired(acquired, asked_at, "HTTP/1.1");
  if (!acquired.connection) {
    const auto& e = *acquired.error;
    respond_failure(errc_from_string(e.code).value_or(errc::connect_failed), e.message);
    co_return;
  }
  if (cancelled_) {
    co_return;
  }
  if (negotiated_h2(*acquired.connection)) {
    // A new connection to an intercepted origin that speaks HTTP/2: shared from now on.
    open_h2(layer_.share_upstream(std::move(*acquired.connection)));
    co_return;
  }
  if (!request_.protocol.empty()) {
    // RFC 8441 over HTTP/1.1 would be an Upgrade: Hark advertises extended CONNECT only
    // towards HTTP/2 origins, and this one no longer speaks it.
    respond_failure(errc::upstream_protocol,
                    "hark: " + acquired.connection->key +
                        " does not speak HTTP/2: extended CONNECT cannot be relayed");
    co_return;
  }
  auto up = std::move(*acquired.connection);
  h1_ = &up;
  const bool body_follows = !request_ended_ || !body_queue_.empty();
  const bool chunked = body_follows && !has_field(fields_, "content-length");
  std::string head;
  write_h1_request_for_h2(head, request_, fields_, body_follows);
  ex_.request_sending();
  if (auto [ec, n] = co_await up.io().write(asio::buffer(head)); ec) {
    respond_failure(errc::upstream_reset, "hark: " + up.key + " closed the connection");
    co_return;
  }
  if (!body_follows) {
    ex_.request_sent();
  }
  co_await (send_h1_body(up, chunked) && relay_h1_response(up));
}

asio::awaitable<void> http2_stream::send_h1_body(net::upstream_connection& up, bool chunked) {
  for (;;) {
    if (!body_queue_.empty()) {
      std::string piece;
      piece.swap(body_queue_);
      const auto n = piece.size();
      if (chunked) {
        piece = hex_size(n) + "\r\n" + piece + "\r\n";
      }
      if (auto [ec, w] = co_await up.io().write(asio::buffer(piece)); ec) {
        co_return;  // the response side reports the failure
      }
      layer_.client().consume(id_, n);
      owed_client_ -= std::min(owed_client_, n);
      layer_.wake();
      continue;
    }
    if (request_ended_) {
      break;
    }
    if (cancelled_) {
      co_return;
    }
    co_await wait();
  }
  if (chunked) {
    std::string last = "0\r\n";
    for (const auto& [name, value] : request_trailers_) {
      last += name + ": " + value + "\r\n";
    }
    last += "\r\n";
    co_await up.io().write(asio::buffer(last));
  }
  ex_.request_done_at(exchange::steady::now());
}

asio::awaitable<bool> http2_stream::read_h1_head(net::upstream_connection& up,
                                                 std::optional<http1::response_parser>& rp) {
  auto& buf = h1_buf_;
  const auto timeout = layer_.connection().services.cfg.upstream_timeout;
  for (;;) {
    rp.emplace();
    if (request_.method == "HEAD") {
      rp->skip_body();
    }
    while (!rp->head_done()) {
      boost::system::error_code ec;
      const auto n = buf.empty() ? 0 : rp->put(buf.data(), ec);
      buf.consume(n);
      if (rp->head_done()) {
        break;
      }
      if (ec && ec != boost::beast::http::error::need_more) {
        respond_failure(errc::upstream_protocol,
                        "hark: invalid response from " + up.key + ": " + ec.message());
        co_return false;
      }
      auto* space = buf.prepare(16 * 1024);
      upstream_deadline_.reset_fired();
      upstream_deadline_.arm(timeout, up.io().socket());
      auto [rec, got] = co_await up.io().read_some(asio::buffer(space, buf.free_space()));
      upstream_deadline_.disarm();
      if (rec) {
        respond_failure(upstream_deadline_.fired() ? errc::upstream_timeout : errc::upstream_reset,
                        upstream_deadline_.fired()
                            ? "hark: " + up.key + " did not answer within " +
                                  std::to_string(timeout.count()) + " s"
                            : "hark: " + up.key + " closed the connection: " + rec.message());
        co_return false;
      }
      buf.commit(got);
    }
    const int status = rp->head().status;
    if (status >= 200) {
      co_return true;
    }
    // Interim responses (RFC 9110 §15.2) go on as HTTP/2 1xx heads.
    layer_.client().submit_response(id_, h2_fields_for_h1_response(rp->head()), false);
    layer_.wake();
  }
}

asio::awaitable<void> http2_stream::relay_h1_response(net::upstream_connection& up) {
  std::optional<http1::response_parser> rp;
  if (!co_await read_h1_head(up, rp)) {
    co_return;
  }
  ex_.response_head(rp->head());
  const bool bodiless = rp->is_done();
  layer_.client().submit_response(id_, h2_fields_for_h1_response(rp->head()), bodiless);
  layer_.wake();
  if (bodiless) {
    ex_.response_end({});
    ex_.finish();
    co_return;
  }
  if (co_await relay_h1_body(up, *rp) && rp->keep_alive() && !rp->need_eof() && h1_buf_.empty() &&
      request_ended_ && body_queue_.empty()) {
    h1_ = nullptr;
    release_upstream(layer_.connection(), std::move(up));
  }
}

asio::awaitable<bool> http2_stream::relay_h1_body(net::upstream_connection& up,
                                                  http1::response_parser& rp) {
  auto& c = layer_.connection();
  auto& buf = h1_buf_;
  auto& client = layer_.client();
  while (!rp.is_done()) {
    boost::system::error_code ec;
    const auto n = buf.empty() ? 0 : rp.put(buf.data(), ec);
    if (ec && ec != boost::beast::http::error::need_more) {
      respond_failure(errc::upstream_protocol, "hark: invalid response body from " + up.key);
      co_return false;
    }
    for (auto piece : rp.body_pieces()) {
      ex_.response_body(piece);
      client.submit_data(id_, piece, false);
    }
    buf.consume(n);
    layer_.wake();
    if (rp.is_done()) {
      break;
    }
    while (client.queued(id_) > backlog_limit && !cancelled_) {
      co_await wait();  // the client reads slowly: so does this stream
    }
    if (cancelled_) {
      co_return false;
    }
    auto* space = buf.prepare(64 * 1024);
    upstream_deadline_.reset_fired();
    upstream_deadline_.arm(c.services.cfg.upstream_timeout, up.io().socket());
    auto [rec, got] = co_await up.io().read_some(asio::buffer(space, buf.free_space()));
    upstream_deadline_.disarm();
    if (rec == asio::error::eof && rp.need_eof()) {
      boost::system::error_code eof_ec;
      rp.put_eof(eof_ec);
      break;
    }
    if (rec) {
      respond_failure(upstream_deadline_.fired() ? errc::upstream_timeout : errc::upstream_reset,
                      "hark: " + up.key +
                          (upstream_deadline_.fired() ? " sent no response data in time"
                                                      : " closed the connection mid-response"));
      co_return false;
    }
    buf.commit(got);
  }
  c.services.metrics.response_body_bytes.fetch_add(rp.body_bytes(), std::memory_order_relaxed);
  capture::header_list trailers;
  for (const auto& [name, value] : rp.trailers()) {
    trailers.emplace_back(boost::algorithm::to_lower_copy(std::string(name)), value);
  }
  if (trailers.empty()) {
    client.submit_data(id_, {}, true);
  } else {
    client.submit_trailers(id_, trailers);
  }
  layer_.wake();
  ex_.response_end(rp.trailers());
  ex_.finish();
  co_return true;
}

}  // namespace hark::layers
