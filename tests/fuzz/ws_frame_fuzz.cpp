// libFuzzer target for the WebSocket reader (src/ws): arbitrary bytes as one direction of a
// connection, cut into arbitrary pieces, through the frame parser and the permessage-deflate
// inflater with fuzzed parameters; and the Sec-WebSocket-Extensions parser. Checks the
// invariants the recorder relies on: never more than the cap kept, sizes consistent.

#include "hark/ws/deflate.hpp"
#include "hark/ws/observer.hpp"
#include "hark/ws/parser.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

struct checking_sink final : hark::ws::message_sink {
  std::uint64_t cap = 0;
  void on_message(hark::ws::message&& m) override {
    if (m.payload.size() > cap || m.payload.size() > m.size ||
        (!m.truncated && m.payload.size() != m.size) || m.ended < m.started) {
      std::abort();
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) {
    return 0;
  }
  const std::uint8_t config = data[0];
  const std::uint8_t bits = data[1];
  const std::uint8_t split = data[2] | 1;
  std::string_view rest(reinterpret_cast<const char*>(data + 3), size - 3);

  hark::ws::deflate_params params;
  params.enabled = (config & 1) != 0;
  params.client_no_context_takeover = (config & 2) != 0;
  params.server_no_context_takeover = (config & 4) != 0;
  params.client_max_window_bits = 8 + (bits & 7);
  params.server_max_window_bits = 8 + ((bits >> 4) & 7);
  checking_sink sink;
  sink.cap = (config & 8) != 0 ? 64 : 1 << 20;
  hark::ws::observer observer(params, sink.cap, sink);

  // Pieces of `split` bytes, alternating sides when asked (each side is its own stream).
  const bool both = (config & 16) != 0;
  bool client = true;
  while (!rest.empty()) {
    const auto piece = rest.substr(0, split);
    client ? observer.client_bytes(piece) : observer.server_bytes(piece);
    rest.remove_prefix(piece.size());
    client = both ? !client : client;
  }
  observer.client_finished();
  observer.server_finished();

  // The same bytes as an extension header of a 101.
  std::string header(reinterpret_cast<const char*>(data + 3), size - 3);
  hark::ws::negotiated_deflate({{"Sec-WebSocket-Extensions", "permessage-deflate; " + header}});
  return 0;
}
