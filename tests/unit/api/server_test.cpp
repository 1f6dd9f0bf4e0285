// api::server on a real loopback socket (port 0): keep-alive requests, 413 for an oversize body,
// 400 for a malformed request, and address-in-use at construction.

#include "api_fixture.hpp"

#include "hark/api/server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <thread>

namespace hark::api::test {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

/** The fixture's context served by an api::server on 127.0.0.1:0, run on its own thread. */
class api_server : public api_fixture {
 protected:
  api_server() : server_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0), *ctx_) {
    server_.start();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~api_server() override {
    server_.stop();
    ioc_.stop();
    thread_.join();
  }

  /** A client connection with a 10 s deadline on every operation. */
  beast::tcp_stream connect() {
    beast::tcp_stream stream(client_ioc_);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(server_.local_endpoint());
    return stream;
  }

  static response read_response(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    response res;
    http::read(stream, buffer, res);
    return res;
  }

  net::io_context ioc_;
  net::io_context client_ioc_;
  server server_;
  std::thread thread_;
};

TEST_F(api_server, serves_requests_on_one_keep_alive_connection) {
  EXPECT_NE(server_.local_endpoint().port(), 0);
  auto stream = connect();
  beast::flat_buffer buffer;

  request create{http::verb::post, "/api/sessions", 11};
  create.set(http::field::host, "localhost");
  create.body() = R"({"name": "over the wire"})";
  create.prepare_payload();
  http::write(stream, create);
  auto res = read_response(stream, buffer);
  EXPECT_EQ(res.result(), http::status::created);
  EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(body_json(res)["name"], "over the wire");
  EXPECT_TRUE(res.keep_alive());

  request list{http::verb::get, "/api/sessions", 11};
  list.set(http::field::host, "127.0.0.1");
  http::write(stream, list);
  res = read_response(stream, buffer);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res)["sessions"].size(), 1u);

  request evil{http::verb::get, "/api/sessions", 11};
  evil.set(http::field::host, "evil.example");
  evil.set(http::field::connection, "close");
  http::write(stream, evil);
  res = read_response(stream, buffer);
  EXPECT_EQ(res.result(), http::status::forbidden);
  EXPECT_FALSE(res.keep_alive());
  // The server closes after a `Connection: close` exchange.
  beast::error_code ec;
  http::read(stream, buffer, res, ec);
  EXPECT_EQ(ec, http::error::end_of_stream);
}

TEST_F(api_server, oversize_body_is_413_and_closes) {
  auto stream = connect();
  const std::string head = "POST /api/sessions HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                           std::to_string(max_request_body + 1) + "\r\n\r\n";
  net::write(stream, net::buffer(head + std::string(std::size_t{64} * 1024, 'x')));
  beast::flat_buffer buffer;
  auto res = read_response(stream, buffer);
  EXPECT_EQ(res.result(), http::status::payload_too_large);
  EXPECT_EQ(body_json(res), json::parse(R"({"error":"Request body too large"})"));
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(body_json(get("/api/sessions"))["sessions"].size(), 0u);
}

TEST_F(api_server, expect_100_continue_is_answered_before_the_body) {
  auto stream = connect();
  const std::string body = R"({"name": "after continue"})";
  net::write(stream, net::buffer("POST /api/sessions HTTP/1.1\r\nHost: localhost\r\n"
                                 "Expect: 100-continue\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n"));
  beast::flat_buffer buffer;
  http::response<http::empty_body> interim;
  http::read(stream, buffer, interim);
  EXPECT_EQ(interim.result(), http::status::continue_);
  net::write(stream, net::buffer(body));
  const auto res = read_response(stream, buffer);
  EXPECT_EQ(res.result(), http::status::created);
  EXPECT_EQ(body_json(res)["name"], "after continue");

  // Too large: refused at the header, the body is never sent.
  auto second = connect();
  net::write(second, net::buffer("POST /api/sessions HTTP/1.1\r\nHost: localhost\r\n"
                                 "Expect: 100-continue\r\nContent-Length: 999999999\r\n\r\n"));
  beast::flat_buffer second_buffer;
  EXPECT_EQ(read_response(second, second_buffer).result(), http::status::payload_too_large);
}

TEST_F(api_server, malformed_request_is_400_and_closes) {
  auto stream = connect();
  net::write(stream, net::buffer(std::string("NOT A REQUEST LINE\r\n\r\n")));
  beast::flat_buffer buffer;
  auto res = read_response(stream, buffer);
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_FALSE(error_of(res).empty());
  beast::error_code ec;
  http::read(stream, buffer, res, ec);
  EXPECT_EQ(ec, http::error::end_of_stream);
}

TEST_F(api_server, binding_a_port_in_use_throws_address_in_use) {
  net::io_context other;
  try {
    server second(other, server_.local_endpoint(), *ctx_);
    FAIL() << "bound a port already in use";
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), net::error::address_in_use);
  }
}

}  // namespace
}  // namespace hark::api::test
