// Byte scripts for the sans-I/O ClientHello reader: hand-made hellos (GREASE everywhere,
// fragmented over records, cut at every byte) and broken ones.
#include "hark/tls/client_hello.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hello_builder.hpp"

namespace {

using hark::tls::is_grease;
using hark::tls::parse_client_hello;
using hark::tls::parse_result;
using hark::tls::parse_status;
using namespace hark::tls::test;

/** A Chrome-like hello: GREASE cipher, GREASE extensions first and last, GREASE group and
 *  version, every decoded extension kind, and a padding and an unknown extension. */
hello_builder greasy_hello() {
  hello_builder b;
  b.session_id(std::string(32, '\x07'))
      .ciphers({0x3a3a, 0x1301, 0x1302, 0xc02b, 0x00ff})
      .extension(0x0a0a)
      .sni("example.com")
      .alpn({"h2", "http/1.1"})
      .groups({0x2a2a, 0x11ec, 0x001d, 0x0017})
      .point_formats(std::string(1, '\0'))
      .signature_algorithms({0x0403, 0x0804, 0x0401})
      .supported_versions({0x7a7a, 0x0304, 0x0303})
      .psk_modes(std::string("\x01", 1))
      .key_share({{0x2a2a, 1}, {0x001d, 32}})
      .extension(0x44cd, std::string("\x00\x03\x02h2", 5))
      .extension(0x0015, std::string(7, '\0'))
      .extension(0xfafa, std::string(1, '\0'));
  return b;
}

parse_result parse(const std::string& bytes) {
  return parse_client_hello(bytes);
}

TEST(client_hello, parses_every_field_keeping_grease_in_wire_order) {
  const hello_builder b = greasy_hello();
  const std::string wire = b.wire();
  const parse_result r = parse(wire);
  ASSERT_EQ(r.status, parse_status::complete) << r.error;
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_TRUE(r.error.empty());
  const auto& h = *r.hello;
  EXPECT_EQ(h.legacy_version, 0x0303);
  ASSERT_EQ(h.random.size(), 32u);
  EXPECT_EQ(h.random[31], '\x1f');
  EXPECT_EQ(h.session_id, std::string(32, '\x07'));
  EXPECT_EQ(h.cipher_suites, (std::vector<std::uint16_t>{0x3a3a, 0x1301, 0x1302, 0xc02b, 0x00ff}));
  EXPECT_EQ(h.compression_methods, (std::vector<std::uint8_t>{0}));
  std::vector<std::uint16_t> types;
  for (const auto& ext : h.extensions) {
    types.push_back(ext.type);
  }
  EXPECT_EQ(types, (std::vector<std::uint16_t>{0x0a0a, 0x0000, 0x0010, 0x000a, 0x000b, 0x000d,
                                               0x002b, 0x002d, 0x0033, 0x44cd, 0x0015, 0xfafa}));
  EXPECT_EQ(h.raw, b.message());
  EXPECT_EQ(h.sni, "example.com");
  EXPECT_EQ(h.server_names, (std::vector<std::string>{"example.com"}));
  EXPECT_EQ(h.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(h.supported_groups, (std::vector<std::uint16_t>{0x2a2a, 0x11ec, 0x001d, 0x0017}));
  EXPECT_EQ(h.ec_point_formats, (std::vector<std::uint8_t>{0}));
  EXPECT_EQ(h.signature_algorithms, (std::vector<std::uint16_t>{0x0403, 0x0804, 0x0401}));
  EXPECT_EQ(h.supported_versions, (std::vector<std::uint16_t>{0x7a7a, 0x0304, 0x0303}));
  EXPECT_EQ(h.psk_key_exchange_modes, (std::vector<std::uint8_t>{1}));
  ASSERT_EQ(h.key_shares.size(), 2u);
  EXPECT_EQ(h.key_shares[0].group, 0x2a2a);
  EXPECT_EQ(h.key_shares[0].key_exchange_length, 1u);
  EXPECT_EQ(h.key_shares[1].group, 0x001d);
  EXPECT_EQ(h.key_shares[1].key_exchange_length, 32u);
  ASSERT_NE(h.find_extension(0x0015), nullptr);
  EXPECT_EQ(h.find_extension(0x0015)->data, std::string(7, '\0'));
  EXPECT_EQ(h.find_extension(0x0017), nullptr);
  EXPECT_TRUE(h.has_extension(0x44cd));
}

TEST(client_hello, hello_without_extensions_block) {
  const parse_result r = parse(hello_builder().version(0x0301).ciphers({0x002f, 0x0035}).wire());
  ASSERT_EQ(r.status, parse_status::complete) << r.error;
  EXPECT_TRUE(r.hello->extensions.empty());
  EXPECT_FALSE(r.hello->sni);
  EXPECT_EQ(r.hello->legacy_version, 0x0301);
}

TEST(client_hello, empty_extensions_block_and_empty_lists) {
  const parse_result r =
      parse(hello_builder().ciphers({}).compression("").empty_extensions().wire());
  ASSERT_EQ(r.status, parse_status::complete) << r.error;
  EXPECT_TRUE(r.hello->cipher_suites.empty());
  EXPECT_TRUE(r.hello->compression_methods.empty());
  EXPECT_TRUE(r.hello->extensions.empty());
}

TEST(client_hello, fragmented_over_three_records_gives_the_same_hello) {
  const hello_builder b = greasy_hello();
  const std::string one = b.wire();
  const std::string three = b.wire({1, 60});  // header split, then the middle, then the rest
  const parse_result a = parse(one);
  const parse_result r = parse(three);
  ASSERT_EQ(r.status, parse_status::complete) << r.error;
  EXPECT_EQ(r.consumed, three.size());
  EXPECT_EQ(three.size(), one.size() + 10);
  EXPECT_EQ(r.hello->raw, a.hello->raw);
  EXPECT_EQ(r.hello->cipher_suites, a.hello->cipher_suites);
  EXPECT_EQ(r.hello->sni, "example.com");
}

TEST(client_hello, every_prefix_needs_more) {
  const hello_builder b = greasy_hello();
  for (const std::string& wire : {b.wire(), b.wire({3, 100}), b.wire({4})}) {
    for (std::size_t cut = 0; cut < wire.size(); ++cut) {
      const parse_result r = parse(wire.substr(0, cut));
      ASSERT_EQ(r.status, parse_status::need_more) << "cut at " << cut << ": " << r.error;
      EXPECT_EQ(r.consumed, 0u);
      EXPECT_FALSE(r.hello);
    }
    EXPECT_EQ(parse(wire).status, parse_status::complete);
  }
}

TEST(client_hello, bytes_after_the_hello_records_are_not_consumed) {
  const std::string wire = greasy_hello().wire({50});
  const std::string ccs = records("\x01", {}, 0x0303, 20);  // a ChangeCipherSpec record
  const parse_result r = parse(wire + ccs + "\x17\x03\x03");
  ASSERT_EQ(r.status, parse_status::complete) << r.error;
  EXPECT_EQ(r.consumed, wire.size());
}

TEST(client_hello, accepts_every_record_version_from_ssl3_to_tls13) {
  for (std::uint16_t version = 0x0300; version <= 0x0304; ++version) {
    const std::string wire = records(hello_builder().message(), {}, version);
    EXPECT_EQ(parse(wire).status, parse_status::complete) << version;
  }
}

TEST(client_hello, not_tls) {
  const parse_result http = parse("GET / HTTP/1.1\r\n");
  EXPECT_EQ(http.status, parse_status::not_tls);
  EXPECT_EQ(http.error, "record 1: content type 71 is not handshake (22)");
  EXPECT_EQ(parse("\x80\x2e\x01").status, parse_status::not_tls);  // SSLv2-compatible hello
  EXPECT_EQ(parse(std::string("\x17\x03\x03", 3)).status, parse_status::not_tls);
  const parse_result version = parse(std::string("\x16\x02", 2));
  EXPECT_EQ(version.status, parse_status::not_tls);
  EXPECT_EQ(version.error, "record 1: record version 0x02 is not 0x0300..0x0304");
  EXPECT_EQ(parse(std::string("\x16\x03\x05", 3)).error,
            "record 1: record version 0x0305 is not 0x0300..0x0304");
}

/** Expects `bytes` to be malformed with exactly `error`. */
void expect_malformed(const std::string& bytes, const std::string& error) {
  const parse_result r = parse(bytes);
  EXPECT_EQ(r.status, parse_status::malformed) << error;
  EXPECT_EQ(r.error, error);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_FALSE(r.hello);
}

TEST(client_hello, malformed_records) {
  expect_malformed(std::string("\x16\x03\x01\x00\x00", 5), "record 1: empty handshake record");
  expect_malformed(std::string("\x16\x03\x01\x48\x01", 5), "record 1: length 18433 exceeds 18432");
  const std::string message = greasy_hello().message();
  // A second record that is not a handshake record, inside the fragmented hello.
  expect_malformed(records(message.substr(0, 10)) + records(message.substr(10), {}, 0x0303, 23),
                   "record 2: content type 23 is not handshake (22)");
  expect_malformed(records(message.substr(0, 10)) + std::string("\x16\x04\x00", 3),
                   "record 2: record version 0x0400 is not 0x0300..0x0304");
  expect_malformed(records(message + "\x01\x02"),
                   "record 1: 2 bytes follow the ClientHello in its last record");
  // Detected as soon as the record header says so, before the trailing bytes arrive.
  expect_malformed(records(message + "\x01\x02").substr(0, 5 + message.size()),
                   "record 1: 2 bytes follow the ClientHello in its last record");
}

TEST(client_hello, malformed_handshake_header) {
  // A ServerHello (2), found from the first byte of the first fragment.
  expect_malformed(std::string("\x16\x03\x01\x00\x30\x02", 6),
                   "handshake type 2 is not ClientHello (1)");
  expect_malformed(std::string("\x16\x03\x01\x00\x30\x01\x01\x00\x01", 9),
                   "ClientHello length 65537 exceeds 65536");
  expect_malformed(records(u8(1) + u24(0)), "ClientHello truncated in legacy_version");
  expect_malformed(records(u8(1) + u24(20) + std::string(20, '\x03')),
                   "ClientHello truncated in random");
}

/** A handshake message around `body`. */
std::string message_of(const std::string& body) {
  return u8(1) + u24(body.size()) + body;
}

TEST(client_hello, malformed_body) {
  const std::string start = u16(0x0303) + std::string(32, 'r');
  expect_malformed(records(message_of(start + vec8(std::string(33, 's')) + vec16(u16(0x1301)) +
                                      vec8(std::string(1, '\0')))),
                   "legacy_session_id of 33 bytes (at most 32)");
  expect_malformed(records(message_of(start + u8(4) + "ab")),
                   "legacy_session_id length overruns the ClientHello");
  expect_malformed(records(message_of(start + u8(0) + vec16("\x13\x01\x13"))),
                   "odd cipher_suites length 3");
  expect_malformed(records(message_of(start + u8(0) + u16(10) + "\x13\x01")),
                   "cipher_suites length overruns the ClientHello");
  expect_malformed(
      records(message_of(start + u8(0) + vec16(u16(0x1301)) + u8(2) + std::string(1, '\0'))),
      "legacy_compression_methods length overruns the ClientHello");
  const std::string head = start + u8(0) + vec16(u16(0x1301)) + vec8(std::string(1, '\0'));
  expect_malformed(records(message_of(head + u16(9) + u16(23) + u16(0))),
                   "extensions length overruns the ClientHello");
  expect_malformed(records(message_of(head + vec16(u16(23) + u16(0)) + "zz")),
                   "2 bytes of trailing data after the extensions");
  expect_malformed(records(message_of(head + std::string(1, '\0'))),
                   "extensions length overruns the ClientHello");
}

TEST(client_hello, malformed_extensions) {
  const std::string head =
      u16(0x0303) + std::string(32, 'r') + u8(0) + vec16(u16(0x1301)) + vec8(std::string(1, '\0'));
  const auto with = [&](const std::string& block) {
    return records(message_of(head + vec16(block)));
  };
  expect_malformed(with(u16(23) + u16(0) + u16(23) + u16(0)),
                   "duplicate extension 0x0017 (extended_master_secret)");
  expect_malformed(with(u16(0x0a0a) + u16(0) + u16(0x0a0a) + u16(1) + "x"),
                   "duplicate extension 0x0a0a (grease)");
  expect_malformed(with(u8(0)), "extension type truncated at the end of the extensions block");
  expect_malformed(with(u16(16) + u16(5) + "ab"),
                   "extension 0x0010 (application_layer_protocol_negotiation): length overruns the "
                   "extensions block");
  expect_malformed(with(u16(0) + vec16(u16(9) + u8(0) + u16(2) + "ab")),
                   "extension 0x0000 (server_name): list length overruns the extension");
  expect_malformed(with(u16(0) + vec16(vec16(u8(0) + u16(7) + "ab"))),
                   "extension 0x0000 (server_name): server name entry overruns the list");
  expect_malformed(
      with(u16(16) + vec16(vec16(u8(5) + "h2"))),
      "extension 0x0010 (application_layer_protocol_negotiation): protocol name overruns the list");
  expect_malformed(with(u16(10) + vec16(vec16(std::string("\x00\x1d\x00", 3)))),
                   "extension 0x000a (supported_groups): odd list length 3");
  expect_malformed(with(u16(13) + vec16(vec16(u16(0x0403)) + "z")),
                   "extension 0x000d (signature_algorithms): 1 bytes after the list");
  expect_malformed(with(u16(43) + vec16(u8(4) + u16(0x0304))),
                   "extension 0x002b (supported_versions): list length overruns the extension");
  expect_malformed(with(u16(11) + vec16("")),
                   "extension 0x000b (ec_point_formats): list length overruns the extension");
  expect_malformed(with(u16(45) + vec16(vec8("\x01") + "\x01")),
                   "extension 0x002d (psk_key_exchange_modes): 1 bytes after the list");
  expect_malformed(with(u16(51) + vec16(vec16(u16(29) + u16(32) + "short"))),
                   "extension 0x0033 (key_share): key share entry overruns the list");
  // An extension Hark does not decode is kept raw, whatever it holds.
  const parse_result r = parse(with(u16(0x1234) + vec16("\xff\xff")));
  ASSERT_EQ(r.status, parse_status::complete) << r.error;
  EXPECT_EQ(r.hello->extensions.at(0).data, "\xff\xff");
}

TEST(client_hello, size_limit_is_exactly_64_kib) {
  // Pad the hello so that its body is exactly 65536 bytes: accepted over 5 records.
  hello_builder b;
  b.extension(0x0015, "");
  const std::size_t base = b.body().size();
  hello_builder big;
  big.extension(0x0015, std::string(65536 - base, '\0'));
  ASSERT_EQ(big.body().size(), 65536u);
  const std::string wire = big.wire({16384, 16384, 16384, 16384});
  const parse_result r = parse(wire);
  ASSERT_EQ(r.status, parse_status::complete) << r.error;
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_EQ(r.hello->find_extension(0x0015)->data.size(), 65536 - base);
}

TEST(client_hello, server_name_keeps_first_host_name) {
  const std::string list =
      u8(1) + vec16("other-type") + u8(0) + vec16("a.example") + u8(0) + vec16("b.example");
  const parse_result r = parse(hello_builder().extension(0x0000, vec16(list)).wire());
  ASSERT_EQ(r.status, parse_status::complete) << r.error;
  EXPECT_EQ(r.hello->sni, "a.example");
  EXPECT_EQ(r.hello->server_names, (std::vector<std::string>{"a.example", "b.example"}));
}

TEST(client_hello, grease_values_follow_rfc_8701) {
  int count = 0;
  for (unsigned v = 0; v <= 0xffff; ++v) {
    if (is_grease(static_cast<std::uint16_t>(v))) {
      ++count;
      EXPECT_EQ(v & 0x0f0f, 0x0a0au);
      EXPECT_EQ(v >> 8, v & 0xff);
    }
  }
  EXPECT_EQ(count, 16);
  EXPECT_TRUE(is_grease(0x0a0a));
  EXPECT_TRUE(is_grease(0xfafa));
  EXPECT_FALSE(is_grease(0x0a1a));
  EXPECT_FALSE(is_grease(0x1a0a));
  std::vector<unsigned> u8_grease;
  for (unsigned v = 0; v <= 0xff; ++v) {
    if (hark::tls::is_grease_u8(static_cast<std::uint8_t>(v))) {
      u8_grease.push_back(v);
    }
  }
  EXPECT_EQ(u8_grease, (std::vector<unsigned>{0x0b, 0x2a, 0x49, 0x68, 0x87, 0xa6, 0xc5, 0xe4}));
}

}  // namespace
