// libFuzzer target for hark::h2::session: fuzzed bytes are what the peer sends, to a server-role
// session (Hark facing a client) or a client-role one (Hark facing an origin, with requests of
// its own in flight). The harness acts as the coroutine driver would: it answers requests
// (bodies, 1xx, trailers, push, resets), consumes every DATA byte and drains the output.
//
//   cmake -DCMAKE_CXX_COMPILER=clang++-14 … && ninja hark_h2_session_fuzz
//   ./tests/fuzz/hark_h2_session_fuzz -max_total_time=60 corpus/
//
// The first input byte picks the role (bit 0), the receive chunk size (bits 1-4) and the
// answers (bits 5-7); the rest is the peer's bytes, which for a server-role session must begin
// with the client preface (the fuzzer finds it; the seed corpus helps).
//
// Invariants checked beyond "no crash, no sanitizer report": receive() consumes all it is given
// or fails; after a failure it consumes nothing and wants no reads; once every DATA byte is
// consumed, nothing is left counted against the connection.
#include "hark/h2/session.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

namespace {

using namespace hark::h2;
using hark::capture::header_list;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

header_list request(std::string path) {
  return {{":method", "POST"},
          {":scheme", "https"},
          {":authority", "fuzz.test"},
          {":path", std::move(path)},
          {"content-type", "application/grpc"}};
}

/** Server role: answers a request head the way `style` says. */
void answer(session& s, std::int32_t stream, unsigned style) {
  switch (style % 5) {
    case 0:
      s.submit_response(stream, {{":status", "200"}}, false);
      s.submit_data(stream, std::string(70000, 'b'), true);  // beyond one stream window
      break;
    case 1:
      s.submit_response(stream, {{":status", "103"}, {"link", "</a>; rel=preload"}}, false);
      s.submit_response(stream, {{":status", "200"}}, false);
      s.submit_data(stream, "body", false);
      s.submit_trailers(stream, {{"grpc-status", "0"}});
      break;
    case 2:
      if (const std::int32_t promised = s.submit_push_promise(stream, request("/pushed"));
          promised > 0) {
        s.submit_response(promised, {{":status", "200"}}, false);
        s.submit_data(promised, "pushed", true);
      }
      s.submit_response(stream, {{":status", "204"}}, true);
      break;
    case 3:
      s.submit_rst(stream, NGHTTP2_CANCEL);
      break;
    default:
      s.submit_goaway(NGHTTP2_NO_ERROR, "done");
      s.submit_response(stream, {{":status", "200"}}, true);
      break;
  }
}

/** Acts on the events like the driver: answers requests, consumes DATA. */
void react(session& s, unsigned style) {
  for (auto& ev : s.events()) {
    if (auto* head = std::get_if<headers_event>(&ev)) {
      check(head->stream_id >= 0);
      if (head->kind == head_kind::request) {
        answer(s, head->stream_id, style++);
      }
    } else if (auto* data = std::get_if<data_event>(&ev)) {
      s.consume(data->stream_id, data->bytes.size());
    }
  }
  s.clear_events();
}

void drain(session& s) {
  for (std::string_view out = s.pending_output(); !out.empty(); out = s.pending_output()) {
    s.consume_output(out.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const unsigned mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  settings cfg;
  cfg.max_concurrent_streams = 8;
  cfg.stream_window = 65535;
  cfg.connection_window = 1 << 20;
  cfg.max_header_list_size = 4096;
  cfg.max_decoded_header_block = 16384;
  cfg.reset_burst = 50;
  cfg.max_outbound_ack = 64;
  cfg.enable_push = true;
  session s((mode & 1) != 0 ? role::client : role::server, cfg);
  if (s.side() == role::client) {
    for (int i = 0; i < 3; ++i) {
      const std::int32_t id = s.submit_request(request("/r" + std::to_string(i)), i == 0);
      check(id > 0);
      if (i > 0) {
        s.submit_data(id, "request", i == 1);
      }
    }
  }
  drain(s);
  const std::size_t chunk = 1 + ((mode >> 1) & 0x0f) * 61;
  unsigned style = mode >> 5;
  while (!input.empty()) {
    const std::string_view piece = input.substr(0, chunk);
    const receive_result r = s.receive(piece);
    if (!r.ok) {
      check(!s.want_read() && s.receive(piece).consumed == 0);
      break;
    }
    check(r.consumed == piece.size());
    input.remove_prefix(piece.size());
    react(s, style++);
    drain(s);
    react(s, style++);  // framing DATA can close streams
  }
  drain(s);
  react(s, style);
  check(s.unconsumed() == 0);
  return 0;
}
