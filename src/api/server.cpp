// api::server: one accept loop and one coroutine per connection, HTTP/1.1 keep-alive, on the
// API's own io_context (single thread: handlers never run concurrently).
//
//   connection:  read request ──► handle ──► write response ──► keep-alive? ──► read request
//                    │ body over limit → 413, close      │ no → shutdown, close
//                    │ malformed → 400, close
//                    └ EOF, timeout, reset → close

#include "hark/api/server.hpp"

#include "hark/net/accept_backoff.hpp"

#include "reply.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <chrono>
#include <memory>

namespace hark::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

inline constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

constexpr std::chrono::seconds io_timeout{30};
/** Beast's default of 8 KiB is small for long tokens or cookies sent by browsers. */
constexpr std::uint32_t max_header_bytes = 64 * 1024;
/** After refusing a request, how much of the unread body is drained before closing, so that
 *  the client reads our response instead of a TCP reset. */
constexpr std::size_t max_linger_bytes = 1 << 20;
constexpr std::chrono::seconds linger_timeout{2};

/** A read error that is the peer's protocol fault (answered), not a transport condition. */
bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(beast::http::error::bad_target).category() &&
         ec != beast::http::error::end_of_stream && ec != beast::http::error::partial_message;
}

/** The response to a request that could not be read, or nullopt to close silently. */
std::optional<response> refusal(const beast::error_code& ec) {
  if (ec == beast::http::error::body_limit) {
    return error_reply(http::status::payload_too_large, "Request body too large");
  }
  if (ec == beast::http::error::header_limit) {
    return error_reply(http::status::request_header_fields_too_large,
                       "Request header fields too large");
  }
  if (is_parse_error(ec)) {
    return error_reply(http::status::bad_request, "Malformed request");
  }
  return std::nullopt;
}

/** Sends `res` and closes gracefully: FIN first, then reads and discards what the client is
 *  still sending for a short while (a lingering close). */
net::awaitable<void> refuse_and_close(beast::tcp_stream& stream, response res) {
  res.keep_alive(false);
  res.prepare_payload();
  stream.expires_after(io_timeout);
  auto [ec, written] = co_await http::async_write(stream, res, use_nothrow);
  if (ec) {
    co_return;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(linger_timeout);
  std::array<char, std::size_t{16} * 1024> sink;
  for (std::size_t drained = 0; drained < max_linger_bytes;) {
    auto [read_ec, n] = co_await stream.async_read_some(net::buffer(sink), use_nothrow);
    if (read_ec) {
      break;
    }
    drained += n;
  }
}

/** Reads one request into `parser`. Answers `Expect: 100-continue` (RFC 9110 §10.1.1) once the
 *  header is accepted, so that curl sends a large body without its 1 s wait, and an oversize
 *  body is refused (body_limit, from Content-Length) before the client sends it. */
net::awaitable<beast::error_code> read_request(beast::tcp_stream& stream,
                                               beast::flat_buffer& buffer,
                                               http::request_parser<http::string_body>& parser) {
  stream.expires_after(io_timeout);
  auto [ec, header_bytes] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
  if (ec || parser.is_done()) {
    co_return ec;
  }
  if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> proceed{http::status::continue_, 11};
    auto [write_ec, written] = co_await http::async_write(stream, proceed, use_nothrow);
    if (write_ec) {
      co_return write_ec;
    }
  }
  auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, use_nothrow);
  co_return body_ec;
}

/** Sends a streamed reply: the head, then one chunk per piece, then the last chunk. False when
 *  the connection cannot carry another request (write failed, or the stream threw mid-body:
 *  the last chunk is then withheld so that the client sees the transfer as cut short). */
net::awaitable<bool> write_streamed(beast::tcp_stream& stream, reply& out) {
  http::response_serializer<http::string_body> head(out.head);
  stream.expires_after(io_timeout);
  if (auto [ec, n] = co_await http::async_write_header(stream, head, use_nothrow); ec) {
    co_return false;
  }
  for (;;) {
    std::string piece;
    try {
      piece = co_await out.body->next();
    } catch (const std::exception& e) {
      spdlog::warn("api: streamed response failed: {}", e.what());
      co_return false;
    }
    stream.expires_after(io_timeout);  // a consumer that stops reading is dropped, not buffered
    if (piece.empty()) {
      auto [ec, n] = co_await net::async_write(stream, http::make_chunk_last(), use_nothrow);
      co_return !ec;
    }
    if (auto [ec, n] =
            co_await net::async_write(stream, http::make_chunk(net::buffer(piece)), use_nothrow);
        ec) {
      co_return false;
    }
  }
}

/** One connection: requests are served in order until the client or an error ends it.
 *  Owns `stream`; `ctx` and `stopping` outlive every connection (server contract). */
net::awaitable<void> serve_connection(beast::tcp_stream stream, context* ctx,
                                      std::shared_ptr<const std::atomic<bool>> stopping) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(max_header_bytes);
    parser.body_limit(max_request_body);
    if (const auto ec = co_await read_request(stream, buffer, parser)) {
      if (auto res = refusal(ec)) {
        co_await refuse_and_close(stream, std::move(*res));
      }
      co_return;
    }
    auto out = serve(*ctx, parser.get());
    auto& res = out.head;
    if (stopping->load()) {
      res.keep_alive(false);
    }
    bool reusable = false;
    if (out.body) {
      reusable = co_await write_streamed(stream, out);
    } else {
      stream.expires_after(io_timeout);
      auto [write_ec, written] = co_await http::async_write(stream, res, use_nothrow);
      reusable = !write_ec;
    }
    if (!reusable || !res.keep_alive() || stopping->load()) {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

/** Catches what serve_connection throws (unexpected failures only), once per connection. */
net::awaitable<void> run_connection(beast::tcp_stream stream, context* ctx,
                                    std::shared_ptr<const std::atomic<bool>> stopping) {
  try {
    co_await serve_connection(std::move(stream), ctx, std::move(stopping));
  } catch (const std::exception& e) {
    spdlog::warn("api: connection failed: {}", e.what());
  }
}

net::awaitable<void> accept_loop(tcp::acceptor* acceptor, context* ctx,
                                 std::shared_ptr<const std::atomic<bool>> stopping) {
  hark::net::accept_backoff backoff;
  net::steady_timer pause(acceptor->get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
    if (ec == net::error::operation_aborted || !acceptor->is_open()) {
      co_return;
    }
    if (hark::net::accept_backoff::is_resource_error(ec)) {
      // Out of descriptors or memory: retrying at once would spin on the pending connection
      // (SPEC §2); the connections already open go on meanwhile. One line per pause.
      const auto delay = backoff.on_resource_error();
      spdlog::warn("api: accept failed: {}; not accepting for {} ms (pause {} since start)",
                   ec.message(), delay.count(), backoff.pauses());
      pause.expires_after(delay);
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    if (ec) {
      spdlog::debug("api: accept failed: {}", ec.message());  // one connection's failure
      continue;
    }
    backoff.on_success();
    net::co_spawn(acceptor->get_executor(),
                  run_connection(beast::tcp_stream(std::move(socket)), ctx, stopping),
                  net::detached);
  }
}

}  // namespace

server::server(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
               context& ctx)
    : ioc_(ioc), acceptor_(ioc), ctx_(ctx), stopping_(std::make_shared<std::atomic<bool>>(false)) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);  // throws system_error(address_in_use) when taken
  acceptor_.listen(net::socket_base::max_listen_connections);
}

server::~server() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

boost::asio::ip::tcp::endpoint server::local_endpoint() const {
  return acceptor_.local_endpoint();
}

void server::start() {
  net::co_spawn(ioc_, accept_loop(&acceptor_, &ctx_, stopping_), net::detached);
}

void server::stop() {
  stopping_->store(true);
  if (ctx_.events != nullptr) {
    // Event streams would otherwise wait for events forever: closing the hub wakes each one,
    // which then ends its response (last chunk) and, stopping being set, its connection.
    ctx_.events->close();
  }
  // The acceptor belongs to the io_context's thread: close it there (inline when called on it).
  net::dispatch(ioc_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

}  // namespace hark::api
