// WebSocket capture cost per message, apart from the relay: parsing (ws::observer over masked
// 64-byte frames, as the bench's scenario 6 sends them) and storing (store::writer, one
// ws_messages row per message). Run: build/release/bench/hark_store_bench --benchmark_filter=ws_
//
//   ws_parse/64          messages parsed per second (one direction, in 64 KiB reads)
//   ws_ingest/200000     messages stored per second under one entry; writer_us_per_message is
//                        the writer thread's CPU (SQLite), what bounds the rate
#include "bench_support.hpp"

#include "hark/core/ids.hpp"
#include "hark/core/time.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"
#include "hark/ws/observer.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <thread>

namespace {

/** Counts messages; keeps nothing. */
struct counting_sink final : hark::ws::message_sink {
  std::uint64_t messages = 0;
  void on_message(hark::ws::message&& m) override {
    messages += 1;
    benchmark::DoNotOptimize(m.payload.data());
  }
};

std::string masked_frames(std::size_t payload, std::size_t count) {
  std::string one;
  one += '\x82';
  one += static_cast<char>(0x80 | payload);
  one += "\x01\x02\x03\x04";
  for (std::size_t i = 0; i < payload; ++i) {
    one += static_cast<char>((i * 31) ^ "\x01\x02\x03\x04"[i & 3]);
  }
  std::string all;
  for (std::size_t i = 0; i < count; ++i) {
    all += one;
  }
  return all;
}

void ws_parse(benchmark::State& state) {
  const auto wire = masked_frames(static_cast<std::size_t>(state.range(0)), 10000);
  counting_sink sink;
  hark::ws::observer observer({}, 16 << 20, sink);
  for (auto _ : state) {
    for (std::size_t at = 0; at < wire.size(); at += 65536) {
      observer.client_bytes(std::string_view(wire).substr(at, 65536));
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(sink.messages));
}

void ws_ingest(benchmark::State& state) {
  hark::bench::scratch_dir dir("hark-bench-ws-" + hark::ids::new_ulid());
  const auto db_path = dir.path() / "hark.db";
  std::string session_id;
  {
    hark::store::database db(db_path);
    session_id = hark::store::catalog(db).create_active_session("bench", 0).id;
  }
  hark::store::writer writer({db_path});
  hark::capture::entry_record entry;
  entry.id = hark::ids::new_ulid();
  entry.session_id = session_id;
  entry.url = "ws://localhost:18081/";
  entry.host = "localhost";
  entry.http_version = "HTTP/1.1";
  entry.is_websocket = true;
  entry.request.method = "GET";
  entry.request.path = "/";
  entry.request.http_version = "HTTP/1.1";
  entry.request.headers = {{"Host", "localhost:18081"}, {"Upgrade", "websocket"}};
  auto& response = entry.response.emplace();
  response.http_version = "HTTP/1.1";
  response.status_code = 101;
  response.status_text = "Switching Protocols";
  entry.timings.started_at = std::chrono::system_clock::now();
  writer.submit(hark::capture::entry_record(entry));
  const auto per_iteration = static_cast<std::int64_t>(state.range(0));
  std::int64_t seq = 0;
  const double writer_before = hark::bench::thread_cpu_seconds("hark-writer");
  for (auto _ : state) {
    for (std::int64_t i = 0; i < per_iteration; ++i) {
      // Paced below the writer's bound (65 536 waiting), beyond which messages are dropped.
      const auto& stats = writer.stats();
      while (seq - static_cast<std::int64_t>(stats.ws_messages_written.load() +
                                             stats.ws_messages_dropped.load()) >
             50'000) {
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
      hark::capture::ws_message_record m;
      m.entry_id = entry.id;
      m.session_id = session_id;
      m.seq = seq++;
      m.from_client = (i & 1) == 0;
      m.started_us = hark::timefmt::unix_us(std::chrono::system_clock::now());
      m.ended_us = m.started_us;
      m.type = "binary";
      m.payload.assign(64, 'x');
      m.wire_bytes = 64;
      writer.submit_ws(std::move(m));
    }
    writer.flush();
  }
  const auto n = static_cast<double>(seq);
  if (writer.stats().ws_messages_dropped.load() != 0) {
    std::fprintf(stderr, "entries written %llu, messages written %llu, dropped %llu: %s\n",
                 static_cast<unsigned long long>(writer.stats().entries_written.load()),
                 static_cast<unsigned long long>(writer.stats().ws_messages_written.load()),
                 static_cast<unsigned long long>(writer.stats().ws_messages_dropped.load()),
                 writer.stats().last_error.c_str());
    state.SkipWithError("the writer dropped messages");
  }
  state.SetItemsProcessed(seq);
  state.counters["writer_us_per_message"] =
      (hark::bench::thread_cpu_seconds("hark-writer") - writer_before) * 1e6 / n;
  writer.stop();
}

}  // namespace

BENCHMARK(ws_parse)->Arg(64)->Unit(benchmark::kMillisecond);
BENCHMARK(ws_ingest)->Arg(200000)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
