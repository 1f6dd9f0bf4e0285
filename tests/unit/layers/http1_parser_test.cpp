// http1::message_parser fed byte scripts the way the socket driver feeds it: unconsumed bytes stay
// in the buffer, more bytes are appended, put() is called again.

#include "hark/layers/http1_parser.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>

#include <string>
#include <string_view>

namespace {

namespace http1 = hark::layers::http1;
namespace http = boost::beast::http;
using hark::capture::header_list;
using hark::capture::http_head;

/** What a driver saw while feeding one message. */
struct fed {
  boost::system::error_code ec;  ///< the last error other than need_more
  std::string body;              ///< body pieces joined (chunked framing removed)
  std::string consumed;          ///< every byte put() consumed, in order
  std::string head_bytes;        ///< the bytes consumed up to and including head completion
  std::string left;              ///< bytes left unconsumed when the message ended
};

/** Feeds `wire` split at `split`: the first `split` bytes, then the rest, as a driver would (the
 *  unconsumed tail is presented again with the new bytes). Stops at is_done() or an error. */
template <bool IsRequest>
fed feed(http1::message_parser<IsRequest>& p, std::string_view wire, std::size_t split) {
  fed out;
  std::string buffer;
  std::size_t offered = 0;
  const auto offer = [&](std::size_t n) {
    buffer.append(wire.substr(offered, n));
    offered += n;
  };
  offer(split);
  for (;;) {
    while (!buffer.empty() && !p.is_done()) {
      const bool head_was_done = p.head_done();
      const auto n = p.put(buffer, out.ec);
      for (auto piece : p.body_pieces()) {
        out.body.append(piece);
      }
      out.consumed.append(buffer, 0, n);
      if (!head_was_done && p.head_done()) {
        out.head_bytes = out.consumed;
      }
      buffer.erase(0, n);
      if (out.ec == http::error::need_more) {
        out.ec = {};
        break;
      }
      if (out.ec) {
        return out;
      }
      if (n == 0) {
        break;
      }
    }
    if (p.is_done() || offered == wire.size()) {
      break;
    }
    offer(wire.size() - offered);
  }
  out.left = buffer + std::string(wire.substr(offered));
  return out;
}

template <bool IsRequest>
fed feed_all(http1::message_parser<IsRequest>& p, std::string_view wire) {
  return feed(p, wire, wire.size());
}

/** Feeds `wire` one byte at a time. */
template <bool IsRequest>
fed feed_bytewise(http1::message_parser<IsRequest>& p, std::string_view wire) {
  fed out;
  std::string buffer;
  for (std::size_t i = 0; i < wire.size() && !p.is_done(); ++i) {
    buffer.push_back(wire[i]);
    while (!buffer.empty() && !p.is_done()) {
      const auto n = p.put(buffer, out.ec);
      for (auto piece : p.body_pieces()) {
        out.body.append(piece);
      }
      out.consumed.append(buffer, 0, n);
      buffer.erase(0, n);
      if (out.ec == http::error::need_more) {
        out.ec = {};
        break;
      }
      if (out.ec) {
        return out;
      }
      if (n == 0) {
        break;
      }
    }
  }
  return out;
}

bool same_head(const http_head& a, const http_head& b) {
  return a.method == b.method && a.target == b.target && a.status == b.status &&
         a.reason == b.reason && a.version == b.version && a.fields == b.fields;
}

constexpr std::string_view request_head =
    "GET http://example.com:8080/a/b?c=d HTTP/1.1\r\n"
    "Host: example.com:8080\r\n"
    "user-agent: script/1\r\n"
    "X-MiXeD-CaSe: Value With  Spaces\r\n"
    "Accept: text/html\r\n"
    "Cookie: a=1\r\n"
    "Cookie: b=2\r\n"
    "Accept: */*\r\n"
    "\r\n";

constexpr std::string_view response_head =
    "HTTP/1.1 404 Not Here\r\n"
    "Server: origin\r\n"
    "set-cookie: x=1\r\n"
    "Set-Cookie: y=2\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

// ---------------------------------------------------------------------------------------------
// Heads

TEST(http1_parser, request_head_keeps_fields_in_order_case_and_duplicates) {
  http1::request_parser p;
  const auto r = feed_all(p, request_head);
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_TRUE(p.head_done());
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(r.consumed, request_head);
  const auto& h = p.head();
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "http://example.com:8080/a/b?c=d");
  EXPECT_EQ(h.version, 11u);
  const header_list expected{{"Host", "example.com:8080"},
                             {"user-agent", "script/1"},
                             {"X-MiXeD-CaSe", "Value With  Spaces"},
                             {"Accept", "text/html"},
                             {"Cookie", "a=1"},
                             {"Cookie", "b=2"},
                             {"Accept", "*/*"}};
  EXPECT_EQ(h.fields, expected);
  EXPECT_FALSE(p.has_body());
  EXPECT_TRUE(p.keep_alive());
  EXPECT_TRUE(p.trailers().empty());
}

TEST(http1_parser, request_head_split_at_every_byte_boundary_gives_the_same_head) {
  http1::request_parser whole;
  ASSERT_FALSE(feed_all(whole, request_head).ec);
  for (std::size_t split = 0; split <= request_head.size(); ++split) {
    http1::request_parser p;
    const auto r = feed(p, request_head, split);
    ASSERT_FALSE(r.ec) << "split " << split << ": " << r.ec.message();
    ASSERT_TRUE(p.is_done()) << "split " << split;
    EXPECT_TRUE(same_head(p.head(), whole.head())) << "split " << split;
    EXPECT_EQ(r.consumed, request_head) << "split " << split;
  }
  http1::request_parser bytewise;
  const auto r = feed_bytewise(bytewise, request_head);
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(same_head(bytewise.head(), whole.head()));
}

TEST(http1_parser, response_head_split_at_every_byte_boundary_gives_the_same_head) {
  http1::response_parser whole;
  ASSERT_FALSE(feed_all(whole, response_head).ec);
  EXPECT_EQ(whole.head().status, 404);
  EXPECT_EQ(whole.head().reason, "Not Here");
  EXPECT_EQ(whole.head().version, 11u);
  const header_list expected{
      {"Server", "origin"}, {"set-cookie", "x=1"}, {"Set-Cookie", "y=2"}, {"Content-Length", "0"}};
  EXPECT_EQ(whole.head().fields, expected);
  for (std::size_t split = 0; split <= response_head.size(); ++split) {
    http1::response_parser p;
    const auto r = feed(p, response_head, split);
    ASSERT_FALSE(r.ec) << "split " << split << ": " << r.ec.message();
    ASSERT_TRUE(p.is_done()) << "split " << split;
    EXPECT_TRUE(same_head(p.head(), whole.head())) << "split " << split;
  }
}

TEST(http1_parser, http10_request_is_not_keep_alive_unless_asked) {
  http1::request_parser plain;
  ASSERT_FALSE(feed_all(plain, "GET / HTTP/1.0\r\nHost: a\r\n\r\n").ec);
  EXPECT_EQ(plain.head().version, 10u);
  EXPECT_FALSE(plain.keep_alive());

  http1::request_parser asked;
  ASSERT_FALSE(feed_all(asked, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ec);
  EXPECT_TRUE(asked.keep_alive());

  http1::request_parser closing;
  ASSERT_FALSE(feed_all(closing, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n").ec);
  EXPECT_FALSE(closing.keep_alive());
}

// ---------------------------------------------------------------------------------------------
// Where put() stops

TEST(http1_parser, put_never_consumes_past_the_head_in_the_call_that_completes_it) {
  constexpr std::string_view head = "POST /upload HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
  const std::string wire = std::string(head) + "hello world";
  http1::request_parser p;
  boost::system::error_code ec;
  const auto n = p.put(wire, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, head.size());
  EXPECT_TRUE(p.head_done());
  EXPECT_FALSE(p.is_done());
  EXPECT_TRUE(p.body_pieces().empty());
  EXPECT_TRUE(p.has_body());
  EXPECT_EQ(p.content_length(), 11u);

  // The next call parses the body, all of it at once.
  const auto m = p.put(std::string_view(wire).substr(n), ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(m, 11u);
  ASSERT_EQ(p.body_pieces().size(), 1u);
  EXPECT_EQ(p.body_pieces()[0], "hello world");
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(p.body_bytes(), 11u);
}

TEST(http1_parser, incomplete_head_consumes_complete_lines_only) {
  // Beast takes the start line and each complete field as they arrive; the driver drops what
  // was consumed and presents the rest again with the next bytes.
  http1::request_parser p;
  boost::system::error_code ec;
  EXPECT_EQ(p.put("GET / HTTP/1.1\r\nHost: a\r\nAcc", ec), 25u);
  EXPECT_EQ(ec, http::error::need_more);
  EXPECT_FALSE(p.head_done());
  EXPECT_FALSE(p.has_body());
  EXPECT_EQ(p.content_length(), std::nullopt);
  EXPECT_EQ(p.put("Acc", ec), 0u);
  EXPECT_EQ(ec, http::error::need_more);
  EXPECT_EQ(p.put("Accept: */*\r\n\r\n", ec), 15u);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(p.is_done());
  const header_list fields{{"Host", "a"}, {"Accept", "*/*"}};
  EXPECT_EQ(p.head().fields, fields);
}

TEST(http1_parser, pipelined_second_request_is_left_unconsumed) {
  constexpr std::string_view first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
  constexpr std::string_view second = "GET /two HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string wire = std::string(first) + std::string(second);
  http1::request_parser p;
  const auto r = feed_all(p, wire);
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(r.consumed, first);
  EXPECT_EQ(r.left, second);
}

TEST(http1_parser, pipelined_request_after_a_body_is_left_unconsumed) {
  constexpr std::string_view first = "POST /one HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  constexpr std::string_view second = "GET /two HTTP/1.1\r\n\r\n";
  const std::string wire = std::string(first) + std::string(second);
  http1::request_parser p;
  const auto r = feed_all(p, wire);
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(r.consumed, first);
  EXPECT_EQ(r.left, second);
}

// ---------------------------------------------------------------------------------------------
// Bodies

TEST(http1_parser, content_length_body_arrives_as_pieces_at_every_split) {
  constexpr std::string_view wire =
      "HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyz";
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    http1::response_parser p;
    const auto r = feed(p, wire, split);
    ASSERT_FALSE(r.ec) << "split " << split;
    ASSERT_TRUE(p.is_done()) << "split " << split;
    EXPECT_EQ(r.body, "abcdefghijklmnopqrstuvwxyz") << "split " << split;
    EXPECT_EQ(r.consumed, wire) << "split " << split;
    EXPECT_EQ(p.body_bytes(), 26u);
  }
  http1::response_parser p;
  const auto r = feed_bytewise(p, wire);
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(r.body, "abcdefghijklmnopqrstuvwxyz");
}

constexpr std::string_view chunked_response =
    "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Trailer: X-Checksum, X-Count\r\n"
    "\r\n"
    "5;name=value;flag\r\n"
    "hello\r\n"
    "1A\r\n"
    "abcdefghijklmnopqrstuvwxyz\r\n"
    "0;last=\"yes\"\r\n"
    "X-Checksum: 1234\r\n"
    "x-count: 2\r\n"
    "\r\n";

TEST(http1_parser, chunked_body_with_extensions_and_trailers) {
  for (std::size_t split = 0; split <= chunked_response.size(); ++split) {
    http1::response_parser p;
    const auto r = feed(p, chunked_response, split);
    ASSERT_FALSE(r.ec) << "split " << split << ": " << r.ec.message();
    ASSERT_TRUE(p.is_done()) << "split " << split;
    EXPECT_TRUE(p.chunked());
    EXPECT_EQ(r.body, "helloabcdefghijklmnopqrstuvwxyz") << "split " << split;
    EXPECT_EQ(p.body_bytes(), 31u);
    // Every framing byte was consumed: the driver relays chunk framing verbatim.
    EXPECT_EQ(r.consumed, chunked_response) << "split " << split;
    const header_list head_fields{{"Transfer-Encoding", "chunked"},
                                  {"Trailer", "X-Checksum, X-Count"}};
    EXPECT_EQ(p.head().fields, head_fields) << "split " << split;
    const header_list trailers{{"X-Checksum", "1234"}, {"x-count", "2"}};
    EXPECT_EQ(p.trailers(), trailers) << "split " << split;
  }
  http1::response_parser p;
  const auto r = feed_bytewise(p, chunked_response);
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(r.body, "helloabcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(p.trailers().size(), 2u);
}

TEST(http1_parser, chunked_request_without_trailers) {
  constexpr std::string_view wire =
      "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  http1::request_parser p;
  const auto r = feed_all(p, wire);
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(r.body, "abc");
  EXPECT_TRUE(p.trailers().empty());
  EXPECT_EQ(p.head().fields.size(), 1u);
}

TEST(http1_parser, bad_chunk_size_is_an_error) {
  http1::response_parser p;
  const auto r =
      feed_all(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(r.ec, http::error::bad_chunk);
}

TEST(http1_parser, close_delimited_response_is_completed_by_put_eof) {
  constexpr std::string_view wire =
      "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close";
  http1::response_parser p;
  const auto r = feed_all(p, wire);
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(p.need_eof());
  EXPECT_TRUE(p.has_body());
  EXPECT_FALSE(p.is_done());
  EXPECT_EQ(r.body, "until close");
  EXPECT_EQ(r.consumed, wire);
  boost::system::error_code ec;
  p.put_eof(ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(p.is_done());
  EXPECT_FALSE(p.has_body());  // nothing more to come
  EXPECT_EQ(p.body_bytes(), 11u);
}

TEST(http1_parser, put_eof_in_a_length_delimited_body_is_partial_message) {
  http1::response_parser p;
  ASSERT_FALSE(feed_all(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").ec);
  boost::system::error_code ec;
  p.put_eof(ec);
  EXPECT_EQ(ec, http::error::partial_message);
  EXPECT_FALSE(p.is_done());
}

TEST(http1_parser, put_eof_before_any_byte_is_partial_message) {
  http1::response_parser p;
  boost::system::error_code ec;
  p.put_eof(ec);
  EXPECT_EQ(ec, http::error::partial_message);
}

TEST(http1_parser, put_eof_inside_the_head_is_partial_message) {
  http1::response_parser p;
  const auto r = feed_all(p, "HTTP/1.1 200 OK\r\nContent-");
  EXPECT_FALSE(r.ec);
  EXPECT_FALSE(p.head_done());
  boost::system::error_code ec;
  p.put_eof(ec);
  EXPECT_EQ(ec, http::error::partial_message);
}

TEST(http1_parser, head_response_with_skip_body_has_no_body) {
  constexpr std::string_view wire = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  http1::response_parser p;
  p.skip_body();
  const auto r = feed_all(p, std::string(wire) + "HTTP/1.1 200 OK\r\n");
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(p.is_done());
  EXPECT_FALSE(p.has_body());
  EXPECT_EQ(r.consumed, wire);
  EXPECT_EQ(p.content_length(), 1000u);  // what the header says, for the record
}

TEST(http1_parser, status_204_and_304_have_no_body_whatever_the_headers_say) {
  for (const std::string_view wire : {
           std::string_view("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"),
           std::string_view("HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n"),
           std::string_view("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"),
       }) {
    http1::response_parser p;
    const auto r = feed_all(p, std::string(wire) + "HTTP/1.1 200 OK\r\n");
    ASSERT_FALSE(r.ec) << wire;
    EXPECT_TRUE(p.is_done()) << wire;
    EXPECT_FALSE(p.has_body()) << wire;
    EXPECT_FALSE(p.need_eof()) << wire;
    EXPECT_EQ(r.consumed, wire);
  }
}

TEST(http1_parser, interim_1xx_response_is_a_complete_message) {
  http1::response_parser p;
  const auto r = feed_all(p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n");
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(p.head().status, 100);
  EXPECT_EQ(r.consumed, "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_FALSE(p.has_body());
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A request head of about `size` bytes (many 112-byte fields), terminated. */
std::string big_request_head(std::size_t size) {
  std::string wire = "GET / HTTP/1.1\r\n";
  const std::string field = "X-Filler: " + std::string(100, 'f') + "\r\n";
  while (wire.size() + field.size() + 2 <= size) {
    wire += field;
  }
  wire += "\r\n";
  return wire;
}

/** Feeds `wire` `step` bytes at a time, dropping what put() consumed, as client_session does. */
boost::system::error_code feed_in_steps(http1::request_parser& p, std::string_view wire,
                                        std::size_t step) {
  boost::system::error_code ec;
  std::string buffer;
  for (std::size_t at = 0; at < wire.size() && !p.head_done(); at += step) {
    buffer += wire.substr(at, step);
    buffer.erase(0, p.put(buffer, ec));
    if (ec && ec != http::error::need_more) {
      return ec;
    }
  }
  return p.head_done() ? boost::system::error_code{} : ec;
}

TEST(http1_parser, header_over_64_kib_is_header_limit) {
  const auto wire = big_request_head(std::size_t{70} * 1024);
  http1::request_parser whole;
  EXPECT_EQ(feed_all(whole, wire).ec, http::error::header_limit);
  EXPECT_FALSE(whole.head_done());
}

TEST(http1_parser, header_limit_covers_the_whole_section_across_calls) {
  // Beast consumes complete lines as they arrive, so its own limit only sees one call's
  // unconsumed bytes; the section as a whole must still be limited.
  for (const std::size_t step : {std::size_t{1000}, std::size_t{16} * 1024, std::size_t{60000}}) {
    http1::request_parser p;
    EXPECT_EQ(feed_in_steps(p, big_request_head(std::size_t{70} * 1024), step),
              http::error::header_limit)
        << "step " << step;
    EXPECT_FALSE(p.head_done()) << "step " << step;
  }
  // A single field line longer than the limit, with no line end yet.
  http1::request_parser p;
  EXPECT_EQ(feed_in_steps(
                p, "GET / HTTP/1.1\r\nX-Long: " + std::string(std::size_t{70} * 1024, 'x'), 4096),
            http::error::header_limit);
}

TEST(http1_parser, header_limit_is_configurable) {
  http1::request_parser p(64);
  EXPECT_EQ(feed_in_steps(p, big_request_head(300), 10), http::error::header_limit);
  http1::request_parser q(400);
  EXPECT_FALSE(feed_in_steps(q, big_request_head(300), 10));
  EXPECT_TRUE(q.is_done());
}

TEST(http1_parser, header_just_under_the_limit_is_accepted) {
  const auto wire = big_request_head(http1::max_header_bytes - 10);
  for (const std::size_t step : {std::size_t{1000}, wire.size()}) {
    http1::request_parser p;
    EXPECT_FALSE(feed_in_steps(p, wire, step)) << "step " << step;
    EXPECT_TRUE(p.is_done()) << "step " << step;
  }
}

TEST(http1_parser, malformed_request_line_is_an_error) {
  for (const std::string_view wire : {
           std::string_view("GET /x HTP/1.1\r\n\r\n"),
           std::string_view("GET\r\n\r\n"),
           std::string_view("GET /x HTTP/1.1 extra\r\n\r\n"),
           std::string_view("G(T /x HTTP/1.1\r\n\r\n"),
       }) {
    http1::request_parser p;
    const auto r = feed_all(p, wire);
    EXPECT_TRUE(r.ec) << wire;
    EXPECT_NE(r.ec, http::error::need_more) << wire;
    EXPECT_FALSE(p.head_done()) << wire;
  }
}

TEST(http1_parser, malformed_status_line_is_an_error) {
  http1::response_parser p;
  const auto r = feed_all(p, "HTTP/1.1 2x0 OK\r\n\r\n");
  EXPECT_TRUE(r.ec);
  EXPECT_FALSE(p.head_done());
}

TEST(http1_parser, bad_header_line_is_an_error) {
  for (const std::string_view wire : {
           std::string_view("GET / HTTP/1.1\r\nHost example.com\r\n\r\n"),
           std::string_view("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"),
           std::string_view("GET / HTTP/1.1\r\n: empty name\r\n\r\n"),
       }) {
    http1::request_parser p;
    const auto r = feed_all(p, wire);
    EXPECT_TRUE(r.ec) << wire;
    EXPECT_NE(r.ec, http::error::need_more) << wire;
  }
}

TEST(http1_parser, content_length_with_transfer_encoding_is_an_error) {
  // RFC 9112 §6.3: a message with both is a request smuggling vector; Hark rejects it.
  http1::request_parser cl_first;
  EXPECT_EQ(feed_all(cl_first,
                     "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
                .ec,
            http::error::bad_transfer_encoding);
  http1::request_parser te_first;
  EXPECT_EQ(feed_all(te_first,
                     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n")
                .ec,
            http::error::bad_content_length);
}

TEST(http1_parser, request_transfer_coding_other_than_final_chunked_is_an_error) {
  // RFC 9112 §6.3: the body length of such a request cannot be determined; taking it as
  // bodiless would let its body pass as the next request (smuggling).
  for (const std::string_view wire : {
           std::string_view("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
           std::string_view("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
       }) {
    http1::request_parser p;
    const auto r = feed_all(p, std::string(wire) + "GET /smuggled HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.ec, http::error::bad_transfer_encoding) << wire;
    EXPECT_FALSE(p.head_done()) << wire;
  }
  http1::request_parser ok;
  const auto r =
      feed_all(ok, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  EXPECT_FALSE(r.ec);
  EXPECT_TRUE(ok.is_done());
}

TEST(http1_parser, response_transfer_coding_without_chunked_is_close_delimited) {
  http1::response_parser p;
  const auto r = feed_all(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nbytes");
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(p.need_eof());
  EXPECT_EQ(r.body, "bytes");
}

TEST(http1_parser, conflicting_content_lengths_are_an_error) {
  http1::request_parser p;
  EXPECT_EQ(feed_all(p, "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").ec,
            http::error::multiple_content_length);
  http1::request_parser q;
  EXPECT_EQ(feed_all(q, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").ec,
            http::error::bad_content_length);
}

TEST(http1_parser, upgrade_request_is_flagged) {
  http1::request_parser p;
  ASSERT_FALSE(feed_all(p,
                        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
                        "Upgrade: websocket\r\n\r\n")
                   .ec);
  EXPECT_TRUE(p.upgrade());
  http1::request_parser q;
  ASSERT_FALSE(feed_all(q, "GET / HTTP/1.1\r\nHost: a\r\n\r\n").ec);
  EXPECT_FALSE(q.upgrade());
}

}  // namespace
