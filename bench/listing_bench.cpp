// Listing: the first page (100 entries, with the total) of GET /api/sessions/:sid/entries over a
// session of 1 M entries, per filter (SPEC §8 asks for ≤ 50 ms), and the session's stats.
// Run: build/release/bench/hark_store_bench --benchmark_filter=listing
//
// The database is built once through store::writer (about a minute) and kept in
// $HARK_BENCH_DIR (default $TMPDIR) as hark-bench-listing-<entries>-s<schema>-v<version>/, so
// that later runs start at once; HARK_BENCH_ENTRIES changes the size, HARK_BENCH_REBUILD=1
// forces a rebuild.
// Bodies are left out: the listing never reads them.
//
// The traffic mixes hosts, methods, statuses and headers with skewed frequencies, plus values
// that occur exactly 20 times (host rare.example.net, method PATCH, status 418, header
// X-Canary: zebra…) for the rare-value cases. A second, older session of 5 % of the size sits
// in the same file.
#include "bench_support.hpp"

#include "hark/core/ids.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

namespace {

using hark::capture::entry_record;
using hark::store::entry_filter;

// Bump when the generated traffic or the schema's contents change, so that cached databases are
// rebuilt (2: durations in entry_counts; 3-6: the filter facets in the search index).
constexpr int data_version = 6;
constexpr std::int64_t rare_every = 50'000;               // 20 rare entries per million
constexpr std::int64_t start_us = 1'793'577'600'000'000;  // 2026-11-01T00:00:00Z

/** splitmix64: a fixed sequence, so that every build of the database holds the same traffic. */
class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /** 0..99 */
  int percent() { return static_cast<int>(next() % 100); }

 private:
  std::uint64_t state_;
};

std::int64_t entry_count() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before the benchmark starts any thread
  if (const char* text = std::getenv("HARK_BENCH_ENTRIES"); text != nullptr && *text != '\0') {
    return std::max<std::int64_t>(1000, std::atoll(text));
  }
  return 1'000'000;
}

const char* pick_host(rng& r) {
  // About 30 % api, 20 % cdn, then a tail of twenty more hosts.
  static const std::array<const char*, 20> tail = {
      "www.example.com",     "static.example.com", "auth.example.com",   "img.example.com",
      "ws.example.com",      "fonts.gstatic.com",  "www.google.com",     "ads.tracker.io",
      "telemetry.vendor.io", "api.github.com",     "registry.npmjs.org", "cdn.jsdelivr.net",
      "news.example.org",    "mail.example.org",   "maps.example.org",   "login.example.org",
      "s3.amazonaws.com",    "graph.facebook.com", "api.stripe.com",     "localhost"};
  const int p = r.percent();
  if (p < 30) {
    return "api.example.com";
  }
  if (p < 50) {
    return "cdn.example.com";
  }
  return tail[r.next() % tail.size()];
}

const char* pick_method(rng& r) {
  const int p = r.percent();
  return p < 80 ? "GET" : p < 95 ? "POST" : p < 98 ? "PUT" : p < 99 ? "DELETE" : "OPTIONS";
}

int pick_status(rng& r) {
  const int p = r.percent();
  return p < 70   ? 200
         : p < 80 ? 304
         : p < 85 ? 204
         : p < 89 ? 302
         : p < 96 ? 404
         : p < 97 ? 401
                  : 500 + p % 4;
}

entry_record make_record(rng& r, const std::string& session_id, std::int64_t i, bool rare) {
  static const std::array<const char*, 12> resources = {
      "users", "orders",   "items", "search",   "cart",          "profile",
      "feed",  "comments", "likes", "settings", "notifications", "assets"};
  static const std::array<const char*, 4> types = {"application/json; charset=utf-8", "text/html",
                                                   "image/png", "application/javascript"};
  entry_record e;
  // Started in order with jitter, so that the row order differs from the time order.
  const std::int64_t started = start_us + i * 2000 - static_cast<std::int64_t>(r.next() % 50'000);
  const auto at = std::chrono::system_clock::time_point(std::chrono::microseconds(started));
  e.id = hark::ids::new_ulid(at);
  e.session_id = session_id;
  e.host = rare ? "rare.example.net" : pick_host(r);
  const char* resource = resources[r.next() % resources.size()];
  char path[128];
  std::snprintf(path, sizeof path, "/api/v1/%s/%llu?page=%d", resource,
                static_cast<unsigned long long>(r.next() % 100'000), r.percent() % 10);
  e.url = "https://" + e.host + path;
  e.client_addr =
      hark::capture::net_address{"127.0.0.1", static_cast<std::uint16_t>(40000 + i % 20000)};
  e.remote_addr = hark::capture::net_address{"93.184.216.34", 443};
  e.http_version = r.percent() < 70 ? "HTTP/1.1" : "HTTP/2";
  e.request.method = rare ? "PATCH" : pick_method(r);
  e.request.path = path;
  e.request.http_version = e.http_version;
  char request_id[40];
  std::snprintf(request_id, sizeof request_id, "%016llx%016llx",
                static_cast<unsigned long long>(r.next()),
                static_cast<unsigned long long>(r.next()));
  e.request.headers = {
      {"Host", e.host},
      {"User-Agent",
       "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
       "Safari/537.36"},
      {"Accept", "*/*"},
      {"Accept-Encoding", "gzip, deflate, br"},
      {"X-Request-Id", request_id}};
  if (e.host == "api.example.com") {
    e.request.headers.emplace_back("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.session");
  }
  if (rare) {
    e.request.headers.emplace_back("X-Canary", "zebra-" + std::to_string(i));
  }
  e.request.body_size = 0;
  e.timings.started_at = at;
  if (r.percent() == 0) {
    e.error = hark::capture::flow_error{"connect_failed", "hark: cannot connect to " + e.host};
    return e;
  }
  auto& response = e.response.emplace();
  response.http_version = e.http_version;
  response.status_code = rare ? 418 : pick_status(r);
  response.status_text = "OK";
  const char* type = types[r.next() % types.size()];
  char etag[32];
  std::snprintf(etag, sizeof etag, "\"%llx\"", static_cast<unsigned long long>(r.next() >> 20));
  response.headers = {{"Date", "Sun, 01 Nov 2026 00:00:00 GMT"},
                      {"Content-Type", type},
                      {"Content-Length", std::to_string(r.next() % 50'000)},
                      {"Cache-Control", "max-age=3600"},
                      {"ETag", etag},
                      {"Server", "nginx/1.22.1"}};
  response.body_size = r.next() % 50'000;
  e.duration_ms = static_cast<double>(r.next() % 500) / 10.0;
  return e;
}

/** Writes `count` entries into a new session through the writer (flushing often enough to stay
 *  under its queue bound). */
std::string fill_session(const std::filesystem::path& db_path, const std::string& name,
                         std::int64_t first, std::int64_t count, std::uint64_t seed) {
  std::string session_id;
  {
    hark::store::database db(db_path);
    hark::store::catalog catalog(db);
    session_id = catalog.create_session(name, 1'793'577'600'000).id;
  }
  hark::store::writer writer({db_path});
  rng r(seed);
  for (std::int64_t i = first; i < first + count; ++i) {
    writer.submit(make_record(r, session_id, i, i % rare_every == rare_every / 2));
    if (i % 8192 == 0) {
      writer.flush();
    }
  }
  writer.flush();
  return session_id;
}

struct listing_db {
  std::filesystem::path path;
  std::string session_id;  ///< the 1 M-entry session
};

/** The cached database, built on first use. */
const listing_db& cached_db() {
  static const listing_db db = [] {
    const auto entries = entry_count();
    const auto dir =
        hark::bench::scratch_root() / ("hark-bench-listing-" + std::to_string(entries) + "-s" +
                                       std::to_string(hark::store::database::schema_version()) +
                                       "-v" + std::to_string(data_version));
    const auto marker = dir / "session-id";
    const char* rebuild = std::getenv("HARK_BENCH_REBUILD");  // NOLINT(concurrency-mt-unsafe)
    listing_db out{dir / "hark.db", {}};
    if (std::ifstream in(marker);
        in && (rebuild == nullptr || *rebuild != '1') && std::getline(in, out.session_id)) {
      return out;
    }
    std::cerr << "building " << out.path << " (" << entries << " entries)\n";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    fill_session(out.path, "older", -entries, entries / 20, 7);
    out.session_id = fill_session(out.path, "main", 0, entries, 42);
    std::ofstream(marker) << out.session_id << '\n';
    return out;
  }();
  return db;
}

void listing(benchmark::State& state, entry_filter filter) {
  const auto& db_info = cached_db();
  hark::store::database db(db_info.path);
  hark::store::catalog catalog(db);
  filter.session_id = db_info.session_id;
  std::int64_t total = 0;
  std::size_t returned = 0;
  for (auto _ : state) {
    const auto page = catalog.list_entries(filter);
    if (!page) {
      state.SkipWithError("session not found");
      return;
    }
    total = page->total;
    returned = page->entries.size();
    benchmark::DoNotOptimize(page->entries.data());
  }
  state.counters["total"] = static_cast<double>(total);
  state.counters["returned"] = static_cast<double>(returned);
}

/** GET /api/sessions/:sid/stats over the same session. */
void stats(benchmark::State& state) {
  const auto& db_info = cached_db();
  hark::store::database db(db_info.path);
  hark::store::catalog catalog(db);
  std::int64_t total = 0;
  for (auto _ : state) {
    const auto s = catalog.stats(db_info.session_id);
    if (!s) {
      state.SkipWithError("session not found");
      return;
    }
    total = s->total_requests;
    benchmark::DoNotOptimize(s->avg_duration);
  }
  state.counters["total"] = static_cast<double>(total);
}

struct listing_case {
  const char* name;
  entry_filter filter;
};

/** The filters timed, by name. */
std::vector<listing_case> cases() {
  return {
      {"none", {}},
      {"none_desc", {.descending = true}},
      {"host_common", {.host = "api.example.com"}},
      {"host_rare", {.host = "rare.example.net"}},
      {"host_domain", {.host = "*.example.com"}},
      {"status_200", {.status = "200"}},
      {"status_5xx", {.status = "5xx"}},
      {"status_rare", {.status = "418"}},
      {"method_post", {.method = "POST"}},
      {"method_rare", {.method = "PATCH"}},
      {"http2", {.http_version = "HTTP/2"}},
      {"error", {.error = true}},
      {"q_common", {.q = "json"}},
      {"q_rare", {.q = "zebra"}},
      {"q_url", {.q = "api/v1/users"}},
      {"q_absent", {.q = "nowhere-to-be-found"}},
      {"q_short", {.q = "a"}},            // one letter: a whole word, not a prefix
      {"q_prefix_common", {.q = "con"}},  // the start of content-type, cache-control, …
      {"q_literal", {.q = "->"}},         // no word: matched with LIKE over the session
      {"since_until_q",
       {.q = "json", .since_us = start_us + 600'000'000, .until_us = start_us + 660'000'000}},
      {"since_until_method",
       {.method = "POST", .since_us = start_us + 600'000'000, .until_us = start_us + 660'000'000}},
      {"since_until", {.since_us = start_us + 600'000'000, .until_us = start_us + 660'000'000}},
      {"combined", {.host = "api.example.com", .method = "POST", .status = "2xx"}},
      {"combined_rare", {.host = "api.example.com", .method = "PATCH"}},
      {"combined_q", {.host = "api.example.com", .q = "orders"}},
      {"combined_q_rare", {.host = "api.example.com", .q = "zebra"}},
      {"domain_q", {.host = "*.example.com", .q = "json"}},
      {"status_q", {.status = "5xx", .q = "json"}},
      {"method_q", {.method = "POST", .q = "json"}},
      {"version_q", {.http_version = "HTTP/2", .q = "json"}},
      {"error_q", {.q = "json", .error = true}},
  };
}

// Registered while statics are initialized, as BENCHMARK() does.
[[maybe_unused]] const bool registered = [] {  // NOLINT(cert-err58-cpp): only bad_alloc
  for (const auto& c : cases()) {
    benchmark::RegisterBenchmark((std::string("listing/") + c.name).c_str(), listing, c.filter)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("listing/stats", stats)->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
