#pragma once
// The API fixture plus what the HAR tests need: streamed replies pulled to the end, and
// exchanges shaped like real captures (POST with a body, gzip, binary, cookies).

#include "api_fixture.hpp"
#include "compress.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <vector>

namespace hark::api::test {

/** Pulls every piece of `stream` into `pieces` (the last, empty piece not included). */
inline boost::asio::awaitable<void> pull_pieces(body_stream* stream,
                                                std::vector<std::string>* pieces) {
  for (;;) {
    auto piece = co_await stream->next();
    if (piece.empty()) {
      co_return;
    }
    pieces->push_back(std::move(piece));
  }
}

class har_fixture : public api_fixture {
 protected:
  /** A request through api::serve with its streamed body pulled to the end. */
  struct streamed {
    response head;
    bool is_streamed = false;
    std::vector<std::string> pieces;
    std::string body;
  };

  streamed serve_streamed(http::verb method, const std::string& target,
                          const std::string& body = {}) {
    request req{method, target, 11};
    req.set(http::field::host, "localhost:8889");
    req.body() = body;
    req.prepare_payload();
    auto out = serve(*ctx_, req);
    streamed result;
    result.head = std::move(out.head);
    result.is_streamed = out.body != nullptr;
    if (out.body) {
      boost::asio::io_context io;
      boost::asio::co_spawn(io, pull_pieces(out.body.get(), &result.pieces), boost::asio::detached);
      io.run();
      for (const auto& piece : result.pieces) {
        result.body += piece;
      }
    } else {
      result.body = result.head.body();
    }
    return result;
  }

  /** GET /api/har/export/<sid> parsed; fails the test unless it is a streamed 200. */
  json export_session(const std::string& sid) {
    auto res = serve_streamed(http::verb::get, "/api/har/export/" + sid);
    EXPECT_EQ(res.head.result(), http::status::ok) << res.body;
    EXPECT_TRUE(res.is_streamed);
    auto doc = json::parse(res.body, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << res.body.substr(0, 2000);
    return doc;
  }

  response post(const std::string& target, const std::string& body) {
    return call(http::verb::post, target, body);
  }

  /** A POST of a JSON body answered with gzip-coded JSON, with cookies both ways. */
  static capture::entry_record post_json(const std::string& sid, std::chrono::milliseconds at) {
    auto r = make_entry(sid, "api.example.com", at);
    r.url = "http://api.example.com/login?next=%2Fhome&q=a+b&flag";
    r.request.method = "POST";
    r.request.path = "/login?next=%2Fhome&q=a+b&flag";
    r.request.headers = {{"Host", "api.example.com"},
                         {"Content-Type", "application/json"},
                         {"Cookie", "sid=abc; theme=dark"},
                         {"Content-Length", "27"}};
    r.request_body = R"({"user":"ann","pass":"x"}  )";
    r.request.body_size = r.request_body.size();
    const std::string reply = R"({"ok":true,"message":"welcome back, ann"})";
    r.response_body = gzip(reply);
    r.response->body_size = r.response_body.size();
    r.response->headers = {
        {"Content-Type", "application/json; charset=utf-8"},
        {"Content-Encoding", "gzip"},
        {"Set-Cookie", "sid=def; Path=/; HttpOnly; Secure; Expires=Wed, 21 Oct 2015 07:28:00 GMT"},
        {"Set-Cookie", "seen=1; Max-Age=60; Domain=example.com"}};
    r.timings.blocked = 0.5;
    r.timings.dns = 1.25;
    r.timings.connect = 2.0;
    r.timings.ssl = 3.0;
    r.timings.send = 0.25;
    r.timings.wait = 10.0;
    r.timings.receive = 4.0;
    r.client_addr = capture::net_address{"127.0.0.1", 50123};
    r.remote_addr = capture::net_address{"10.1.2.3", 80};
    return r;
  }

  /** A GET answered with bytes that are not UTF-8. */
  static capture::entry_record binary_download(const std::string& sid,
                                               std::chrono::milliseconds at) {
    auto r = make_entry(sid, "cdn.example.com", at);
    r.url = "http://cdn.example.com/blob.bin";
    r.request.path = "/blob.bin";
    std::string bytes;
    for (int i = 0; i < 300; ++i) {
      bytes.push_back(static_cast<char>(i * 7));
    }
    r.response->headers = {{"Content-Type", "application/octet-stream"}};
    r.response_body = bytes;
    r.response->body_size = bytes.size();
    return r;
  }
};

}  // namespace hark::api::test
