// JA3/JA4 known answers (the specs' published examples, and hellos captured once from curl
// 7.88 / OpenSSL 3.0, `openssl s_client` 3.0 and node 20 against a loopback listener, with the
// values computed by the reference implementation read-tls-client-hello 2.0.0), the edge cases
// of the FoxIO JA4 spec, the decoded log form, and the name tables.
#include "hark/tls/fingerprint.hpp"

#include "hark/tls/client_hello.hpp"
#include "hark/tls/names.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hello_builder.hpp"

namespace {

using hark::tls::client_hello;
using hark::tls::parse_status;
using namespace hark::tls::test;

// Captured ClientHellos (the TLS records as sent), hex. Names: SNI "example.test" and ALPN
// "h2,http/1.1" unless said otherwise.
// curl: curl -sk --resolve example.test:PORT:127.0.0.1 https://example.test:PORT/
// curl_ip: curl -sk https://127.0.0.1:PORT/ (no SNI)
// openssl: openssl s_client -connect 127.0.0.1:PORT -servername example.test -alpn h2,http/1.1
// openssl_tls12: openssl s_client … -servername example.test -tls1_2 (no ALPN)
// node: tls.connect({servername: 'example.test', ALPNProtocols: ['h2', 'http/1.1']})

// curl
constexpr const char* curl_hex =
    "1603010200010001fc0303ea99d9dae642869e48f067614031bc9124d592873dea9e61facda18629002d3920"
    "1b68116064e8cced77295d3647049ab2481d16b3c0bbf322cf626fbb87ab1865003e130213031301c02cc030"
    "009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d"
    "003c0035002f00ff0100017500000011000f00000c6578616d706c652e74657374000b000403000102000a00"
    "160014001d0017001e00190018010001010102010301040010000e000c02683208687474702f312e31001600"
    "000017000000310000000d002a0028040305030603080708080809080a080b08040805080604010501060103"
    "0303010302040205020602002b0009080304030303020301002d00020101003300260024001d0020cd33d13d"
    "3707fbdbad8012f93339c0a91f2a034050460abecdab9d2ecb83f93c001500b1000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000";

// curl_ip
constexpr const char* curl_ip_hex =
    "1603010200010001fc03035993c376564b49623d44c1de8c5650b0973ad66877346302e5fe3cc89adbdd1520"
    "11743d16c2eefd0ef170d3427100dc913baea93b2b2540b157b50e296b87f945003e130213031301c02cc030"
    "009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d"
    "003c0035002f00ff01000175000b000403000102000a00160014001d0017001e001900180100010101020103"
    "01040010000e000c02683208687474702f312e31001600000017000000310000000d002a0028040305030603"
    "080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303"
    "020301002d00020101003300260024001d0020e6d620c5dcac5023b10c105438518d84528a24005ff56c5025"
    "98417325a3802d001500c6000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000";

// openssl
constexpr const char* openssl_hex =
    "160301014b01000147030346b2929d1dfff370fac1fff0b6a3ee2d3c6a6ae345b75e9109715828860323d020"
    "3e86cceb101f9cda9989a13e56f65cacd71096505322cacf714a90e41ff3fec0003e130213031301c02cc030"
    "009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d"
    "003c0035002f00ff010000c000000011000f00000c6578616d706c652e74657374000b000403000102000a00"
    "160014001d0017001e0019001801000101010201030104002300000010000e000c02683208687474702f312e"
    "310016000000170000000d002a0028040305030603080708080809080a080b08040805080604010501060103"
    "0303010302040205020602002b0009080304030303020301002d00020101003300260024001d002041d443ad"
    "a928d61fb430015170ab7c66037b0f0af148e7447e9384420c4b082f";

// openssl_tls12
constexpr const char* openssl_tls12_hex =
    "16030100cc010000c803036f0ee525dffbbd90f23895caafc60fbbb1d9f64117268ddd22af9053bb41c1cc00"
    "0038c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033"
    "009d009c003d003c0035002f00ff0100006700000011000f00000c6578616d706c652e74657374000b000403"
    "000102000a000c000a001d0017001e00190018002300000016000000170000000d002a002804030503060308"
    "0708080809080a080b080408050806040105010601030303010302040205020602";

// node
constexpr const char* node_hex =
    "160301017f0100017b030301c59b4fae8b7fc933a76ffb87b59c43a992b6d00c54507440f01afd7844295320"
    "477c6f87cc715e6e015789998d8e7c1ca7b36b4efc93916ae8fda74e212247030076130213031301c02fc02b"
    "c030c02c009ec0270067c028006b00a3009fcca9cca8ccaac0afc0adc0a3c09fc05dc061c057c05300a2c0ae"
    "c0acc0a2c09ec05cc060c056c052c024006ac0230040c00ac01400390038c009c01300330032009dc0a1c09d"
    "c051009cc0a0c09cc050003d003c0035002f00ff010000bc00000011000f00000c6578616d706c652e746573"
    "74000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000010000e00"
    "0c02683208687474702f312e310016000000170000000d002a0028040305030603080708080809080a080b08"
    "0408050806040105010601030303010302040205020602002b00050403040303002d00020101003300260024"
    "001d00205f58ecfe37467d32aa0efe202ed2209e57eeae6b898a4ba6a1864165699eb745";

struct captured_case {
  const char* name;
  const char* hex;
  const char* ja3_string;
  const char* ja3_hash;  ///< from read-tls-client-hello
  const char* ja4_raw;
  const char* ja4_hashed;  ///< from read-tls-client-hello
};

const captured_case captured_cases[] = {
    {"curl", curl_hex,
     "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-4"
     "9187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-16-22-23-"
     "49-13-43-45-51-21,29-23-30-25-24-256-257-258-259-260,0-1-2",
     "0149f47eabf9a20d0893e2a44e5a6323",
     "t13d3112h2_002f,0033,0035,0039,003c,003d,0067,006b,009c,009d,009e,009f,00ff,1301,1302,"
     "1303,c009,c00a,c013,c014,c023,c024,c027,c028,c02b,c02c,c02f,c030,cca8,cca9,ccaa_000a,0"
     "00b,000d,0015,0016,0017,002b,002d,0031,0033_0403,0503,0603,0807,0808,0809,080a,080b,08"
     "04,0805,0806,0401,0501,0601,0303,0301,0302,0402,0502,0602",
     "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"},
    {"curl_ip", curl_ip_hex,
     "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-4"
     "9187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,11-10-16-22-23-49"
     "-13-43-45-51-21,29-23-30-25-24-256-257-258-259-260,0-1-2",
     "78f0dc5ac5b19daf131a133cfdee9691",
     "t13i3111h2_002f,0033,0035,0039,003c,003d,0067,006b,009c,009d,009e,009f,00ff,1301,1302,"
     "1303,c009,c00a,c013,c014,c023,c024,c027,c028,c02b,c02c,c02f,c030,cca8,cca9,ccaa_000a,0"
     "00b,000d,0015,0016,0017,002b,002d,0031,0033_0403,0503,0603,0807,0808,0809,080a,080b,08"
     "04,0805,0806,0401,0501,0601,0303,0301,0302,0402,0502,0602",
     "t13i3111h2_e8f1e7e78f70_b26ce05bbdd6"},
    {"openssl", openssl_hex,
     "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-4"
     "9187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-16-22-"
     "23-13-43-45-51,29-23-30-25-24-256-257-258-259-260,0-1-2",
     "5a1edc7f170af1014fc65c994878e63c",
     "t13d3111h2_002f,0033,0035,0039,003c,003d,0067,006b,009c,009d,009e,009f,00ff,1301,1302,"
     "1303,c009,c00a,c013,c014,c023,c024,c027,c028,c02b,c02c,c02f,c030,cca8,cca9,ccaa_000a,0"
     "00b,000d,0016,0017,0023,002b,002d,0033_0403,0503,0603,0807,0808,0809,080a,080b,0804,08"
     "05,0806,0401,0501,0601,0303,0301,0302,0402,0502,0602",
     "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4"},
    {"openssl_tls12", openssl_tls12_hex,
     "771,49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-"
     "49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-22-23-13,29-23-30-25-"
     "24,0-1-2",
     "871a754af286dfb70c1b53c6887c62e0",
     "t12d280700_002f,0033,0035,0039,003c,003d,0067,006b,009c,009d,009e,009f,00ff,c009,c00a,"
     "c013,c014,c023,c024,c027,c028,c02b,c02c,c02f,c030,cca8,cca9,ccaa_000a,000b,000d,0016,0"
     "017,0023_0403,0503,0603,0807,0808,0809,080a,080b,0804,0805,0806,0401,0501,0601,0303,03"
     "01,0302,0402,0502,0602",
     "t12d280700_d943125447b4_e7e480e5a997"},
    {"node", node_hex,
     "771,4866-4867-4865-49199-49195-49200-49196-158-49191-103-49192-107-163-159-52393-52392"
     "-52394-49327-49325-49315-49311-49245-49249-49239-49235-162-49326-49324-49314-49310-492"
     "44-49248-49238-49234-49188-106-49187-64-49162-49172-57-56-49161-49171-51-50-157-49313-"
     "49309-49233-156-49312-49308-49232-61-60-53-47-255,0-11-10-35-16-22-23-13-43-45-51,29-2"
     "3-30-25-24-256-257-258-259-260,0-1-2",
     "1a28e69016765d92e3b381168d68922c",
     "t13d5911h2_002f,0032,0033,0035,0038,0039,003c,003d,0040,0067,006a,006b,009c,009d,009e,"
     "009f,00a2,00a3,00ff,1301,1302,1303,c009,c00a,c013,c014,c023,c024,c027,c028,c02b,c02c,c"
     "02f,c030,c050,c051,c052,c053,c056,c057,c05c,c05d,c060,c061,c09c,c09d,c09e,c09f,c0a0,c0"
     "a1,c0a2,c0a3,c0ac,c0ad,c0ae,c0af,cca8,cca9,ccaa_000a,000b,000d,0016,0017,0023,002b,002"
     "d,0033_0403,0503,0603,0807,0808,0809,080a,080b,0804,0805,0806,0401,0501,0601,0303,0301"
     ",0302,0402,0502,0602",
     "t13d5911h2_a33745022dd6_1f22a2ca17c4"},
};

/** Parses `wire`, which must be a complete hello. */
client_hello parsed(const std::string& wire) {
  hark::tls::parse_result r = hark::tls::parse_client_hello(wire);
  if (r.status != parse_status::complete) {
    ADD_FAILURE() << "not a complete ClientHello: " << r.error;
    return {};
  }
  return *std::move(r.hello);
}

std::string md5_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += "0123456789abcdef"[digest[i] >> 4];
    out += "0123456789abcdef"[digest[i] & 0x0f];
  }
  return out;
}

TEST(fingerprint, captured_clients_match_the_reference) {
  for (const captured_case& c : captured_cases) {
    SCOPED_TRACE(c.name);
    const std::string wire = from_hex(c.hex);
    const client_hello hello = parsed(wire);
    const hark::tls::ja3_result ja3 = hark::tls::ja3(hello);
    EXPECT_EQ(ja3.string, c.ja3_string);
    EXPECT_EQ(ja3.hash, c.ja3_hash);
    EXPECT_EQ(md5_hex(ja3.string), ja3.hash);
    const hark::tls::ja4_result ja4 = hark::tls::ja4(hello);
    EXPECT_EQ(ja4.raw, c.ja4_raw);
    EXPECT_EQ(ja4.hashed, c.ja4_hashed);
    // The same hello cut into three records fingerprints the same.
    const std::string refragmented = records(hello.raw, {7, 200});
    EXPECT_EQ(hark::tls::ja4(parsed(refragmented)).hashed, c.ja4_hashed);
    // Every code point a real client sent has a name.
    for (const std::uint16_t suite : hello.cipher_suites) {
      EXPECT_NE(hark::tls::cipher_suite_name(suite).rfind("unknown_", 0), 0u) << suite;
    }
    for (const auto& ext : hello.extensions) {
      EXPECT_NE(hark::tls::extension_name(ext.type).rfind("unknown_", 0), 0u) << ext.type;
    }
    for (const std::uint16_t group : hello.supported_groups) {
      EXPECT_NE(hark::tls::group_name(group).rfind("unknown_", 0), 0u) << group;
    }
    for (const std::uint16_t scheme : hello.signature_algorithms) {
      EXPECT_NE(hark::tls::signature_scheme_name(scheme).rfind("unknown_", 0), 0u) << scheme;
    }
  }
}

/** The hello of the FoxIO JA4 spec's example (technical_details/JA4.md): its 15 ciphers,
 *  16 extensions and 8 signature algorithms in its order; with `grease`, GREASE values added
 *  to every list (the fingerprint must not change). */
hello_builder spec_example(bool grease, std::vector<std::uint16_t> signatures) {
  std::vector<std::uint16_t> ciphers{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                     0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  if (grease) {
    ciphers.insert(ciphers.begin(), 0x5a5a);
    signatures.insert(signatures.begin() + 1, 0x8a8a);
  }
  hello_builder b;
  b.ciphers(ciphers);
  if (grease) {
    b.extension(0xdada);
  }
  b.extension(0x001b, vec8(u16(2)))
      .sni("example.com")
      .key_share({{0x001d, 32}})
      .alpn({"h2", "http/1.1"})
      .extension(0x4469, vec16(vec8("h2")))
      .extension(0x0017)
      .psk_modes("\x01")
      .signature_algorithms(signatures)
      .extension(0x0005, std::string("\x01\x00\x00\x00\x00", 5))
      .extension(0x0023)
      .extension(0x0012)
      .supported_versions(grease ? std::vector<std::uint16_t>{0x3a3a, 0x0304, 0x0303}
                                 : std::vector<std::uint16_t>{0x0304, 0x0303})
      .extension(0xff01, std::string(1, '\0'))
      .point_formats(std::string(1, '\0'))
      .groups({0x001d, 0x0017, 0x0018})
      .extension(0x0015, std::string(20, '\0'));
  if (grease) {
    b.extension(0x1a1a, std::string(1, '\0'));
  }
  return b;
}

/** The signature algorithms of the spec's example, in its order. */
std::vector<std::uint16_t> spec_signatures() {
  return {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
}

TEST(fingerprint, ja4_spec_example) {
  for (const bool grease : {false, true}) {
    SCOPED_TRACE(grease ? "with GREASE" : "without GREASE");
    const hark::tls::ja4_result ja4 =
        hark::tls::ja4(parsed(spec_example(grease, spec_signatures()).wire()));
    EXPECT_EQ(ja4.hashed, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    EXPECT_EQ(ja4.raw,
              "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,"
              "cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,"
              "0804,0401,0503,0805,0501,0806,0601");
  }
}

TEST(fingerprint, ja4_without_signature_algorithms_has_no_trailing_underscore) {
  // The spec's second example: the same extensions, no signature algorithm listed.
  const hark::tls::ja4_result ja4 = hark::tls::ja4(parsed(spec_example(false, {}).wire()));
  EXPECT_EQ(ja4.hashed, "t13d1516h2_8daaf6152771_6d807ffa2a79");
  EXPECT_EQ(ja4.raw.substr(ja4.raw.rfind('_')),
            "_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01");
}

TEST(fingerprint, ja3_readme_examples) {
  hello_builder first;
  first.version(769)
      .ciphers({47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4})
      .sni("example.com")
      .groups({23, 24, 25})
      .point_formats(std::string(1, '\0'));
  const hark::tls::ja3_result a = hark::tls::ja3(parsed(first.wire()));
  EXPECT_EQ(a.string, "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
  EXPECT_EQ(a.hash, "ada70206e40642a3e4461f35503241d5");
  hello_builder second;
  second.version(769).ciphers({4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99});
  const hark::tls::ja3_result b = hark::tls::ja3(parsed(second.wire()));
  EXPECT_EQ(b.string, "769,4-5-10-9-100-98-3-6-19-18-99,,,");
  EXPECT_EQ(b.hash, "de350869b8c85de67a350c8d186f11e6");
}

TEST(fingerprint, ja3_drops_grease_everywhere_and_keeps_wire_order) {
  hello_builder b;
  b.ciphers({0x0a0a, 0x1302, 0x1301})
      .extension(0x2a2a)
      .groups({0x3a3a, 29, 23})
      .point_formats(std::string("\x00\x01", 2))
      .supported_versions({0x4a4a, 0x0304})
      .extension(0xeaea, std::string(1, '\0'));
  EXPECT_EQ(hark::tls::ja3(parsed(b.wire())).string, "771,4866-4865,10-11-43,29-23,0-1");
}

/** Part a of the JA4 of `b`. */
std::string ja4_a(const hello_builder& b) {
  const std::string hashed = hark::tls::ja4(parsed(b.wire())).hashed;
  return hashed.substr(0, hashed.find('_'));
}

TEST(fingerprint, ja4_alpn_characters) {
  const struct {
    std::string protocol;
    const char* expected;
  } cases[] = {
      {"h2", "h2"},
      {"http/1.1", "h1"},
      {"a", "aa"},
      {"\xab", "ab"},
      {"\xab\xcd", "ad"},
      {"\x30\xab", "3b"},
      {"", "00"},
      {"\x30\x31\xab\xcd", "3d"},
      {"\x30\xab\xcd\x31", "01"},
      {"h3-29", "h9"},
      {"/x", "28"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.protocol);
    hello_builder b;
    b.alpn({c.protocol, "h2"});
    EXPECT_EQ(ja4_a(b), std::string("t12i0101") + c.expected);
  }
  EXPECT_EQ(ja4_a(hello_builder()), "t12i010000");
  EXPECT_EQ(ja4_a(hello_builder().alpn({})), "t12i010100");
}

TEST(fingerprint, ja4_version_sni_counts_and_quic) {
  EXPECT_EQ(ja4_a(hello_builder().supported_versions({0x0a0a, 0x0303, 0x0304})), "t13i010100");
  EXPECT_EQ(ja4_a(hello_builder().supported_versions({0x0303})), "t12i010100");
  EXPECT_EQ(ja4_a(hello_builder().supported_versions({0x0302, 0x0301})), "t11i010100");
  EXPECT_EQ(ja4_a(hello_builder().version(0x0301).supported_versions({0x0a0a})), "t10i010100");
  EXPECT_EQ(ja4_a(hello_builder().version(0x0300)), "ts3i010000");
  EXPECT_EQ(ja4_a(hello_builder().version(0x0302)), "t11i010000");
  EXPECT_EQ(ja4_a(hello_builder().version(0x0305)), "t00i010000");
  EXPECT_EQ(ja4_a(hello_builder().version(0x0002)), "ts2i010000");
  EXPECT_EQ(ja4_a(hello_builder().version(0xfeff)), "td1i010000");
  EXPECT_EQ(ja4_a(hello_builder().version(0xfefd)), "td2i010000");
  EXPECT_EQ(ja4_a(hello_builder().version(0xfefd).supported_versions({0xfefc})), "td3i010100");
  // SNI: the extension's presence decides, whatever names it holds.
  EXPECT_EQ(ja4_a(hello_builder().extension(0x0000, vec16(u8(7) + vec16("x")))), "t12d010100");
  EXPECT_EQ(ja4_a(hello_builder().sni("example.com")), "t12d010100");
  std::vector<std::uint16_t> many;
  for (std::uint16_t v = 0x0100; v < 0x0100 + 120; ++v) {
    many.push_back(v);
  }
  hello_builder lots;
  lots.ciphers(many);
  for (const std::uint16_t v : many) {
    lots.extension(static_cast<std::uint16_t>(v + 0x1000));
  }
  EXPECT_EQ(ja4_a(lots), "t12i999900");
  const hello_builder b = spec_example(true, spec_signatures());
  EXPECT_EQ(hark::tls::ja4(parsed(b.wire()), true).hashed, "q13d1516h2_8daaf6152771_e5627efa2ab1");
}

TEST(fingerprint, ja4_empty_lists_hash_to_zeros) {
  const hark::tls::ja4_result none = hark::tls::ja4(parsed(hello_builder().ciphers({}).wire()));
  EXPECT_EQ(none.hashed, "t12i000000_000000000000_000000000000");
  EXPECT_EQ(none.raw, "t12i000000__");
  // Only SNI and ALPN: counted in part a, absent from part c.
  hello_builder b;
  b.ciphers({0x1301, 0x0a0a}).sni("example.com").alpn({"h2"});
  const hark::tls::ja4_result only = hark::tls::ja4(parsed(b.wire()));
  EXPECT_EQ(only.raw, "t12d0102h2_1301_");
  EXPECT_EQ(only.hashed.substr(only.hashed.rfind('_')), "_000000000000");
}

TEST(fingerprint, describe_decodes_every_extension_kind) {
  hello_builder b;
  b.session_id("\x01\xab")
      .ciphers({0x0a0a, 0x1301, 0x9999})
      .extension(0x0a0a, "\x01")
      .sni("ex\xff.test")
      .alpn({"h2", "http/1.1"})
      .groups({0x2a2a, 0x001d})
      .point_formats(std::string(1, '\0'))
      .signature_algorithms({0x0403})
      .supported_versions({0x0304})
      .psk_modes(std::string("\x01\x0b", 2))
      .key_share({{0x001d, 32}})
      .extension(0x0015, std::string(5, '\0'))
      .extension(0x0017)
      .extension(0x7777, "\xca\xfe");
  const nlohmann::json j = hark::tls::describe(parsed(b.wire()));
  EXPECT_EQ(j["version"], (nlohmann::json{{"value", 771}, {"name", "TLSv1.2"}}));
  EXPECT_EQ(j["random"], "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(j["sessionId"], "01ab");
  EXPECT_EQ(j["cipherSuites"], nlohmann::json::parse(R"([{"value":2570,"name":"grease"},
      {"value":4865,"name":"TLS_AES_128_GCM_SHA256"},{"value":39321,"name":"unknown_0x9999"}])"));
  EXPECT_EQ(j["compressionMethods"], nlohmann::json::parse(R"([{"value":0,"name":"null"}])"));
  const nlohmann::json expected = nlohmann::json::parse(R"([
    {"type":{"value":2570,"name":"grease"},"data":"01"},
    {"type":{"value":0,"name":"server_name"},"serverNames":["ex\\xff.test"]},
    {"type":{"value":16,"name":"application_layer_protocol_negotiation"},
     "protocols":["h2","http/1.1"]},
    {"type":{"value":10,"name":"supported_groups"},
     "groups":[{"value":10794,"name":"grease"},{"value":29,"name":"x25519"}]},
    {"type":{"value":11,"name":"ec_point_formats"},"formats":[{"value":0,"name":"uncompressed"}]},
    {"type":{"value":13,"name":"signature_algorithms"},
     "algorithms":[{"value":1027,"name":"ecdsa_secp256r1_sha256"}]},
    {"type":{"value":43,"name":"supported_versions"},"versions":[{"value":772,"name":"TLSv1.3"}]},
    {"type":{"value":45,"name":"psk_key_exchange_modes"},
     "modes":[{"value":1,"name":"psk_dhe_ke"},{"value":11,"name":"grease"}]},
    {"type":{"value":51,"name":"key_share"},
     "shares":[{"group":{"value":29,"name":"x25519"},"keyExchangeLength":32}]},
    {"type":{"value":21,"name":"padding"},"length":5},
    {"type":{"value":23,"name":"extended_master_secret"},"data":""},
    {"type":{"value":30583,"name":"unknown_0x7777"},"data":"cafe"}
  ])");
  EXPECT_EQ(j["extensions"], expected) << j["extensions"].dump(2);
  EXPECT_NO_THROW(j.dump());
}

TEST(tls_names, names_follow_the_iana_registries) {
  using namespace hark::tls;
  EXPECT_EQ(version_name(0x0304), "TLSv1.3");
  EXPECT_EQ(version_name(0x0303), "TLSv1.2");
  EXPECT_EQ(version_name(0x0301), "TLSv1");
  EXPECT_EQ(version_name(0x0300), "SSLv3");
  EXPECT_EQ(version_name(0x7a7a), "grease");
  EXPECT_EQ(version_name(0x0305), "unknown_0x0305");
  EXPECT_EQ(cipher_suite_name(4865), "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(cipher_suite_name(0x1303), "TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(cipher_suite_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(cipher_suite_name(0xcca9), "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(cipher_suite_name(0x009f), "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384");
  EXPECT_EQ(cipher_suite_name(0x002f), "TLS_RSA_WITH_AES_128_CBC_SHA");
  EXPECT_EQ(cipher_suite_name(0x00ff), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
  EXPECT_EQ(cipher_suite_name(0x5600), "TLS_FALLBACK_SCSV");
  EXPECT_EQ(cipher_suite_name(0x00a8), "TLS_PSK_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(cipher_suite_name(0xd001), "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(cipher_suite_name(0x0a0a), "grease");
  EXPECT_EQ(cipher_suite_name(0x1234), "unknown_0x1234");
  EXPECT_EQ(extension_name(0), "server_name");
  EXPECT_EQ(extension_name(16), "application_layer_protocol_negotiation");
  EXPECT_EQ(extension_name(51), "key_share");
  EXPECT_EQ(extension_name(0xfe0d), "encrypted_client_hello");
  EXPECT_EQ(extension_name(17513), "application_settings");
  EXPECT_EQ(extension_name(65281), "renegotiation_info");
  EXPECT_EQ(extension_name(0xfafa), "grease");
  EXPECT_EQ(extension_name(40), "unknown_0x0028");
  EXPECT_EQ(group_name(29), "x25519");
  EXPECT_EQ(group_name(23), "secp256r1");
  EXPECT_EQ(group_name(4588), "X25519MLKEM768");
  EXPECT_EQ(group_name(256), "ffdhe2048");
  EXPECT_EQ(signature_scheme_name(0x0804), "rsa_pss_rsae_sha256");
  EXPECT_EQ(signature_scheme_name(0x0807), "ed25519");
  EXPECT_EQ(signature_scheme_name(0x0201), "rsa_pkcs1_sha1");
  EXPECT_EQ(alert_name(0), "close_notify");
  EXPECT_EQ(alert_name(46), "certificate_unknown");
  EXPECT_EQ(alert_name(48), "unknown_ca");
  EXPECT_EQ(alert_name(120), "no_application_protocol");
  EXPECT_EQ(alert_name(200), "unknown_0xc8");
  EXPECT_EQ(psk_key_exchange_mode_name(1), "psk_dhe_ke");
  EXPECT_EQ(psk_key_exchange_mode_name(0xe4), "grease");
  EXPECT_EQ(ec_point_format_name(0), "uncompressed");
  EXPECT_EQ(compression_method_name(1), "DEFLATE");
  EXPECT_EQ(named(772, version_name(772)).dump(), R"({"name":"TLSv1.3","value":772})");
}

}  // namespace
