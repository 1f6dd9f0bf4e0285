// libFuzzer target for the ClientHello reader and everything derived from a parsed hello, and
// for the decoder of the TLS connection log's messages (the same bytes read as one handshake
// message or alert).
//
//   cmake -DCMAKE_CXX_COMPILER=clang++-14 … && ninja hark_client_hello_fuzz
//   ./tests/fuzz/hark_client_hello_fuzz -max_total_time=60 -max_len=4096 corpus/
//
// Invariants checked beyond "no crash, no sanitizer report": a complete parse consumed no more
// than the input, re-parsing exactly the consumed bytes gives the same hello, every prefix of
// them is need_more, and the JSON description serializes.
#include "hark/tls/client_hello.hpp"
#include "hark/tls/fingerprint.hpp"
#include "hark/tls/handshake_log.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The log decoder never throws and always yields serializable JSON with a type.
  for (const std::uint8_t content_type :
       {hark::tls::content_type_handshake, hark::tls::content_type_alert}) {
    const auto described = hark::tls::describe_tls_message(content_type, input, (size & 1) != 0);
    check(described.contains("type") && !described.dump().empty());
  }
  const hark::tls::parse_result result = hark::tls::parse_client_hello(input);
  if (result.status != hark::tls::parse_status::complete) {
    check(!result.hello && result.consumed == 0);
    return 0;
  }
  check(result.hello.has_value() && result.consumed <= size);
  const hark::tls::client_hello& hello = *result.hello;
  const std::string_view records = input.substr(0, result.consumed);
  const hark::tls::parse_result again = hark::tls::parse_client_hello(records);
  check(again.status == hark::tls::parse_status::complete && again.hello->raw == hello.raw);
  // Every strict prefix is a prefix of a plausible hello (spot-checked, to keep runs fast).
  for (std::size_t cut = 0; cut < records.size(); cut += 1 + records.size() / 16) {
    check(hark::tls::parse_client_hello(records.substr(0, cut)).status ==
          hark::tls::parse_status::need_more);
  }
  check(hark::tls::ja3(hello).hash.size() == 32);
  check(!hark::tls::ja4(hello).hashed.empty());
  check(!hark::tls::ja4(hello, true).raw.empty());
  check(!hark::tls::describe(hello).dump().empty());
  return 0;
}
