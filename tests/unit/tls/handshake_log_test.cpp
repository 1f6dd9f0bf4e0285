// Decoding of the TLS connection log's messages (tls/handshake_log.hpp): byte scripts of
// ServerHellos, HelloRetryRequests, EncryptedExtensions, certificate messages (TLS 1.2 and 1.3
// forms) and alerts, well-formed and broken.

#include "hark/tls/handshake_log.hpp"

#include "hello_builder.hpp"
#include "tls_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace hark::tls;
using namespace hark::tls::test;
using json = nlohmann::json;

std::string handshake(std::uint8_t type, const std::string& body) {
  return u8(type) + u24(static_cast<unsigned>(body.size())) + body;
}

std::string random_bytes(char fill) {
  return std::string(32, fill);
}

/** A TLS 1.3 ServerHello: legacy version 0x0303, `random`, session id echo, one suite. */
std::string server_hello(const std::string& random, const std::string& extensions) {
  return handshake(2, u16(0x0303) + random + vec8("abc") + u16(0x1302) + u8(0) + vec16(extensions));
}

std::string der_of(X509* cert) {
  unsigned char* out = nullptr;
  const int length = i2d_X509(cert, &out);
  std::string der(reinterpret_cast<const char*>(out), static_cast<std::size_t>(length));
  OPENSSL_free(out);
  return der;
}

TEST(handshake_log, alert_level_and_description) {
  const auto out = describe_tls_message(content_type_alert, u8(2) + u8(48), false);
  EXPECT_EQ(out["type"], "alert");
  EXPECT_EQ(out["level"], (json{{"value", 2}, {"name", "fatal"}}));
  EXPECT_EQ(out["description"], (json{{"value", 48}, {"name", "unknown_ca"}}));
}

TEST(handshake_log, alert_of_wrong_length_is_an_error_not_a_guess) {
  const auto out = describe_tls_message(content_type_alert, u8(1), false);
  EXPECT_EQ(out["type"], "alert");
  EXPECT_EQ(out["error"], "an alert is 2 bytes");
  EXPECT_EQ(out["data"], "01");
  EXPECT_FALSE(out.contains("level"));
}

TEST(handshake_log, tls13_server_hello) {
  const std::string ext = u16(0x002b) + vec16(u16(0x0304)) +  // version
                          u16(0x0033) + vec16(u16(0x001d) + vec16(std::string(32, 'k')));
  const auto out =
      describe_tls_message(content_type_handshake, server_hello(random_bytes('\x11'), ext), true);
  EXPECT_EQ(out["type"], "server_hello");
  EXPECT_EQ(out["version"], (json{{"value", 0x0303}, {"name", "TLSv1.2"}}));
  EXPECT_EQ(out["random"], std::string(64, '1'));
  EXPECT_EQ(out["sessionId"], "616263");
  EXPECT_EQ(out["cipherSuite"], (json{{"value", 0x1302}, {"name", "TLS_AES_256_GCM_SHA384"}}));
  EXPECT_EQ(out["compressionMethod"]["name"], "null");
  ASSERT_EQ(out["extensions"].size(), 2U);
  EXPECT_EQ(out["extensions"][0]["type"]["name"], "supported_versions");
  EXPECT_EQ(out["extensions"][0]["version"]["name"], "TLSv1.3");
  EXPECT_EQ(out["extensions"][1]["group"]["name"], "x25519");
  EXPECT_EQ(out["extensions"][1]["keyExchangeLength"], 32);
}

TEST(handshake_log, hello_retry_request_is_named_and_has_only_the_group) {
  const std::string hrr_random =
      from_hex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");
  const std::string ext = u16(0x002b) + vec16(u16(0x0304)) + u16(0x0033) + vec16(u16(0x0017));
  const auto out =
      describe_tls_message(content_type_handshake, server_hello(hrr_random, ext), true);
  EXPECT_EQ(out["type"], "hello_retry_request");
  EXPECT_EQ(out["extensions"][1]["group"]["name"], "secp256r1");
  EXPECT_FALSE(out["extensions"][1].contains("keyExchangeLength"));
}

TEST(handshake_log, tls12_server_hello_without_extensions) {
  const std::string body = u16(0x0303) + random_bytes('\x22') + vec8("") + u16(0xc02b) + u8(0);
  const auto out = describe_tls_message(content_type_handshake, handshake(2, body), false);
  EXPECT_EQ(out["cipherSuite"]["name"], "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(out["extensions"], json::array());
}

TEST(handshake_log, server_alpn_and_unknown_extensions) {
  const std::string ext = u16(0x0010) + vec16(vec16(vec8("h2"))) + u16(0xff01) + vec16(u8(0)) +
                          u16(0x1234) + vec16("\x01\x02");
  const auto out = describe_tls_message(content_type_handshake, handshake(8, vec16(ext)), true);
  EXPECT_EQ(out["type"], "encrypted_extensions");
  ASSERT_EQ(out["extensions"].size(), 3U);
  EXPECT_EQ(out["extensions"][0]["protocols"], (json{"h2"}));
  EXPECT_EQ(out["extensions"][1]["type"]["name"], "renegotiation_info");
  EXPECT_EQ(out["extensions"][1]["data"], "00");
  EXPECT_EQ(out["extensions"][2]["type"]["name"], "unknown_0x1234");
  EXPECT_EQ(out["extensions"][2]["data"], "0102");
}

TEST(handshake_log, truncated_server_hello_keeps_its_bytes) {
  const std::string message = server_hello(random_bytes('\x33'), "");
  const std::string cut = message.substr(0, 20);
  const auto out = describe_tls_message(content_type_handshake, cut, true);
  EXPECT_EQ(out["type"], "server_hello");
  EXPECT_EQ(out["error"], "handshake length does not match the message");
  EXPECT_EQ(out["data"].get<std::string>().size(), 40U);
}

TEST(handshake_log, overrunning_extension_is_an_error) {
  const std::string ext = u16(0x002b) + u16(10) + u16(0x0304);  // says 10 bytes, has 2
  const auto out =
      describe_tls_message(content_type_handshake, server_hello(random_bytes('\x44'), ext), true);
  EXPECT_EQ(out["error"], "extension data overruns the list");
}

TEST(handshake_log, client_hello_decodes_like_describe) {
  const std::string body = hello_builder().sni("example.com").alpn({"h2"}).body();
  const auto out = describe_tls_message(content_type_handshake, handshake(1, body), false);
  EXPECT_EQ(out["type"], "client_hello");
  EXPECT_EQ(out["extensions"][0]["serverNames"], (json{"example.com"}));
  EXPECT_EQ(out["extensions"][1]["protocols"], (json{"h2"}));
}

TEST(handshake_log, certificate_chain_in_both_forms) {
  const auto ca_key = make_ec_key();
  cert_spec ca_spec;
  ca_spec.common_name = "Log Test CA";
  ca_spec.basic_constraints = "critical,CA:TRUE";
  const auto ca = make_cert(ca_spec, ca_key.get());
  const auto key = make_ec_key();
  cert_spec leaf_spec;
  leaf_spec.common_name = "origin.test";
  leaf_spec.subject_alt_names = "DNS:origin.test,IP:127.0.0.1,IP:::1";
  const auto leaf = make_cert(leaf_spec, key.get(), ca.get(), ca_key.get());
  const std::string leaf_der = der_of(leaf.get());
  const std::string ca_der = der_of(ca.get());

  const std::string tls12 =
      handshake(11, u24(static_cast<unsigned>(leaf_der.size() + ca_der.size() + 6)) +
                        u24(static_cast<unsigned>(leaf_der.size())) + leaf_der +
                        u24(static_cast<unsigned>(ca_der.size())) + ca_der);
  const std::string entries = u24(static_cast<unsigned>(leaf_der.size())) + leaf_der + u16(0) +
                              u24(static_cast<unsigned>(ca_der.size())) + ca_der + u16(0);
  const std::string tls13 =
      handshake(11, vec8("") + u24(static_cast<unsigned>(entries.size())) + entries);

  for (const auto& [message, is13] : {std::pair{tls12, false}, std::pair{tls13, true}}) {
    const auto out = describe_tls_message(content_type_handshake, message, is13);
    ASSERT_FALSE(out.contains("error")) << out.dump();
    const auto& chain = out["certificates"];
    ASSERT_EQ(chain.size(), 2U);
    EXPECT_EQ(chain[0]["subject"], "CN=origin.test");
    EXPECT_EQ(chain[0]["issuer"], "CN=Log Test CA");
    EXPECT_EQ(chain[0]["subjectAltNames"], (json{{{"type", "dns"}, {"value", "origin.test"}},
                                                 {{"type", "ip"}, {"value", "127.0.0.1"}},
                                                 {{"type", "ip"}, {"value", "::1"}}}));
    EXPECT_EQ(chain[0]["sha256"].get<std::string>().size(), 64U);
    EXPECT_EQ(chain[1]["subject"], "CN=Log Test CA");
    // The PEM is the certificate itself.
    const std::string pem = chain[0]["pem"];
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* back = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(X509_cmp(back, leaf.get()), 0);
    X509_free(back);
    EXPECT_EQ(chain[0]["notBefore"].get<std::string>().back(), 'Z');
  }
  // Read with the wrong form, the same bytes do not decode.
  EXPECT_TRUE(describe_tls_message(content_type_handshake, tls12, true).contains("error"));
}

TEST(handshake_log, certificate_that_is_not_der) {
  const std::string bogus = "not a certificate";
  const std::string list = u24(static_cast<unsigned>(bogus.size())) + bogus;
  const auto out = describe_tls_message(
      content_type_handshake, handshake(11, u24(static_cast<unsigned>(list.size())) + list), false);
  ASSERT_EQ(out["certificates"].size(), 1U);
  EXPECT_EQ(out["certificates"][0]["error"], "not a DER X.509 certificate");
}

TEST(handshake_log, other_handshake_types_as_hex) {
  const auto out = describe_tls_message(content_type_handshake, handshake(13, "\xab\xcd"), true);
  EXPECT_EQ(out["type"], "certificate_request");
  EXPECT_EQ(out["data"], "abcd");
  EXPECT_EQ(handshake_type_name(99), "unknown_0x63");
}

TEST(handshake_log, never_throws_on_garbage) {
  std::string bytes;
  for (int i = 0; i < 512; ++i) {
    bytes += static_cast<char>((i * 131 + 7) & 0xff);
    for (std::uint8_t type : {1, 2, 8, 11, 13}) {
      std::string message = bytes;
      message[0] = static_cast<char>(type);
      EXPECT_NO_THROW(describe_tls_message(content_type_handshake, message, (i & 1) != 0));
    }
    EXPECT_NO_THROW(describe_tls_message(content_type_alert, bytes, false));
  }
}

}  // namespace
