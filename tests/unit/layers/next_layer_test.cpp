// The next_layer table (include/hark/layers/next_layer.hpp), rule by rule, and the
// classification of a tunnel's first bytes. No sockets: the table is a pure function.

#include "hark/layers/next_layer.hpp"

#include <gtest/gtest.h>

namespace {

using namespace hark::layers;

connection_facts facts(step last) {
  connection_facts f;
  f.last = last;
  f.interception = true;
  return f;
}

connection_facts peeked(tunnel_bytes b, bool interception = true) {
  auto f = facts(step::tunnel_peeked);
  f.peeked = b;
  f.interception = interception;
  return f;
}

connection_facts intercepted(std::string alpn) {
  auto f = facts(step::tls_intercepted);
  f.alpn = std::move(alpn);
  return f;
}

connection_facts upgraded(upgrade_kind k) {
  auto f = facts(step::upgraded);
  f.upgrade = k;
  return f;
}

TEST(next_layer, follows_the_table_rule_by_rule) {
  struct row {
    int rule;
    connection_facts facts;
    layer expected;
  };
  const row rows[] = {
      {1, facts(step::accepted), layer::http1},
      {2, facts(step::connect_requested), layer::connect},
      {3, peeked(tunnel_bytes::tls_hello), layer::tls},
      {4, peeked(tunnel_bytes::tls_hello, false), layer::raw_relay},
      {5, peeked(tunnel_bytes::h2_preface), layer::http2},
      {6, peeked(tunnel_bytes::http1), layer::http1},
      {7, peeked(tunnel_bytes::other), layer::raw_relay},
      {8, facts(step::tls_passthrough), layer::raw_relay},
      {9, intercepted("h2"), layer::http2},
      {10, intercepted("http/1.1"), layer::http1},
      {10, intercepted(""), layer::http1},
      {11, upgraded(upgrade_kind::websocket), layer::websocket},
      {12, upgraded(upgrade_kind::other), layer::raw_relay},
      {13, facts(step::ended), layer::done},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(to_string(next_layer(r.facts)), std::string(to_string(r.expected)))
        << "rule " << r.rule;
  }
}

TEST(next_layer, interception_off_never_chooses_tls) {
  for (auto b : {tunnel_bytes::tls_hello, tunnel_bytes::h2_preface, tunnel_bytes::http1,
                 tunnel_bytes::other}) {
    EXPECT_NE(next_layer(peeked(b, false)), layer::tls);
  }
}

TEST(classify_tunnel_bytes, tells_tls_h2_http1_and_other_apart) {
  EXPECT_EQ(classify_tunnel_bytes("\x16\x03\x01"), tunnel_bytes::tls_hello);
  EXPECT_EQ(classify_tunnel_bytes("\x16"), tunnel_bytes::tls_hello);
  EXPECT_EQ(classify_tunnel_bytes("PRI * HTTP/2.0\r\n"), tunnel_bytes::h2_preface);
  EXPECT_EQ(classify_tunnel_bytes("GET / HTTP/1.1\r\n"), tunnel_bytes::http1);
  EXPECT_EQ(classify_tunnel_bytes("POST"), tunnel_bytes::http1);
  EXPECT_EQ(classify_tunnel_bytes(std::string_view("\x00\xff", 2)), tunnel_bytes::other);
  EXPECT_EQ(classify_tunnel_bytes("get / HTTP/1.1"),
            tunnel_bytes::other);                                    // methods are upper case
  EXPECT_EQ(classify_tunnel_bytes("SSH-2.0"), tunnel_bytes::http1);  // looks like a method
}

TEST(classify_tunnel_bytes, asks_for_more_until_four_bytes_decide) {
  EXPECT_EQ(classify_tunnel_bytes(""), std::nullopt);
  EXPECT_EQ(classify_tunnel_bytes("P"), std::nullopt);
  EXPECT_EQ(classify_tunnel_bytes("PRI"), std::nullopt);
  EXPECT_EQ(classify_tunnel_bytes("PRI "), tunnel_bytes::h2_preface);
  EXPECT_EQ(classify_tunnel_bytes("PRIX"), tunnel_bytes::http1);
}

}  // namespace
