// CONNECT tunnels (plaintext HTTP inside is captured, anything else relayed raw) and requests
// for the proxy itself (onboarding page, CA).

#include "relay_fixture.hpp"

namespace {

using namespace hark::test;

// ---------------------------------------------------------------------------------------------
// CONNECT

TEST_F(relay, connect_then_plaintext_http_is_captured_with_an_http_url) {
  std::string origin_saw;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    origin_saw = c->read_until("\r\n\r\n");
    c->send(ok_response("inside", "X-Tunnel: yes\r\n"));
  });
  const auto a = authority(origin.port());
  auto client = connect();
  client.send("CONNECT " + a + " HTTP/1.1\r\nHost: " + a + "\r\n\r\n");
  EXPECT_EQ(client.read_exact(connect_established.size()), connect_established);
  client.send("GET /inside?x=1 HTTP/1.1\r\nHost: " + a + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.read_to_eof(), ok_response("inside", "X-Tunnel: yes\r\nConnection: close\r\n"));
  origin.join();
  EXPECT_EQ(origin_saw, "GET /inside?x=1 HTTP/1.1\r\nHost: " + a + "\r\n\r\n");
  const auto flows = sink_.wait_ended(1);
  ASSERT_EQ(flows.size(), 1u);  // the CONNECT itself is not an entry
  EXPECT_EQ(flows[0].url, "http://" + a + "/inside?x=1");
  EXPECT_EQ(flows[0].host, "127.0.0.1");
  EXPECT_EQ(flows[0].port, origin.port());
  EXPECT_EQ(flows[0].request.target, "/inside?x=1");
  EXPECT_EQ(flows[0].events, complete_events);
  EXPECT_EQ(flows[0].response_body, "inside");
}

TEST_F(relay, connect_then_other_bytes_is_a_raw_relay_both_ways) {
  std::string origin_saw;
  scripted_origin origin([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    // An echo server until the client half-closes.
    for (std::string piece = c->read_some(); !piece.empty(); piece = c->read_some()) {
      origin_saw += piece;
      c->send(piece);
    }
  });
  const auto a = authority(origin.port());
  auto client = connect();
  client.send("CONNECT " + a + " HTTP/1.1\r\nHost: " + a + "\r\n\r\n");
  EXPECT_EQ(client.read_exact(connect_established.size()), connect_established);
  const std::string hello("\x16\x03\x01\x00\x05hello", 10);
  client.send(hello);
  EXPECT_EQ(client.read_exact(hello.size()), hello);
  const std::string binary("\x00\xff\x01 not http\r\n\r\n", 16);
  client.send(binary);
  EXPECT_EQ(client.read_exact(binary.size()), binary);
  client.shutdown_send();
  EXPECT_EQ(client.read_to_eof(), "");
  EXPECT_TRUE(client.eof());
  origin.join();
  EXPECT_EQ(origin_saw, hello + binary);
  EXPECT_EQ(services_.metrics.tunnels_relayed.load(), 1u);
  EXPECT_TRUE(sink_.flows().empty());  // raw tunnels are not entries
}

TEST_F(relay, connect_after_an_exchange_relays_only_the_tunnel_bytes) {
  // The first origin sends bytes after its response; they must not leak into a later tunnel.
  scripted_origin first([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    c->read_until("\r\n\r\n");
    c->send(ok_response("ok") + "LEFTOVER");
  });
  scripted_origin echo([&](script_listener& l) {
    auto c = l.accept();
    if (!c) {
      return;
    }
    for (std::string piece = c->read_some(); !piece.empty(); piece = c->read_some()) {
      c->send(piece);
    }
  });
  auto client = connect();
  client.send(proxy_get(first.port(), "/"));
  EXPECT_EQ(client.read_exact(ok_response("ok").size()), ok_response("ok"));
  first.join();
  const auto a = authority(echo.port());
  client.send("CONNECT " + a + " HTTP/1.1\r\nHost: " + a + "\r\n\r\n");
  EXPECT_EQ(client.read_exact(connect_established.size()), connect_established);
  client.send("\x16\x03\x01");
  client.shutdown_send();
  EXPECT_EQ(client.read_to_eof(), "\x16\x03\x01");
}

TEST_F(relay, connect_with_an_invalid_authority_is_400) {
  auto client = connect();
  client.send("CONNECT no-port-here HTTP/1.1\r\n\r\n");
  EXPECT_EQ(client.read_to_eof(), synthetic("400 Bad Request", "client_protocol",
                                            "hark: invalid CONNECT target\n", "close"));
}

// ---------------------------------------------------------------------------------------------
// Requests for the proxy itself

TEST_F(relay, origin_form_get_serves_the_onboarding_page) {
  auto client = connect();
  client.send("GET / HTTP/1.1\r\nHost: " + authority(proxy_port()) + "\r\n\r\n");
  const auto [head, body] = read_response(client);
  EXPECT_EQ(head.substr(0, 17), "HTTP/1.1 200 OK\r\n");
  EXPECT_NE(head.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Connection: keep-alive\r\n"), std::string::npos) << head;
  EXPECT_NE(body.find("Hark"), std::string::npos);
  EXPECT_NE(body.find("/ca.pem"), std::string::npos);
  EXPECT_NE(body.find(authority(proxy_port())), std::string::npos);

  // Same connection: the CA, then an unknown path.
  client.send("GET /ca.pem HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto [ca_head, ca_body] = read_response(client);
  EXPECT_NE(ca_head.find("Content-Type: application/x-pem-file\r\n"), std::string::npos);
  EXPECT_EQ(ca_body, services_.ca_pem);
  client.send("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.read_to_eof(),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 19\r\nConnection: close\r\n\r\nhark: no such page\n");
  EXPECT_TRUE(sink_.flows().empty());
}

TEST_F(relay, magic_host_serves_the_onboarding_page) {
  auto client = connect();
  client.send("GET http://hark.local/ HTTP/1.1\r\nHost: hark.local\r\n\r\n");
  const auto [head, body] = read_response(client);
  EXPECT_EQ(head.substr(0, 17), "HTTP/1.1 200 OK\r\n");
  EXPECT_NE(body.find("Hark"), std::string::npos);
}

}  // namespace
