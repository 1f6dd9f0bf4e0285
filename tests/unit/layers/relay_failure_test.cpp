// Upstream failures (synthetic 502/504, SPEC §2), bad client input (400/431) and client deadlines.

#include "relay_fixture.hpp"

namespace {

using namespace hark::test;

// ---------------------------------------------------------------------------------------------
// Upstream failures: synthetic responses (SPEC §2)

TEST_F(relay, refused_connect_is_502_connect_failed) {
  const auto port = hark::test::unused_port();
  auto client = connect();
  const std::string message = "hark: cannot connect to " + authority(port) + ": Connection refused";
  const auto expected =
      synthetic("502 Bad Gateway", "connect_failed", message + "\n", "keep-alive");
  client.send(proxy_get(port, "/"));
  EXPECT_EQ(client.read_exact(expected.size()), expected);
  // The client connection stays usable.
  client.send(proxy_get(port, "/again"));
  EXPECT_EQ(client.read_exact(expected.size()), expected);
  const auto flows = sink_.wait_ended(2);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].error_code(), "connect_failed");
  EXPECT_EQ(flows[0].error_message(), message);
  EXPECT_EQ(flows[0].events, "request_head request_end flow_end");
  EXPECT_FALSE(flows[0].response);  // no response was received (docs/api.md)
  EXPECT_FALSE(flows[0].remote_addr);
}

TEST_F(relay, refused_connect_with_a_request_body_closes_the_client_connection) {
  const auto port = hark::test::unused_port();
  auto client = connect();
  const std::string message = "hark: cannot connect to " + authority(port) + ": Connection refused";
  client.send("POST http://" + authority(port) + "/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(client.read_to_eof(),
            synthetic("502 Bad Gateway", "connect_failed", message + "\n", "close"));
  EXPECT_TRUE(client.eof());
}

TEST_F(relay, silent_upstream_is_504_upstream_timeout) {
  bool origin_saw_close = false;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    c->read_to_eof();  // says nothing; the proxy gives up and closes
    origin_saw_close = c->eof();
  });
  auto client = connect();
  const auto t0 = std::chrono::steady_clock::now();
  client.send(proxy_get(origin.port(), "/slow"));
  const std::string message = "hark: " + authority(origin.port()) + " did not answer within 1 s";
  const auto expected =
      synthetic("504 Gateway Timeout", "upstream_timeout", message + "\n", "keep-alive");
  EXPECT_EQ(client.read_exact(expected.size()), expected);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 3s);
  origin.join();
  EXPECT_TRUE(origin_saw_close);
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].error_code(), "upstream_timeout");
  EXPECT_EQ(flows[0].error_message(), message);
  EXPECT_FALSE(flows[0].response);
}

TEST_F(relay, unparsable_response_is_502_upstream_protocol) {
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    c->send("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  auto client = connect();
  client.send(proxy_get(origin.port(), "/"));
  const auto head = client.read_until("\r\n\r\n");
  EXPECT_EQ(head.substr(0, 25), "HTTP/1.1 502 Bad Gateway\r");
  EXPECT_NE(head.find("X-Hark-Error: upstream_protocol\r\n"), std::string::npos) << head;
  origin.join();
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].error_code(), "upstream_protocol");
}

// ---------------------------------------------------------------------------------------------
// Bad input from the client

TEST_F(relay, malformed_request_is_400_then_close) {
  auto client = connect();
  client.send("GET http://example.com/ HTTP/1.1\r\nBad Header Line\r\n\r\n");
  EXPECT_EQ(client.read_to_eof(),
            synthetic("400 Bad Request", "client_protocol", "hark: malformed request\n", "close"));
  EXPECT_TRUE(client.eof());
  EXPECT_TRUE(sink_.flows().empty());  // nothing to record: no method or URL (decisions.md)
}

TEST_F(relay, request_with_a_body_length_that_cannot_be_determined_is_400) {
  auto client = connect();
  client.send(
      "POST http://example.com/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"
      "GET http://example.com/smuggled HTTP/1.1\r\n\r\n");
  EXPECT_EQ(client.read_to_eof(),
            synthetic("400 Bad Request", "client_protocol", "hark: malformed request\n", "close"));
  EXPECT_TRUE(sink_.flows().empty());
}

TEST_F(relay, unsupported_absolute_target_is_400) {
  auto client = connect();
  client.send("GET ftp://example.com/file HTTP/1.1\r\n\r\n");
  EXPECT_EQ(client.read_to_eof(), synthetic("400 Bad Request", "client_protocol",
                                            "hark: invalid request target\n", "close"));
  EXPECT_TRUE(sink_.flows().empty());
}

TEST_F(relay, header_section_over_64_kib_is_431_then_close) {
  std::string head = "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n";
  while (head.size() < std::size_t{70} * 1024) {
    head += "X-Filler: " + std::string(200, 'f') + "\r\n";
  }
  head += "\r\n";
  auto client = connect();
  client.send(head);
  EXPECT_EQ(client.read_to_eof(),
            synthetic("431 Request Header Fields Too Large", "header_too_large",
                      "hark: request header section exceeds 64 KiB\n", "close"));
  EXPECT_TRUE(client.eof());
  EXPECT_TRUE(sink_.flows().empty());
}

TEST_F(relay, header_section_sent_slowly_over_64_kib_is_still_431) {
  // The proxy parses complete field lines as they arrive, so the limit must count what it
  // already parsed, not only what is buffered.
  auto client = connect();
  client.send("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n");
  const std::string field = "X-Filler: " + std::string(1000, 'f') + "\r\n";
  for (int i = 0; i < 80; ++i) {
    if (!client.send(field)) {
      break;  // the proxy answered and closed
    }
    if (i % 16 == 15) {
      std::this_thread::sleep_for(5ms);  // let the proxy read what was sent so far
    }
  }
  EXPECT_EQ(client.read_to_eof(),
            synthetic("431 Request Header Fields Too Large", "header_too_large",
                      "hark: request header section exceeds 64 KiB\n", "close"));
}

// ---------------------------------------------------------------------------------------------
// Client deadlines

hark::config one_second_config() {
  auto cfg = test_config();
  cfg.header_timeout = 1s;
  cfg.idle_timeout = 1s;
  return cfg;
}

class relay_deadlines : public relay {
 protected:
  relay_deadlines() : relay(one_second_config()) {}
};

TEST_F(relay_deadlines, silent_stalled_and_idle_clients_are_disconnected) {
  auto silent = connect();   // never sends a byte
  auto stalled = connect();  // starts a head and stops
  stalled.send("GET http://example.com/ HTTP/1.1\r\nHost: exa");
  auto idle = connect();  // one exchange, then nothing
  idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto [head, body] = read_response(idle);
  EXPECT_EQ(head.substr(0, 17), "HTTP/1.1 200 OK\r\n");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(silent.read_to_eof(), "");
  EXPECT_TRUE(silent.eof());
  EXPECT_EQ(stalled.read_to_eof(), "");
  EXPECT_TRUE(stalled.eof());
  EXPECT_EQ(idle.read_to_eof(), "");
  EXPECT_TRUE(idle.eof());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(sink_.flows().empty());
}

// The same deadlines hold between body chunks (SPEC §2): a body that stops flowing ends the
// exchange on both sides, and the entry says which side stalled.

TEST_F(relay_deadlines, request_body_that_stops_flowing_ends_after_the_idle_timeout) {
  std::string origin_saw;
  bool origin_saw_close = false;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    origin_saw = c->read_until("\r\n\r\n");
    origin_saw += c->read_to_eof();  // the three body bytes, then the proxy closes
    origin_saw_close = c->eof();
  });
  auto client = connect();
  const auto t0 = std::chrono::steady_clock::now();
  client.send("POST http://" + authority(origin.port()) +
              "/upload HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(client.read_to_eof(), "");  // no response started: the connection just closes
  EXPECT_TRUE(client.eof());
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 3s);
  origin.join();
  EXPECT_TRUE(origin_saw_close);
  EXPECT_TRUE(origin_saw.ends_with("\r\n\r\nabc")) << origin_saw;
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].error_code(), "client_timeout");
  EXPECT_EQ(flows[0].error_message(), "hark: the client sent no request body data for 1 s");
  EXPECT_EQ(flows[0].request_body, "abc");
}

TEST_F(relay, response_body_that_stops_flowing_ends_after_the_upstream_timeout) {
  bool origin_saw_close = false;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    c->send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    c->read_to_eof();  // sends nothing more; the proxy gives up and closes
    origin_saw_close = c->eof();
  });
  auto client = connect();
  const auto t0 = std::chrono::steady_clock::now();
  client.send(proxy_get(origin.port(), "/download"));
  EXPECT_EQ(client.read_to_eof(), "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_TRUE(client.eof());
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 900ms);  // test_config(): --upstream-timeout 1
  EXPECT_LT(elapsed, 3s);
  origin.join();
  EXPECT_TRUE(origin_saw_close);
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].error_code(), "upstream_timeout");
  EXPECT_EQ(flows[0].error_message(),
            "hark: " + authority(origin.port()) + " sent no response data for 1 s");
  EXPECT_EQ(flows[0].response_body, "abc");
}

TEST_F(relay, a_body_that_keeps_flowing_slowly_is_not_cut_off) {
  // Each chunk arrives within the deadline, the whole body takes longer than it.
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    c->send("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
    for (const char* piece : {"a", "b", "c", "d"}) {
      std::this_thread::sleep_for(400ms);
      c->send(piece);
    }
  });
  auto client = connect();
  client.send(proxy_get(origin.port(), "/slow"));
  const auto [head, body] = read_response(client);
  EXPECT_EQ(body, "abcd");
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].error_code(), "");
}

}  // namespace
