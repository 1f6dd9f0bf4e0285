// The HTTP/2 frame log's costs: the frame tap on the relay thread (a download's DATA frames, and
// the small frames of many short streams), decoding a batch for the API, and storing batches
// through the real writer.
//
//   ./bench/hark_h2_frame_bench [--benchmark_filter=tap]

#include "bench_support.hpp"

#include "hark/capture/flow.hpp"
#include "hark/core/ids.hpp"
#include "hark/h2/frame_log.hpp"
#include "hark/h2/frame_tap.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/database.hpp"
#include "hark/store/writer.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using hark::capture::h2_leg;

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id,
                  std::string_view payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string out = {static_cast<char>(n >> 16),
                     static_cast<char>(n >> 8),
                     static_cast<char>(n),
                     static_cast<char>(type),
                     static_cast<char>(flags),
                     static_cast<char>(stream_id >> 24),
                     static_cast<char>(stream_id >> 16),
                     static_cast<char>(stream_id >> 8),
                     static_cast<char>(stream_id)};
  out.append(payload);
  return out;
}

/** Takes each batch's records as the recorder does, and keeps them when asked to. */
class taking_sink final : public hark::capture::flow_sink {
 public:
  std::vector<hark::capture::h2_frame_batch> kept;
  bool keep = false;
  std::uint64_t frames = 0;

  void on_request_head(hark::capture::flow&, const hark::capture::http_head&) override {}
  void on_request_body(hark::capture::flow&, std::string_view) override {}
  void on_request_end(hark::capture::flow&, const hark::capture::header_list&) override {}
  void on_response_head(hark::capture::flow&, const hark::capture::http_head&) override {}
  void on_response_body(hark::capture::flow&, std::string_view) override {}
  void on_response_end(hark::capture::flow&, const hark::capture::header_list&) override {}
  void on_flow_end(hark::capture::flow&, const hark::capture::flow_outcome&) override {}
  void on_h2_frames(hark::capture::h2_frame_batch& batch) override {
    frames += batch.frame_count;
    std::string taken = std::move(batch.records);
    if (keep) {
      auto copy = batch;
      copy.records = std::move(taken);
      kept.push_back(std::move(copy));
    }
  }
};

/** A download as the server sends it: 16 KiB DATA frames, read 64 KiB at a time. */
void tap_download(benchmark::State& state) {
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    bytes += frame(0x0, 0, 1, std::string(16384, 'd'));
  }
  taking_sink sink;
  hark::h2::frame_tap tap(sink, "01BENCH", h2_leg::upstream);
  for (auto _ : state) {
    for (std::size_t at = 0; at < bytes.size(); at += 65536) {
      tap.received(std::string_view(bytes).substr(at, 65536));
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 64));
}

/** Short exchanges: per stream a request HEADERS, a response HEADERS, a DATA and a
 *  WINDOW_UPDATE, as one read each way per stream. */
void tap_small_frames(benchmark::State& state) {
  std::vector<std::string> requests;
  std::vector<std::string> responses;
  for (std::uint32_t i = 0; i < 100; ++i) {
    const auto id = 2 * i + 1;
    requests.push_back(frame(0x1, 0x5, id, std::string(30, 'h')));
    responses.push_back(frame(0x1, 0x4, id, std::string(20, 'h')) +
                        frame(0x0, 0x1, id, std::string(1000, 'd')) +
                        frame(0x8, 0, 0, std::string_view("\x00\x00\x03\xe8", 4)));
  }
  taking_sink sink;
  hark::h2::frame_tap tap(sink, "01BENCH", h2_leg::client);
  tap.received("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  for (auto _ : state) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      tap.received(requests[i]);
      tap.sent(responses[i]);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 400));
}

/** One full batch of small frames, logged for the two benchmarks below. */
std::vector<hark::capture::h2_frame_batch> logged_batches(std::size_t streams) {
  taking_sink sink;
  sink.keep = true;
  {
    hark::h2::frame_tap tap(sink, hark::ids::new_ulid(), h2_leg::client);
    tap.received("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    for (std::uint32_t i = 0; i < streams; ++i) {
      const auto id = 2 * i + 1;
      tap.received(frame(0x1, 0x5, id, std::string(30, 'h')));
      tap.sent(frame(0x1, 0x4, id, std::string(20, 'h')) + frame(0x0, 0x1, id, "data") +
               frame(0x8, 0, 0, std::string_view("\x00\x00\x03\xe8", 4)));
    }
  }
  return std::move(sink.kept);
}

void decode_batch(benchmark::State& state) {
  const auto batch = logged_batches(64).front();
  for (auto _ : state) {
    benchmark::DoNotOptimize(hark::h2::describe_frames(batch.records).dump());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch.frame_count));
}

/** Batches of 256 frames through the writer thread into SQLite, committed. */
void store_batches(benchmark::State& state) {
  hark::bench::scratch_dir dir("hark-bench-h2-" + hark::ids::new_ulid());
  const auto db_path = dir.path() / "hark.db";
  std::string session_id;
  {
    hark::store::database db(db_path);
    session_id = hark::store::catalog(db).create_active_session("bench", 0).id;
  }
  hark::store::writer writer({db_path});
  auto batches = logged_batches(2500);  // 10 000 frames
  std::uint64_t frames = 0;
  for (auto _ : state) {
    for (auto batch : batches) {
      batch.session_id = session_id;
      batch.connection_id = hark::ids::new_ulid();
      frames += batch.frame_count;
      writer.submit_h2(std::move(batch));
    }
    writer.flush();
  }
  if (writer.stats().h2_batches_dropped.load() != 0) {
    state.SkipWithError("the writer dropped batches");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.counters["db_bytes_per_frame"] =
      static_cast<double>(hark::bench::database_bytes(db_path)) / static_cast<double>(frames);
}

}  // namespace

BENCHMARK(tap_download);
BENCHMARK(tap_small_frames);
BENCHMARK(decode_batch);
BENCHMARK(store_batches)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
