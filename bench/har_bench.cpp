// HAR export throughput: GET /api/har/export/:sid through the real handler (api::serve), its
// streamed body pulled piece by piece as the server would, over a session of 100 k captured
// entries with 1 KiB response bodies (SPEC §6.4: constant memory; target ≥ 50 MB/s).
// Reports MB/s and the process's RSS before and after each export.
// Run: build/release/bench/hark_har_bench
#include "hark/api/router.hpp"
#include "hark/core/ids.hpp"
#include "hark/core/time.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>
#include <memory>

namespace {

namespace http = boost::beast::http;

constexpr std::size_t session_entries = 100'000;

/** A captured GET with a 1 KiB JSON response, like store_bench's. */
hark::capture::entry_record sample_record(const std::string& session_id, std::size_t i) {
  hark::capture::entry_record r;
  r.timings.started_at = std::chrono::system_clock::now();
  r.id = hark::ids::new_ulid(r.timings.started_at);
  r.session_id = session_id;
  r.url = "http://localhost:18080/api/items?page=" + std::to_string(i) + "&size=20";
  r.host = "localhost";
  r.client_addr = hark::capture::net_address{"127.0.0.1", 40000};
  r.remote_addr = hark::capture::net_address{"127.0.0.1", 18080};
  r.http_version = "HTTP/1.1";
  r.request.method = "GET";
  r.request.path = "/api/items?page=" + std::to_string(i) + "&size=20";
  r.request.http_version = "HTTP/1.1";
  r.request.headers = {{"Host", "localhost:18080"},
                       {"User-Agent", "hload/1"},
                       {"Accept", "application/json"},
                       {"Cookie", "session=0123456789abcdef; theme=dark"}};
  r.request.body_size = 0;
  auto& resp = r.response.emplace();
  resp.http_version = "HTTP/1.1";
  resp.status_code = 200;
  resp.status_text = "OK";
  resp.headers = {{"Server", "nginx/1.22.1"},
                  {"Date", "Wed, 25 Nov 2026 14:47:38 GMT"},
                  {"Content-Type", "application/json"},
                  {"Content-Length", "1024"},
                  {"Connection", "keep-alive"},
                  {"ETag", "\"6565f0ac-400\""},
                  {"Set-Cookie", "seen=1; Path=/; Max-Age=3600; HttpOnly"}};
  resp.body_size = 1024;
  std::string body = R"({"items":[)";
  while (body.size() < 1000) {
    body += R"({"id":)" + std::to_string(body.size()) + R"(,"name":"item"},)";
  }
  body.resize(1022, ' ');
  body += "]}";
  r.response_body = std::move(body);
  r.timings.dns = 0.05;
  r.timings.connect = 0.1;
  r.timings.send = 0.01;
  r.timings.wait = 0.1;
  r.timings.receive = 0.01;
  r.duration_ms = 0.3;
  return r;
}

/** VmRSS or VmHWM of this process in MiB. */
double status_mib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stod(line.substr(field.size() + 1)) / 1024.0;
    }
  }
  return 0;
}

/** A store holding one session of session_entries entries, made once per process. */
struct bench_store {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("hark-har-bench-" + hark::ids::new_ulid());
  std::string session_id;

  bench_store() {
    std::filesystem::create_directories(dir);
    {
      hark::store::database db(dir / "hark.db");
      hark::store::catalog catalog(db);
      session_id = catalog.create_session("bench", hark::timefmt::now_ms()).id;
    }
    hark::store::writer writer(hark::store::writer_options{dir / "hark.db"});
    for (std::size_t i = 0; i < session_entries; ++i) {
      writer.submit(sample_record(session_id, i));
      if (i % 8192 == 8191) {
        writer.flush();  // stay below the queue bound
      }
    }
    writer.stop();
  }
  ~bench_store() { std::filesystem::remove_all(dir); }
};

boost::asio::awaitable<void> drain(hark::api::body_stream* stream, std::size_t* bytes,
                                   std::size_t* pieces) {
  for (;;) {
    const auto piece = co_await stream->next();
    if (piece.empty()) {
      co_return;
    }
    *bytes += piece.size();
    ++*pieces;
  }
}

void har_export(benchmark::State& state) {
  static bench_store store;
  // Peak RSS from here on: forget the ingest's (Linux ≥ 4.0, proc(5) clear_refs).
  std::ofstream("/proc/self/clear_refs") << "5";
  hark::store::database db(store.dir / "hark.db");
  hark::store::catalog catalog(db);
  hark::capture::recording_state recording;
  hark::api::context ctx{catalog, recording};
  hark::api::request req{http::verb::get, "/api/har/export/" + store.session_id, 11};
  req.set(http::field::host, "localhost:8889");
  std::size_t bytes = 0;
  std::size_t pieces = 0;
  const double rss_before = status_mib("VmRSS");
  double rss_after = 0;
  for (auto _ : state) {
    auto reply = hark::api::serve(ctx, req);
    if (reply.head.result() != http::status::ok || !reply.body) {
      state.SkipWithError("export did not start");
      break;
    }
    boost::asio::io_context io;
    boost::asio::co_spawn(io, drain(reply.body.get(), &bytes, &pieces), boost::asio::detached);
    io.run();
    rss_after = status_mib("VmRSS");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * session_entries));
  state.counters["export_MB"] =
      static_cast<double>(bytes) / 1e6 / static_cast<double>(state.iterations());
  state.counters["pieces"] = static_cast<double>(pieces) / static_cast<double>(state.iterations());
  state.counters["rss_before_MiB"] = rss_before;
  state.counters["rss_after_MiB"] = rss_after;
  state.counters["peak_rss_MiB"] = status_mib("VmHWM");
}

}  // namespace

BENCHMARK(har_export)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK_MAIN();
