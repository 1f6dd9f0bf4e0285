// http1 codec: which fields a proxy forwards (SPEC §2), the exact bytes of the heads it writes,
// and Hark's synthetic responses.

#include "hark/layers/http1_codec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

namespace http1 = hark::layers::http1;
using hark::errc;
using hark::capture::header_list;
using hark::capture::http_head;

/** The fields of `fields` that `filter` forwards, in order. */
header_list forwarded(const header_list& fields, bool upgrading) {
  const http1::hop_by_hop_filter filter(fields, upgrading);
  header_list out;
  for (const auto& [name, value] : fields) {
    if (filter.forwards(name, value)) {
      out.emplace_back(name, value);
    }
  }
  return out;
}

TEST(http1_codec, iequals_and_has_token_ignore_ascii_case_and_spaces) {
  EXPECT_TRUE(http1::iequals("Content-Length", "content-length"));
  EXPECT_FALSE(http1::iequals("Content-Length", "content-lengt"));
  EXPECT_TRUE(http1::has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(http1::has_token(" close ", "close"));
  EXPECT_TRUE(http1::has_token("a,\tb ,c", "b"));
  EXPECT_FALSE(http1::has_token("upgrade-insecure", "upgrade"));
  EXPECT_FALSE(http1::has_token("", "close"));
  EXPECT_FALSE(http1::has_token(",,", "close"));
}

TEST(http1_codec, field_value_is_the_first_match_case_insensitive) {
  const header_list fields{{"Accept", "a"}, {"accept", "b"}, {"Host", "h"}};
  EXPECT_EQ(http1::field_value(fields, "ACCEPT"), "a");
  EXPECT_EQ(http1::field_value(fields, "host"), "h");
  EXPECT_EQ(http1::field_value(fields, "missing"), "");
}

TEST(http1_codec, hop_by_hop_fields_are_removed_and_the_rest_kept_in_order) {
  const header_list in{{"Host", "example.com"},
                       {"Connection", "X-Private, keep-alive"},
                       {"x-private", "secret"},
                       {"Proxy-Connection", "keep-alive"},
                       {"Keep-Alive", "timeout=5"},
                       {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                       {"Authorization", "Bearer t"},
                       {"TE", "gzip, trailers"},
                       {"Upgrade", "h2c"},
                       {"connection", "X-Other"},
                       {"X-Other", "also listed"},
                       {"Accept", "*/*"},
                       {"X-Kept", "kept"}};
  const header_list out{{"Host", "example.com"},
                        {"Authorization", "Bearer t"},
                        {"Accept", "*/*"},
                        {"X-Kept", "kept"}};
  EXPECT_EQ(forwarded(in, false), out);
}

TEST(http1_codec, te_trailers_is_forwarded) {
  const header_list in{{"TE", "trailers"}, {"te", " Trailers "}, {"TE", "deflate"}};
  const header_list out{{"TE", "trailers"}, {"te", " Trailers "}};
  EXPECT_EQ(forwarded(in, false), out);
}

TEST(http1_codec, upgrade_is_forwarded_only_when_upgrading) {
  const header_list in{{"Host", "h"},
                       {"Connection", "Upgrade"},
                       {"Upgrade", "websocket"},
                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  EXPECT_EQ(forwarded(in, true), in);
  const header_list plain{{"Host", "h"}, {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  EXPECT_EQ(forwarded(in, false), plain);
}

TEST(http1_codec, connection_without_upgrade_token_is_dropped_even_when_upgrading) {
  const header_list in{{"Connection", "close"}, {"Upgrade", "websocket"}};
  const header_list out{{"Upgrade", "websocket"}};
  EXPECT_EQ(forwarded(in, true), out);
}

TEST(http1_codec, write_request_head_exact_bytes) {
  http_head head;
  head.method = "POST";
  head.target = "http://example.com/submit?x=1";
  head.version = 11;
  head.fields = {{"Host", "example.com"},
                 {"content-type", "text/plain"},
                 {"Proxy-Connection", "keep-alive"},
                 {"Connection", "keep-alive"},
                 {"Content-Length", "3"},
                 {"X-Dup", "1"},
                 {"X-Dup", "2"}};
  std::string out = "prefix|";
  http1::write_request_head(out, head, "/submit?x=1", false);
  EXPECT_EQ(out,
            "prefix|"
            "POST /submit?x=1 HTTP/1.1\r\n"
            "Host: example.com\r\n"
            "content-type: text/plain\r\n"
            "Content-Length: 3\r\n"
            "X-Dup: 1\r\n"
            "X-Dup: 2\r\n"
            "\r\n");
}

TEST(http1_codec, write_request_head_for_an_upgrade_keeps_connection_upgrade) {
  http_head head;
  head.method = "GET";
  head.version = 11;
  head.fields = {{"Host", "h"}, {"Connection", "Upgrade"}, {"Upgrade", "websocket"}};
  std::string out;
  http1::write_request_head(out, head, "/chat", true);
  EXPECT_EQ(out,
            "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
}

TEST(http1_codec, write_response_head_exact_bytes_per_directive) {
  http_head head;
  head.status = 200;
  head.reason = "Fine";
  head.version = 10;
  head.fields = {{"Server", "o"},
                 {"Connection", "keep-alive"},
                 {"Keep-Alive", "timeout=1"},
                 {"content-length", "0"}};
  std::string none;
  http1::write_response_head(none, head, false, http1::connection_directive::none);
  EXPECT_EQ(none, "HTTP/1.0 200 Fine\r\nServer: o\r\ncontent-length: 0\r\n\r\n");
  std::string close;
  http1::write_response_head(close, head, false, http1::connection_directive::close);
  EXPECT_EQ(close,
            "HTTP/1.0 200 Fine\r\nServer: o\r\ncontent-length: 0\r\nConnection: close\r\n\r\n");
  std::string keep;
  http1::write_response_head(keep, head, false, http1::connection_directive::keep_alive);
  EXPECT_EQ(
      keep,
      "HTTP/1.0 200 Fine\r\nServer: o\r\ncontent-length: 0\r\nConnection: keep-alive\r\n\r\n");
}

TEST(http1_codec, write_response_head_keeps_an_empty_reason) {
  http_head head;
  head.status = 299;
  head.version = 11;
  std::string out;
  http1::write_response_head(out, head, false, http1::connection_directive::none);
  EXPECT_EQ(out, "HTTP/1.1 299 \r\n\r\n");
}

TEST(http1_codec, write_response_head_for_101_keeps_upgrade) {
  http_head head;
  head.status = 101;
  head.reason = "Switching Protocols";
  head.version = 11;
  head.fields = {
      {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", "x"}};
  std::string out;
  http1::write_response_head(out, head, true, http1::connection_directive::none);
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: x\r\n\r\n");
}

TEST(http1_codec, make_synthetic_error_exact_bytes) {
  const auto r = http1::make_synthetic(502, "Bad Gateway", errc::connect_failed,
                                       "hark: cannot connect to a:1: refused\n", true);
  EXPECT_EQ(r.wire,
            "HTTP/1.1 502 Bad Gateway\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Hark-Error: connect_failed\r\n"
            "Content-Length: 37\r\n"
            "Connection: close\r\n"
            "\r\n"
            "hark: cannot connect to a:1: refused\n");
  EXPECT_EQ(r.head.status, 502);
  EXPECT_EQ(r.head.reason, "Bad Gateway");
  EXPECT_EQ(r.head.version, 11u);
  EXPECT_EQ(r.body, "hark: cannot connect to a:1: refused\n");
  const header_list fields{{"Content-Type", "text/plain; charset=utf-8"},
                           {"X-Hark-Error", "connect_failed"},
                           {"Content-Length", "37"},
                           {"Connection", "close"}};
  EXPECT_EQ(r.head.fields, fields);
}

TEST(http1_codec, make_synthetic_without_error_has_no_x_hark_error) {
  const auto r =
      http1::make_synthetic(200, "OK", errc::ok, "<p>hi</p>", false, "text/html; charset=utf-8");
  EXPECT_EQ(r.wire,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            "Content-Length: 9\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"
            "<p>hi</p>");
}

TEST(http1_codec, make_synthetic_504_names_upstream_timeout) {
  const auto r = http1::make_synthetic(504, "Gateway Timeout", errc::upstream_timeout, "", false);
  EXPECT_EQ(r.wire,
            "HTTP/1.1 504 Gateway Timeout\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Hark-Error: upstream_timeout\r\n"
            "Content-Length: 0\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

}  // namespace
