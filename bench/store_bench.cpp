// Store ingest: entries per second through store::writer, with 1 KiB bodies (SPEC §8 asks for
// ≥ 50 k entries/s sustained). Run: build/release/bench/hark_store_bench --benchmark_filter=ingest
//
//   store_ingest/10000        10 k identical entries per iteration into a fresh database
//   store_ingest_sustained    200 k entries into one database (10 × 20 k), each with its own
//                             URL, dates, ETag and request id, as real traffic has
//   capture_log_append        200 k of those entries appended to the capture log by one thread
//                             (what a proxy worker pays per exchange), written out by hark-log
//
// Counters, per entry: cpu_us is the CPU of the whole process, writer_us that of the writer
// thread (SQLite: what bounds the rate when a core is free for the rest), render_us that of the
// thread rendering rows for it, ckpt_us that of the WAL checkpoint thread; all steadier than the
// rate on a shared machine. db_bytes is the size of the database file and its WAL.
#include "bench_support.hpp"

#include "hark/core/ids.hpp"
#include "hark/core/time.hpp"
#include "hark/store/capture_log.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <ctime>
#include <thread>

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

/** The sample with what differs from one real exchange to the next: path, dates, ETag, and a
 *  request id header (a token that occurs once in the whole database). */
hark::capture::entry_record varied_record(const hark::capture::entry_record& prototype,
                                          std::uint64_t n) {
  auto r = prototype;
  r.id = hark::ids::new_ulid();
  char buf[64];
  std::snprintf(buf, sizeof buf, "/files/%llu/1k.bin?v=%llu",
                static_cast<unsigned long long>(n % 997), static_cast<unsigned long long>(n));
  r.request.path = buf;
  r.url = "http://localhost:18080" + *r.request.path;
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(n * 0x9E3779B97F4A7C15ULL));
  r.request.headers.emplace_back("X-Request-Id", buf);
  std::snprintf(buf, sizeof buf, "Wed, 25 Nov 2026 %02llu:%02llu:%02llu GMT",
                static_cast<unsigned long long>(n / 3600 % 24),
                static_cast<unsigned long long>(n / 60 % 60),
                static_cast<unsigned long long>(n % 60));
  r.response->headers[1].second = buf;
  std::snprintf(buf, sizeof buf, "\"%llx-400\"",
                static_cast<unsigned long long>(n * 2654435761ULL));
  r.response->headers[6].second = buf;
  r.timings.started_at = std::chrono::system_clock::now();
  return r;
}

std::string create_session(const std::filesystem::path& db_path) {
  hark::store::database db(db_path);
  hark::store::catalog catalog(db);
  return catalog.create_active_session("bench", hark::timefmt::now_ms()).id;
}

/** CPU of the process and of the store's threads, in seconds. */
struct cpu_sample {
  double process = hark::bench::process_cpu_seconds();
  double writer = hark::bench::thread_cpu_seconds("hark-writer");
  double checkpoint = hark::bench::thread_cpu_seconds("hark-checkpoint");
  double render = hark::bench::thread_cpu_seconds("hark-render");
};

/** Submits `record`, first waiting while the index lags far behind: the capture log would take
 *  it all, but the figure wanted is the indexer's steady rate, not a burst into the log. */
void submit_paced(hark::store::writer& writer, hark::capture::entry_record&& record) {
  while (writer.stats().queue_depth.load(std::memory_order_relaxed) >= 12'000) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  writer.submit(std::move(record));
}

void report(benchmark::State& state, std::uint64_t entries, const cpu_sample& before,
            hark::store::writer& writer, const std::filesystem::path& db_path) {
  const cpu_sample after;
  if (writer.stats().entries_dropped.load() != 0) {
    state.SkipWithError("the writer dropped entries");
  }
  const auto per_entry = [&](double seconds) {
    return seconds * 1e6 / static_cast<double>(entries);
  };
  state.SetItemsProcessed(static_cast<std::int64_t>(entries));
  state.counters["cpu_us_per_entry"] = per_entry(after.process - before.process);
  state.counters["writer_us_per_entry"] = per_entry(after.writer - before.writer);
  state.counters["ckpt_us_per_entry"] = per_entry(after.checkpoint - before.checkpoint);
  state.counters["render_us_per_entry"] = per_entry(after.render - before.render);
  state.counters["db_bytes_per_entry"] =
      static_cast<double>(hark::bench::database_bytes(db_path)) / static_cast<double>(entries);
}

void store_ingest(benchmark::State& state) {
  hark::bench::scratch_dir dir("hark-bench-ingest-" + hark::ids::new_ulid());
  const auto db_path = dir.path() / "hark.db";
  const auto session_id = create_session(db_path);
  hark::store::writer writer({db_path});
  const auto per_iteration = static_cast<std::size_t>(state.range(0));
  const auto prototype = sample_record(session_id);
  const cpu_sample before;
  for (auto _ : state) {
    for (std::size_t i = 0; i < per_iteration; ++i) {
      auto r = prototype;
      r.id = hark::ids::new_ulid();
      submit_paced(writer, std::move(r));
    }
    writer.flush();
  }
  report(state, state.iterations() * per_iteration, before, writer, db_path);
  writer.stop();
}

void store_ingest_sustained(benchmark::State& state) {
  hark::bench::scratch_dir dir("hark-bench-sustained-" + hark::ids::new_ulid());
  const auto db_path = dir.path() / "hark.db";
  const auto session_id = create_session(db_path);
  hark::store::writer writer({db_path});
  const auto per_iteration = static_cast<std::uint64_t>(state.range(0));
  const auto prototype = sample_record(session_id);
  std::uint64_t n = 0;
  const cpu_sample before;
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < per_iteration; ++i) {
      submit_paced(writer, varied_record(prototype, n++));
    }
    writer.flush();
  }
  report(state, n, before, writer, db_path);
  writer.stop();
}

double calling_thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void capture_log_append(benchmark::State& state) {
  hark::bench::scratch_dir dir("hark-bench-log-" + hark::ids::new_ulid());
  hark::store::capture_log log({.dir = dir.path(), .fsync = hark::store::capture_fsync::batch});
  const auto prototype = sample_record("6f1c2d4e-0000-4000-8000-000000000001");
  std::vector<hark::capture::entry_record> records;
  for (std::uint64_t n = 0; n < 1000; ++n) {
    records.push_back(varied_record(prototype, n));
  }
  const auto per_iteration = static_cast<std::size_t>(state.range(0));
  std::uint64_t appended = 0;
  const double log_before = hark::bench::thread_cpu_seconds("hark-log");
  const double worker_before = calling_thread_cpu_seconds();
  for (auto _ : state) {
    for (std::size_t i = 0; i < per_iteration; ++i) {
      log.append(records[i % records.size()]);
    }
    log.write_out();
    appended += per_iteration;
  }
  const double worker = calling_thread_cpu_seconds() - worker_before;
  const double log_thread = hark::bench::thread_cpu_seconds("hark-log") - log_before;
  state.SetItemsProcessed(static_cast<std::int64_t>(appended));
  state.counters["append_us_per_record"] = worker * 1e6 / static_cast<double>(appended);
  state.counters["log_us_per_record"] = log_thread * 1e6 / static_cast<double>(appended);
  state.counters["bytes_per_record"] =
      static_cast<double>(log.stats().bytes_appended.load()) / static_cast<double>(appended);
}

}  // namespace

BENCHMARK(capture_log_append)
    ->Arg(20000)
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(store_ingest)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(store_ingest_sustained)
    ->Arg(20000)
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
