// hark::h2::session in memory, a server-role and a client-role session pumped against each
// other: what framing, HPACK and flow control cost Hark per byte and per stream, without
// sockets or TLS.
#include "hark/h2/session.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <variant>

namespace {

using namespace hark::h2;
using hark::capture::header_list;

/** Moves bytes both ways until neither side has anything to send; the client consumes DATA. */
void pump(session& client, session& server) {
  for (bool moved = true; moved;) {
    moved = false;
    for (auto [from, to] : {std::pair{&client, &server}, std::pair{&server, &client}}) {
      for (std::string_view out = from->pending_output(); !out.empty();
           out = from->pending_output()) {
        to->receive(out);
        from->consume_output(out.size());
        moved = true;
      }
    }
    for (auto& ev : client.events()) {
      if (auto* d = std::get_if<data_event>(&ev)) {
        client.consume(d->stream_id, d->bytes.size());
      }
    }
    client.clear_events();
  }
}

const header_list request{{":method", "GET"},
                          {":scheme", "https"},
                          {":authority", "bench.test"},
                          {":path", "/download"},
                          {"user-agent", "bench"}};

/** One stream carrying state.range(0) MiB in 64 KiB submits, as the driver relays a download. */
void BM_h2_session_download(benchmark::State& state) {
  const std::string chunk(64 * 1024, 'x');
  const auto chunks = state.range(0) * 16;
  for (auto _ : state) {
    session server(role::server, settings{});
    session client(role::client, settings{});
    const std::int32_t id = client.submit_request(request, true);
    pump(client, server);
    server.submit_response(id, {{":status", "200"}}, false);
    for (std::int64_t i = 0; i < chunks; ++i) {
      server.submit_data(id, chunk, i + 1 == chunks);
      if (server.queued(id) >= std::size_t{1} << 20) {
        pump(client, server);
      }
    }
    pump(client, server);
    server.clear_events();
  }
  state.SetBytesProcessed(state.iterations() * chunks * static_cast<std::int64_t>(chunk.size()));
}
BENCHMARK(BM_h2_session_download)->Arg(64)->Unit(benchmark::kMillisecond);

/** 100 concurrent request/response streams with small bodies per iteration, one connection. */
void BM_h2_session_streams(benchmark::State& state) {
  session server(role::server, settings{});
  session client(role::client, settings{});
  pump(client, server);
  std::vector<std::int32_t> ids;
  for (auto _ : state) {
    ids.clear();
    for (int i = 0; i < 100; ++i) {
      ids.push_back(client.submit_request(request, true));
    }
    pump(client, server);
    for (const auto id : ids) {
      server.submit_response(id, {{":status", "200"}, {"content-type", "text/plain"}}, false);
      server.submit_data(id, "response body", true);
    }
    pump(client, server);
    server.clear_events();
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_h2_session_streams)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
