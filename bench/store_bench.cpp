// Store ingest: entries per second through store::writer, with 1 KiB bodies (SPEC §8 asks for
// ≥ 50 k entries/s sustained). Run: build/release/bench/hark_store_bench
#include "hark/core/ids.hpp"
#include "hark/core/time.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include <benchmark/benchmark.h>

#include <filesystem>

namespace {

hark::capture::entry_record sample_record(const std::string& session_id) {
  hark::capture::entry_record r;
  r.id = hark::ids::new_ulid();
  r.session_id = session_id;
  r.url = "http://localhost:18080/1k.bin";
  r.host = "localhost";
  r.client_addr = hark::capture::net_address{"127.0.0.1", 40000};
  r.remote_addr = hark::capture::net_address{"127.0.0.1", 18080};
  r.http_version = "HTTP/1.1";
  r.request.method = "GET";
  r.request.path = "/1k.bin";
  r.request.http_version = "HTTP/1.1";
  r.request.headers = {{"Host", "localhost:18080"}, {"User-Agent", "hload/1"}, {"Accept", "*/*"}};
  r.request.body_size = 0;
  auto& resp = r.response.emplace();
  resp.http_version = "HTTP/1.1";
  resp.status_code = 200;
  resp.status_text = "OK";
  resp.headers = {{"Server", "nginx/1.22.1"},
                  {"Date", "Wed, 25 Nov 2026 14:47:38 GMT"},
                  {"Content-Type", "application/octet-stream"},
                  {"Content-Length", "1024"},
                  {"Last-Modified", "Wed, 25 Nov 2026 14:49:16 GMT"},
                  {"Connection", "keep-alive"},
                  {"ETag", "\"6565f0ac-400\""},
                  {"Accept-Ranges", "bytes"}};
  resp.body_size = 1024;
  r.response_body.assign(1024, 'x');
  r.timings.started_at = std::chrono::system_clock::now();
  r.timings.send = 0.01;
  r.timings.wait = 0.1;
  r.timings.receive = 0.01;
  r.duration_ms = 0.2;
  return r;
}

void store_ingest(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() / ("hark-bench-" + hark::ids::new_ulid());
  std::filesystem::create_directories(dir);
  std::string session_id;
  {
    hark::store::database db(dir / "hark.db");
    hark::store::catalog catalog(db);
    session_id = catalog.create_active_session("bench", hark::timefmt::now_ms()).id;
  }
  hark::store::writer_options options{dir / "hark.db"};
  hark::store::writer writer(options);
  const auto per_iteration = static_cast<std::size_t>(state.range(0));
  const auto prototype = sample_record(session_id);
  for (auto _ : state) {
    for (std::size_t i = 0; i < per_iteration; ++i) {
      auto r = prototype;
      r.id = hark::ids::new_ulid();
      writer.submit(std::move(r));
    }
    writer.flush();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * per_iteration));
  writer.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace

BENCHMARK(store_ingest)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
