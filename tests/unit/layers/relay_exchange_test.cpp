// Relayed HTTP/1.x exchanges over loopback: what the origin receives, what the client receives,
// byte for byte, and what capture is told.

#include "relay_fixture.hpp"

#include <future>

namespace {

using namespace hark::test;

// ---------------------------------------------------------------------------------------------
// Absolute-form requests

constexpr std::string_view chunked_response =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Trailer: X-Checksum\r\n"
    "x-served-by: origin\r\n"
    "Set-Cookie: a=1\r\n"
    "Set-Cookie: b=2\r\n"
    "\r\n"
    "5;ext=1\r\n"
    "hello\r\n"
    "7\r\n"
    ", world\r\n"
    "0\r\n"
    "X-Checksum: abc\r\n"
    "\r\n";

TEST_F(relay, absolute_form_get_is_forwarded_as_origin_form_and_the_response_byte_exact) {
  std::string origin_saw;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    origin_saw = c->read_until("\r\n\r\n");
    c->send(chunked_response);
  });
  const auto a = authority(origin.port());
  auto client = connect();
  client.send("GET http://" + a + "/path/to?q=1&r=%20 HTTP/1.1\r\n" + "Host: " + a + "\r\n" +
              "User-Agent: script/1.0\r\n"
              "x-lower-case: kept\r\n"
              "Proxy-Connection: keep-alive\r\n"
              "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
              "Connection: X-Hop, keep-alive\r\n"
              "X-Hop: dropped\r\n"
              "Keep-Alive: timeout=5\r\n"
              "TE: trailers\r\n"
              "Accept: */*\r\n"
              "Accept: text/plain\r\n"
              "\r\n");
  EXPECT_EQ(client.read_exact(chunked_response.size()), chunked_response);
  origin.join();
  EXPECT_EQ(origin_saw,
            "GET /path/to?q=1&r=%20 HTTP/1.1\r\n"
            "Host: " +
                a + "\r\n" +
                "User-Agent: script/1.0\r\n"
                "x-lower-case: kept\r\n"
                "TE: trailers\r\n"
                "Accept: */*\r\n"
                "Accept: text/plain\r\n"
                "\r\n");

  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  const auto& f = flows[0];
  EXPECT_EQ(f.events, complete_events);
  EXPECT_EQ(f.url, "http://" + a + "/path/to?q=1&r=%20");
  EXPECT_EQ(f.scheme, "http");
  EXPECT_EQ(f.host, "127.0.0.1");
  EXPECT_EQ(f.port, origin.port());
  // Capture sees the request as the client sent it, hop-by-hop fields included.
  EXPECT_EQ(f.request.method, "GET");
  EXPECT_EQ(f.request.fields.size(), 11u);
  EXPECT_EQ(f.request.fields[4],
            (std::pair<std::string, std::string>{"Proxy-Authorization", "Basic Zm9vOmJhcg=="}));
  ASSERT_TRUE(f.response);
  EXPECT_EQ(f.response->status, 200);
  EXPECT_EQ(f.response->fields.size(), 6u);
  EXPECT_EQ(f.response_body, "hello, world");
  EXPECT_EQ(f.response_trailers, (header_list{{"X-Checksum", "abc"}}));
  EXPECT_EQ(f.request_trailers, header_list{});
  EXPECT_EQ(f.error_code(), "");
  ASSERT_TRUE(f.remote_addr);
  EXPECT_EQ(f.remote_addr->ip, "127.0.0.1");
  EXPECT_EQ(f.remote_addr->port, origin.port());
  EXPECT_TRUE(f.measured_wait);
}

TEST_F(relay, keep_alive_reuses_the_upstream_connection_across_requests_and_clients) {
  std::vector<std::string> origin_saw;
  bool second_connection = true;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    for (const std::string_view body : {"one", "two", "three"}) {
      origin_saw.push_back(c->read_until("\r\n\r\n"));
      c->send(ok_response(body));
    }
    second_connection = l.accept(100ms).has_value();
  });
  const auto port = origin.port();
  {
    auto client = connect();
    client.send(proxy_get(port, "/1"));
    EXPECT_EQ(client.read_exact(ok_response("one").size()), ok_response("one"));
    client.send(proxy_get(port, "/2"));
    EXPECT_EQ(client.read_exact(ok_response("two").size()), ok_response("two"));
  }
  // The pool belongs to the worker, not to the client connection.
  sink_.wait_ended(2);
  auto other = connect();
  other.send(proxy_get(port, "/3"));
  EXPECT_EQ(other.read_exact(ok_response("three").size()), ok_response("three"));
  origin.join();
  EXPECT_EQ(origin_saw, (std::vector<std::string>{origin_get(port, "/1"), origin_get(port, "/2"),
                                                  origin_get(port, "/3")}));
  EXPECT_FALSE(second_connection);
  const auto flows = sink_.wait_ended(3);
  ASSERT_EQ(flows.size(), 3u);
  for (const auto& f : flows) {
    EXPECT_EQ(f.events, complete_events);
    EXPECT_EQ(f.error_code(), "");
  }
  EXPECT_EQ(flows[2].response_body, "three");
}

TEST_F(relay, pipelined_requests_are_answered_in_order) {
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    for (const std::string_view body : {"first", "second"}) {
      c->read_until("\r\n\r\n");
      c->send(ok_response(body));
    }
  });
  auto client = connect();
  client.send(proxy_get(origin.port(), "/a") + proxy_get(origin.port(), "/b"));
  const auto expected = ok_response("first") + ok_response("second");
  EXPECT_EQ(client.read_exact(expected.size()), expected);
  origin.join();
  const auto flows = sink_.wait_ended(2);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].request.target, "http://" + authority(origin.port()) + "/a");
  EXPECT_EQ(flows[1].request.target, "http://" + authority(origin.port()) + "/b");
}

TEST_F(relay, request_failing_on_a_reused_connection_is_retried_on_a_new_one) {
  std::string retried;
  scripted_origin origin([&](script_listener& l) {
    auto first = l.accept();
    if (!first) {
      return;
    }
    first->read_until("\r\n\r\n");
    first->send(ok_response("one"));
    first->read_until("\r\n\r\n");
    first->close();  // the origin drops the idle connection just as the request arrives
    auto second = l.accept();
    if (!second) {
      return;
    }
    retried = second->read_until("\r\n\r\n");
    second->send(ok_response("two"));
  });
  auto client = connect();
  client.send(proxy_get(origin.port(), "/1"));
  EXPECT_EQ(client.read_exact(ok_response("one").size()), ok_response("one"));
  client.send(proxy_get(origin.port(), "/2"));
  EXPECT_EQ(client.read_exact(ok_response("two").size()), ok_response("two"));
  origin.join();
  EXPECT_EQ(retried, origin_get(origin.port(), "/2"));
  const auto flows = sink_.wait_ended(2);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[1].events, complete_events);  // one request_end, however many attempts
  EXPECT_EQ(flows[1].error_code(), "");
  EXPECT_EQ(flows[1].response_body, "two");
}

TEST_F(relay, pooled_connection_closed_by_the_origin_while_idle_is_not_reused) {
  std::promise<void> closed;
  std::string second_saw;
  scripted_origin origin([&](script_listener& l) {
    {
      auto first = l.accept();
      if (!first) {
        return;
      }
      first->read_until("\r\n\r\n");
      first->send(ok_response("one"));
    }  // closed while idle in the proxy's pool
    closed.set_value();
    auto second = l.accept();
    if (!second) {
      return;
    }
    second_saw = second->read_until("\r\n\r\n");
    second->send(ok_response("two"));
  });
  auto client = connect();
  client.send(proxy_get(origin.port(), "/1"));
  EXPECT_EQ(client.read_exact(ok_response("one").size()), ok_response("one"));
  ASSERT_EQ(closed.get_future().wait_for(hark::test::wait_limit), std::future_status::ready);
  client.send(proxy_get(origin.port(), "/2"));
  EXPECT_EQ(client.read_exact(ok_response("two").size()), ok_response("two"));
  origin.join();
  EXPECT_EQ(second_saw, origin_get(origin.port(), "/2"));
  const auto flows = sink_.wait_ended(2);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[1].events, complete_events);
  EXPECT_EQ(flows[1].error_code(), "");
}

// ---------------------------------------------------------------------------------------------
// Request bodies and interim responses

TEST_F(relay, post_with_content_length_body_is_streamed_to_the_origin) {
  std::string origin_saw;
  const std::string body = "name=hark&value=" + std::string(std::size_t{100} * 1024, 'v');
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    origin_saw = c->read_until("\r\n\r\n");
    origin_saw += c->read_exact(body.size());
    c->send(ok_response("stored"));
  });
  const auto a = authority(origin.port());
  const std::string head = "POST /form HTTP/1.1\r\nHost: " + a +
                           "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                           "Content-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n";
  auto client = connect();
  client.send("POST http://" + a + head.substr(5) + body);
  EXPECT_EQ(client.read_exact(ok_response("stored").size()), ok_response("stored"));
  origin.join();
  EXPECT_EQ(origin_saw.size(), head.size() + body.size());
  EXPECT_TRUE(origin_saw == head + body) << origin_saw.substr(0, 200);
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].events,
            "request_head request_body request_end response_head response_body response_end "
            "flow_end");
  EXPECT_TRUE(flows[0].request_body == body);
  EXPECT_EQ(flows[0].response_body, "stored");
}

TEST_F(relay, chunked_request_body_is_relayed_verbatim_and_captured_decoded) {
  constexpr std::string_view chunked_body =
      "4;note=x\r\nwiki\r\n5\r\npedia\r\n0\r\nX-Request-Trailer: yes\r\n\r\n";
  std::string origin_saw;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    origin_saw = c->read_until("\r\n\r\n");
    origin_saw += c->read_until("\r\n\r\n");  // chunks up to the end of the trailers
    c->send(ok_response("ok"));
  });
  const auto a = authority(origin.port());
  auto client = connect();
  client.send("PUT http://" + a + "/wiki HTTP/1.1\r\nHost: " + a +
              "\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(chunked_body));
  EXPECT_EQ(client.read_exact(ok_response("ok").size()), ok_response("ok"));
  origin.join();
  EXPECT_EQ(origin_saw, "PUT /wiki HTTP/1.1\r\nHost: " + a +
                            "\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(chunked_body));
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].request_body, "wikipedia");
  EXPECT_EQ(flows[0].request_trailers, (header_list{{"X-Request-Trailer", "yes"}}));
  EXPECT_EQ(flows[0].error_code(), "");
}

TEST_F(relay, expect_100_continue_reaches_the_client_before_the_body_is_sent) {
  constexpr std::string_view continue_head = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string final_response = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  std::string origin_saw;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    origin_saw = c->read_until("\r\n\r\n");
    c->send(continue_head);
    origin_saw += c->read_exact(5);
    c->send(final_response);
  });
  const auto a = authority(origin.port());
  auto client = connect();
  client.send("POST http://" + a + "/upload HTTP/1.1\r\nHost: " + a +
              "\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  // The client holds the body back until it sees the interim response.
  EXPECT_EQ(client.read_exact(continue_head.size()), continue_head);
  client.send("hello");
  EXPECT_EQ(client.read_exact(final_response.size()), final_response);
  origin.join();
  EXPECT_EQ(origin_saw, "POST /upload HTTP/1.1\r\nHost: " + a +
                            "\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello");
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  ASSERT_TRUE(flows[0].response);
  EXPECT_EQ(flows[0].response->status, 201);  // capture sees the final response only
  EXPECT_EQ(flows[0].request_body, "hello");
  EXPECT_EQ(flows[0].response_body, "ok");
  EXPECT_EQ(flows[0].error_code(), "");
}

TEST_F(relay, response_head_arriving_in_pieces_is_relayed_whole) {
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    send_in_pieces(*c, {"HTTP/1.1 200 OK\r\n", "Content-Le", "ngth: 2\r\nX-A: 1\r\n", "\r\nok"});
  });
  auto client = connect();
  client.send(proxy_get(origin.port(), "/"));
  const std::string expected = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok";
  EXPECT_EQ(client.read_exact(expected.size()), expected);
  origin.join();
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].error_code(), "");
  ASSERT_TRUE(flows[0].response);
  EXPECT_EQ(flows[0].response->fields, (header_list{{"Content-Length", "2"}, {"X-A", "1"}}));
}

TEST_F(relay, interim_response_arriving_in_pieces_is_forwarded_whole) {
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    send_in_pieces(*c, {"HTTP/1.1 103 Early Hints\r\n", "Link: </s.css>; rel=preload\r\n", "\r\n",
                        ok_response("ok")});
  });
  auto client = connect();
  client.send(proxy_get(origin.port(), "/"));
  const std::string expected =
      "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" + ok_response("ok");
  EXPECT_EQ(client.read_exact(expected.size()), expected);
  origin.join();
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].error_code(), "");
  ASSERT_TRUE(flows[0].response);
  EXPECT_EQ(flows[0].response->status, 200);
}

// ---------------------------------------------------------------------------------------------
// Response framings

TEST_F(relay, close_delimited_response_is_relayed_then_the_client_connection_closed) {
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    send_in_pieces(
        *c, {"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part, ", "second part"});
  });  // the origin closes: the end of the body
  auto client = connect();
  client.send(proxy_get(origin.port(), "/stream"));
  EXPECT_EQ(client.read_to_eof(),
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
            "first part, second part");
  EXPECT_TRUE(client.eof());
  origin.join();
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].events, complete_events);
  EXPECT_EQ(flows[0].response_body, "first part, second part");
  EXPECT_EQ(flows[0].error_code(), "");
}

TEST_F(relay, head_response_has_no_body_and_the_connection_carries_on) {
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    c->send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    c->read_until("\r\n\r\n");
    c->send("HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n");
    c->read_until("\r\n\r\n");
    c->send(ok_response("after"));
  });
  const auto a = authority(origin.port());
  auto client = connect();
  client.send("HEAD http://" + a + "/big HTTP/1.1\r\nHost: " + a + "\r\n\r\n");
  EXPECT_EQ(client.read_until("\r\n\r\n"), "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  client.send(proxy_get(origin.port(), "/cached"));
  EXPECT_EQ(client.read_until("\r\n\r\n"),
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n");
  client.send(proxy_get(origin.port(), "/after"));
  EXPECT_EQ(client.read_exact(ok_response("after").size()), ok_response("after"));
  origin.join();
  const auto flows = sink_.wait_ended(3);
  ASSERT_EQ(flows.size(), 3u);
  for (const auto& f : flows) {
    EXPECT_EQ(f.error_code(), "");
  }
  EXPECT_EQ(flows[0].response_body, "");
  EXPECT_EQ(flows[1].response_body, "");
}

TEST_F(relay, http10_client_keeps_its_connection_only_when_it_asks) {
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    for (int i = 0; i < 2; ++i) {
      c->read_until("\r\n\r\n");
      c->send(ok_response("x"));
    }
  });
  const auto a = authority(origin.port());
  auto client = connect();
  client.send("GET http://" + a + "/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(client.read_exact(ok_response("x", "Connection: keep-alive\r\n").size()),
            ok_response("x", "Connection: keep-alive\r\n"));
  client.send("GET http://" + a + "/ HTTP/1.0\r\n\r\n");
  EXPECT_EQ(client.read_to_eof(), ok_response("x", "Connection: close\r\n"));
  EXPECT_TRUE(client.eof());
}

TEST_F(relay, origin_closing_mid_response_closes_the_client_connection) {
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    c->send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
  });
  auto client = connect();
  client.send(proxy_get(origin.port(), "/"));
  EXPECT_EQ(client.read_to_eof(), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
  EXPECT_TRUE(client.eof());
  origin.join();
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].error_code(), "upstream_reset");
  EXPECT_EQ(flows[0].response_body, "only ten b");
  EXPECT_EQ(flows[0].events, "request_head request_end response_head response_body flow_end");
}

TEST_F(relay, websocket_upgrade_becomes_a_raw_tunnel) {
  std::string origin_saw;
  std::string frames_seen;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    origin_saw = c->read_until("\r\n\r\n");
    c->send(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    frames_seen = c->read_exact(7);
    c->send(
        "\x81\x03"
        "abc");
  });
  const auto a = authority(origin.port());
  auto client = connect();
  client.send("GET http://" + a + "/chat HTTP/1.1\r\nHost: " + a +
              "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(client.read_until("\r\n\r\n"),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  client.send(
      "\x81\x81"
      "MASKx");
  EXPECT_EQ(client.read_exact(5),
            "\x81\x03"
            "abc");
  origin.join();
  EXPECT_EQ(origin_saw, "GET /chat HTTP/1.1\r\nHost: " + a +
                            "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(frames_seen,
            "\x81\x81"
            "MASKx");
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_TRUE(flows[0].is_websocket);
  ASSERT_TRUE(flows[0].response);
  EXPECT_EQ(flows[0].response->status, 101);
}

TEST_F(relay, absolute_form_without_a_path_asks_for_the_root) {
  std::string origin_saw;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    origin_saw = c->read_until("\r\n\r\n");
    c->send(ok_response("a"));
    origin_saw += c->read_until("\r\n\r\n");
    c->send(ok_response("b"));
  });
  const auto a = authority(origin.port());
  auto client = connect();
  client.send("GET http://" + a + " HTTP/1.1\r\nHost: " + a + "\r\n\r\n");
  EXPECT_EQ(client.read_exact(ok_response("a").size()), ok_response("a"));
  client.send("GET http://" + a + "?q=1 HTTP/1.1\r\nHost: " + a + "\r\n\r\n");
  EXPECT_EQ(client.read_exact(ok_response("b").size()), ok_response("b"));
  origin.join();
  EXPECT_EQ(origin_saw, "GET / HTTP/1.1\r\nHost: " + a +
                            "\r\n\r\nGET /?q=1 HTTP/1.1\r\nHost: " + a + "\r\n\r\n");
}

TEST_F(relay, request_head_arriving_in_pieces_is_forwarded_whole) {
  std::string origin_saw;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    origin_saw = c->read_until("\r\n\r\n");
    c->send(ok_response("ok"));
  });
  const auto a = authority(origin.port());
  auto client = connect();
  send_in_pieces(client, {"GET http://" + a + "/p", "iece HTTP/1.1\r\nHo", "st: " + a + "\r\n",
                          "X-Last: 1\r\n", "\r\n"});
  EXPECT_EQ(client.read_exact(ok_response("ok").size()), ok_response("ok"));
  origin.join();
  EXPECT_EQ(origin_saw, "GET /piece HTTP/1.1\r\nHost: " + a + "\r\nX-Last: 1\r\n\r\n");
}

}  // namespace
