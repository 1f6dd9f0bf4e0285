#include "http2_stream.hpp"

#include "http1_exchange.hpp"
#include "http2_layer.hpp"

#include "hark/h2/frame_log.hpp"
#include "hark/layers/http1_codec.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace hark::layers {

namespace {

proxy_metrics::protocol protocol_of(const client_connection& c) {
  return c.tls ? proxy_metrics::https2 : proxy_metrics::http2;
}

}  // namespace

http2_stream::http2_stream(http2_layer& layer, std::int32_t id, const exchange_target& t,
                           h2_request request, capture::header_list fields, bool end_stream)
    : layer_(layer),
      id_(id),
      ex_(layer.connection(), t, protocol_of(layer.connection())),
      request_(std::move(request)),
      fields_(std::move(fields)),
      request_ended_(end_stream),
      upstream_deadline_(layer.connection().dog),
      response_stall_(layer.connection().dog),
      request_stall_(layer.connection().dog),
      wake_(layer.connection().socket.get_executor()) {
  ex_.flow().http2 = capture::http2_ref{layer.connection_id(), static_cast<std::uint32_t>(id)};
  ex_.request_head(h2_request_head(request_, fields_));
  if (request_ended_) {
    ex_.request_end({});
  }
}

http2_stream::~http2_stream() {
  if (up_ && up_id_ > 0) {
    up_->detach(up_id_);
  }
  release_upstream_window(true);
  if (owed_client_ > 0) {
    layer_.client().consume(id_, owed_client_);
  }
}

void http2_stream::release_upstream_window(bool all) {
  if (owed_upstream_ == 0 || !owed_to_ || (!all && layer_.client().queued(id_) > backlog_limit)) {
    return;
  }
  owed_to_->consume(owed_id_, owed_upstream_);
  owed_upstream_ = 0;
  if (!all) {
    arm_response_stall();
  }
}

void http2_stream::start() {
  if (auto up = layer_.shared_upstream()) {
    open_h2(up);
    return;
  }
  task_running_ = true;
  layer_.task_started();
  asio::co_spawn(wake_.get_executor(), relay_h1(this), asio::detached);
}

void http2_stream::adopt_push(const std::shared_ptr<h2_upstream>& up, std::int32_t promised) {
  pushed_ = true;
  ex_.flow().pushed = true;
  client_closed_ = id_ == 0;  // recorded only: no client stream will close
  up_ = up;
  up_id_ = promised;
  owed_to_ = up;
  owed_id_ = promised;
  up->adopt_push(promised, this);
  acquired_upstream a;
  ex_.upstream_acquired(a, exchange::steady::now(), "HTTP/2");
  ex_.flow().remote_addr = capture::to_net_address(up->remote());
  ex_.flow().upstream_http2 =
      capture::http2_ref{up->connection_id(), static_cast<std::uint32_t>(promised)};
  ex_.request_sending();
  ex_.request_sent();
  arm_response_stall();
}

void http2_stream::reset_client(std::uint32_t code) {
  if (id_ > 0) {
    layer_.client().submit_rst(id_, code);
    layer_.wake();
  }
}

void http2_stream::open_h2(const std::shared_ptr<h2_upstream>& up) {
  const auto asked_at = exchange::steady::now();
  up_id_ = up->open_stream(h2_forwarded_fields(fields_), request_ended_, this);
  if (up_id_ < 0 && !request_.protocol.empty() && !up->accepts_extended_connect()) {
    respond_failure(errc::upstream_protocol,
                    "hark: the origin did not enable extended CONNECT (RFC 8441)");
    return;
  }
  if (up_id_ < 0) {
    respond_failure(errc::upstream_reset, "hark: the origin's HTTP/2 connection refused a stream");
    return;
  }
  up_ = up;
  owed_to_ = up;
  owed_id_ = up_id_;
  acquired_upstream a;
  ex_.upstream_acquired(a, asked_at, "HTTP/2");
  ex_.flow().remote_addr = capture::to_net_address(up->remote());
  ex_.flow().upstream_http2 =
      capture::http2_ref{up->connection_id(), static_cast<std::uint32_t>(up_id_)};
  ex_.request_sending();
  if (request_ended_) {
    ex_.request_sent();
  }
  arm_response_stall();
}

void http2_stream::arm_response_stall() {
  // Only while the origin may send: a window Hark holds back (slow client) is not its stall. A
  // WebSocket may be quiet for as long as its peers like.
  if (owed_upstream_ > 0 || !up_ || ws_observer_) {
    response_stall_.disarm();
    return;
  }
  const auto timeout = layer_.connection().services.cfg.upstream_timeout;
  response_stall_.arm(timeout, [this, timeout] {
    on_stalled(errc::upstream_timeout,
               "hark: " + net::upstream_key(ex_.target().host, ex_.target().port) +
                   " sent nothing for " + std::to_string(timeout.count()) + " s");
  });
}

void http2_stream::arm_request_stall() {
  // Only while the client may send: a window Hark holds back is not the client's stall.
  if (request_ended_ || owed_client_ > 0 || !up_ || ws_observer_) {
    request_stall_.disarm();
    return;
  }
  const auto timeout = layer_.connection().services.cfg.idle_timeout;
  request_stall_.arm(timeout, [this, timeout] {
    on_stalled(errc::client_timeout, "hark: the client sent no request body data for " +
                                         std::to_string(timeout.count()) + " s");
  });
}

void http2_stream::on_stalled(errc code, const std::string& message) {
  response_stall_.disarm();
  request_stall_.disarm();
  if (up_ && up_id_ > 0) {
    up_->reset(up_id_, NGHTTP2_CANCEL);
    up_->detach(up_id_);
    up_.reset();
    up_id_ = 0;
  }
  if (!ex_.response_started()) {
    respond_failure(code, message);
    return;
  }
  reset_client(NGHTTP2_CANCEL);
  ex_.finish(make_error(code, message));
}

void http2_stream::respond_failure(errc code, const std::string& message) {
  auto& client = layer_.client();
  if (pushed_) {
    reset_client(NGHTTP2_CANCEL);  // a push the client did not ask for gets no answer of Hark's
  } else if (!ex_.response_started()) {
    const auto a = answer_for(code, message);
    const capture::header_list fields{{":status", std::to_string(a.status)},
                                      {"content-type", "text/plain; charset=utf-8"},
                                      {"content-length", std::to_string(a.body.size())},
                                      {"x-hark-error", std::string(to_string(code))}};
    if (client.submit_response(id_, fields, false)) {
      client.submit_data(id_, a.body, true);
    }
  } else {
    client.submit_rst(id_, NGHTTP2_INTERNAL_ERROR);
  }
  layer_.wake();
  ex_.finish(make_error(code, message));
}

void http2_stream::on_client_data(h2::data_event& e) {
  if (ws_observer_) {
    ws_observer_->client_bytes(e.bytes);
    if (e.end_stream && !ws_client_done_) {
      ws_client_done_ = true;
      ws_observer_->client_finished();
    }
  } else {
    ex_.request_body(e.bytes);
  }
  if (e.end_stream) {
    request_ended_ = true;
    request_stall_.disarm();
    if (!ws_observer_) {
      ex_.request_end({});
    }
  }
  if (up_) {
    up_->send_data(up_id_, e.bytes, e.end_stream);
    if (e.end_stream && !ws_observer_) {
      ex_.request_done_at(exchange::steady::now());
    }
    owed_client_ += e.bytes.size();
    release_client_window();
    arm_request_stall();
    return;
  }
  if (task_running_) {
    body_queue_ += e.bytes;  // bounded by the stream window: consumed once written upstream
    owed_client_ += e.bytes.size();
    wake_task();
    return;
  }
  layer_.client().consume(id_, e.bytes.size());  // nobody to give them to
}

void http2_stream::on_client_trailers(h2::headers_event& e) {
  request_ended_ = true;
  request_stall_.disarm();
  ex_.request_end(e.fields);
  if (up_) {
    up_->send_trailers(up_id_, h2_forwarded_fields(e.fields));
  } else {
    request_trailers_ = std::move(e.fields);
    wake_task();
  }
}

void http2_stream::on_client_closed(std::uint32_t code) {
  client_closed_ = true;
  end_websocket();
  response_stall_.disarm();
  request_stall_.disarm();
  release_upstream_window(true);  // nothing more goes to the client
  if (!ex_.finished()) {
    if (code == NGHTTP2_NO_ERROR && ex_.response_started()) {
      ex_.finish();
    } else {
      ex_.finish(make_error(errc::client_reset, "hark: the client reset the stream (" +
                                                    h2::error_code_name(code) + ")"));
    }
  }
  if (up_ && up_id_ > 0) {
    up_->reset(up_id_,
               code == NGHTTP2_NO_ERROR ? static_cast<std::uint32_t>(NGHTTP2_CANCEL) : code);
    up_->detach(up_id_);
    up_.reset();
    up_id_ = 0;
  }
  cancel();
}

void http2_stream::release_client_window() {
  if (owed_client_ == 0 || (up_ && up_->queued(up_id_) > backlog_limit)) {
    return;
  }
  layer_.client().consume(id_, owed_client_);
  owed_client_ = 0;
  layer_.wake();
  arm_request_stall();
}

void http2_stream::on_client_writable() {
  release_upstream_window(false);
  wake_task();
}

void http2_stream::cancel() {
  cancelled_ = true;
  if (h1_ != nullptr) {
    boost::system::error_code ignored;
    h1_->io().socket().close(ignored);
  }
  wake_task();
}

void http2_stream::on_upstream_headers(h2::headers_event& e) {
  auto& client = layer_.client();
  arm_response_stall();
  switch (e.kind) {
    case h2::head_kind::informational:
      client.submit_response(id_, h2_forwarded_fields(e.fields), false);
      break;
    case h2::head_kind::response:
      ex_.response_head(h2_response_head(e.fields));
      client.submit_response(id_, h2_forwarded_fields(e.fields), e.end_stream);
      if (is_websocket_request() && !e.end_stream) {
        start_websocket(e.fields);
      } else if (e.end_stream) {
        response_ended_ = true;
        ex_.response_end({});
      }
      break;
    case h2::head_kind::trailers:
      response_ended_ = true;
      ex_.response_end(e.fields);
      client.submit_trailers(id_, h2_forwarded_fields(e.fields));
      break;
    case h2::head_kind::push_promise:
      if (up_) {
        layer_.on_push(id_, up_, e);
      }
      break;
    case h2::head_kind::request:
      break;  // not in the client role
  }
  if (e.end_stream) {
    response_stall_.disarm();
  }
  layer_.wake();
}

void http2_stream::on_upstream_data(h2::data_event& e) {
  if (ws_observer_) {
    ws_observer_->server_bytes(e.bytes);
  } else {
    ex_.response_body(e.bytes);
  }
  auto& client = layer_.client();
  client.submit_data(id_, e.bytes, e.end_stream);
  if (e.end_stream) {
    response_ended_ = true;
    if (ws_observer_ && !ws_server_done_) {
      ws_server_done_ = true;
      ws_observer_->server_finished();
    } else if (!ws_observer_) {
      ex_.response_end({});
    }
  }
  layer_.connection().services.metrics.response_body_bytes.fetch_add(e.bytes.size(),
                                                                     std::memory_order_relaxed);
  owed_upstream_ += e.bytes.size();
  release_upstream_window(false);
  arm_response_stall();
  if (e.end_stream) {
    response_stall_.disarm();
  }
  layer_.wake();
}

void http2_stream::on_upstream_closed(std::uint32_t error_code, bool reset_by_peer) {
  layer_.wake();  // the layer drops the stream once it finished (collect_finished)
  response_stall_.disarm();
  request_stall_.disarm();
  up_.reset();
  up_id_ = 0;
  end_websocket();
  if (error_code == NGHTTP2_NO_ERROR) {
    if (ex_.response_started() && !response_ended_) {
      // The origin's END_STREAM came without a DATA event to carry it (an empty last frame):
      // the client's stream ends here.
      response_ended_ = true;
      layer_.client().submit_data(id_, {}, true);
      if (!ws_observer_) {
        ex_.response_end({});
      }
      layer_.wake();
    }
    ex_.finish();
    return;
  }
  const auto message = "hark: " + net::upstream_key(ex_.target().host, ex_.target().port) +
                       (reset_by_peer ? " reset the stream (" : " closed the connection (") +
                       h2::error_code_name(error_code) + ")";
  if (!ex_.response_started() && !reset_by_peer) {
    respond_failure(errc::upstream_reset, message);
    return;
  }
  // RST_STREAM is propagated with the origin's code (SPEC §4), also before a response: a
  // client may retry a REFUSED_STREAM, and gRPC maps the codes to statuses.
  reset_client(error_code);
  ex_.finish(make_error(errc::upstream_reset, message));
}

void http2_stream::start_websocket(const capture::header_list& response_fields) {
  const auto status = h2_response_head(response_fields).status;
  if (status < 200 || status > 299) {
    return;  // refused: the answer is an ordinary response (RFC 8441 §5)
  }
  // RFC 8441 §5: the 2xx is the upgrade's 101; its entry is complete and the stream's DATA
  // carries WebSocket frames from now on.
  ex_.flow().is_websocket = true;
  ex_.response_end({});
  ex_.finish();
  ws_messages_ = std::make_unique<flow_message_sink>(layer_.connection().services.sink, ex_.flow());
  ws_observer_ = std::make_unique<ws::observer>(ws::negotiated_deflate(response_fields),
                                                layer_.connection().services.cfg.max_body_capture,
                                                *ws_messages_);
  response_stall_.disarm();
  request_stall_.disarm();
}

void http2_stream::end_websocket() {
  // A direction that ended without END_STREAM (reset, connection gone) hands over its message
  // cut short.
  if (!ws_observer_) {
    return;
  }
  if (!ws_client_done_) {
    ws_client_done_ = true;
    ws_observer_->client_finished();
  }
  if (!ws_server_done_) {
    ws_server_done_ = true;
    ws_observer_->server_finished();
  }
}

void http2_stream::on_upstream_writable() {
  release_client_window();
}

}  // namespace hark::layers
