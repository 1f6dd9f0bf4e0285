// The HTTP/2 frame log in the store: a real frame tap feeding the recorder, the writer thread
// storing batches, the catalog answering by connection and by stream, cascading deletes.

#include "hark/capture/recorder.hpp"
#include "hark/h2/frame_tap.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include "../h2/frame_script.hpp"
#include "store_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace hark::store;
using hark::capture::h2_leg;
using hark::h2::frame_record;
using hark::h2::frame_record_reader;
using hark::h2::frame_tap;
using namespace hark::h2::test;
using test::query_int;
using test::temp_dir;

std::vector<frame_record> read_records(const std::string& records) {
  std::vector<frame_record> out;
  frame_record_reader reader(records);
  while (auto r = reader.next()) {
    out.push_back(*r);
  }
  EXPECT_FALSE(reader.corrupt());
  return out;
}

class h2_frame_store : public ::testing::Test {
 protected:
  temp_dir dir_;
  std::filesystem::path path_ = dir_.path() / "hark.db";
  database db_{path_};
  catalog catalog_{db_};
  session session_ = catalog_.create_active_session("s", 1000);
  hark::capture::recording_state recording_;
  writer writer_{writer_options{.database_path = path_}};
  hark::capture::recorder recorder_{writer_, recording_, 1 << 20};

  h2_frame_store() { recording_.set(session_.id, true); }
};

TEST_F(h2_frame_store, both_legs_are_stored_and_read_by_connection_and_stream) {
  {
    frame_tap client(recorder_, "01CLIENT", h2_leg::client,
                     hark::capture::net_address{"127.0.0.1", 4000});
    frame_tap upstream(recorder_, "01UPSTREAM", h2_leg::upstream);
    client.received(std::string(preface) + frame(0x4, 0, 0, setting(3, 100)) +
                    frame(0x1, 0x5, 1, "\x82\x86") + frame(0x1, 0x4, 3, "\x82"));
    upstream.sent(std::string(preface) + frame(0x4, 0, 0, "") + frame(0x1, 0x5, 1, "\x82\x86"));
    upstream.received(frame(0x1, 0x4, 1, "\x88") + frame(0x0, 0x1, 1, "hello"));
    client.sent(frame(0x1, 0x4, 1, "\x88") + frame(0x0, 0x1, 1, "hello") +
                frame(0x3, 0, 3, u32(8)));
  }  // both connections end
  writer_.flush();
  EXPECT_TRUE(writer_.stats().ok.load());
  EXPECT_EQ(catalog_.h2_stream_ids("01CLIENT"), (std::vector<std::uint32_t>{0, 1, 3}));
  EXPECT_EQ(catalog_.h2_stream_ids("01UPSTREAM"), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_FALSE(catalog_.h2_stream_ids("01UNKNOWN"));

  const auto stream1 = catalog_.h2_stream_records("01CLIENT", 1);
  ASSERT_TRUE(stream1);
  const auto records = read_records(*stream1);
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[0].side, hark::capture::h2_side::client);
  EXPECT_EQ(records[0].payload, "\x82\x86");
  EXPECT_EQ(records[1].side, hark::capture::h2_side::server);
  EXPECT_EQ(records[2].type, 0x0);
  EXPECT_EQ(records[2].length, 5U);
  const auto stream0 = read_records(*catalog_.h2_stream_records("01UPSTREAM", 0));
  ASSERT_EQ(stream0.size(), 1U);
  EXPECT_EQ(stream0[0].side, hark::capture::h2_side::client) << "Hark is the upstream's client";
  EXPECT_EQ(catalog_.h2_stream_records("01CLIENT", 5), std::string()) << "known connection";
  EXPECT_FALSE(catalog_.h2_stream_records("01UNKNOWN", 1));
  EXPECT_EQ(query_int(db_,
                      "SELECT client_port FROM h2_frame_batches WHERE connection_id = "
                      "'01CLIENT'"),
            4000);
}

TEST_F(h2_frame_store, a_busy_connection_is_a_row_per_batch_compressed) {
  {
    frame_tap tap(recorder_, "01BUSY", h2_leg::client);
    tap.received(preface);
    // 1000 streams, each: request HEADERS, response HEADERS, two DATA; and a connection-level
    // WINDOW_UPDATE every ten streams.
    for (std::uint32_t i = 0; i < 1000; ++i) {
      const std::uint32_t id = 2 * i + 1;
      tap.received(frame(0x1, 0x5, id, "\x82\x86\x84\x41\x8a\x08\x9d\x5c\x0b\x81\x70\xdc"));
      tap.sent(frame(0x1, 0x4, id, "\x88\x5f\x87\x49\x7c\xa5\x8a\xe8\x19\xaa"));
      tap.sent(frame(0x0, 0, id, std::string(1000, 'd')));
      tap.sent(frame(0x0, 0x1, id, std::string(10, 'd')));
      if (i % 10 == 9) {
        tap.received(frame(0x8, 0, 0, u32(10'000)));
      }
    }
  }
  writer_.flush();
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM h2_frame_batches"), (4000 + 100 + 255) / 256);
  EXPECT_EQ(query_int(db_, "SELECT sum(frames) FROM h2_frame_batches"), 4100);
  EXPECT_GE(query_int(db_, "SELECT count(*) FROM h2_frame_batches WHERE codec = 1"), 15);
  const auto ids = catalog_.h2_stream_ids("01BUSY");
  ASSERT_TRUE(ids);
  ASSERT_EQ(ids->size(), 1001U);
  EXPECT_EQ(ids->front(), 0U);
  EXPECT_EQ(ids->back(), 1999U);
  for (const std::uint32_t id : {1U, 1023U, 1999U}) {
    const auto records = read_records(*catalog_.h2_stream_records("01BUSY", id));
    ASSERT_EQ(records.size(), 4U) << id;
    EXPECT_EQ(records[2].length, 1000U);
    EXPECT_TRUE(records[2].payload.empty());
  }
  EXPECT_EQ(read_records(*catalog_.h2_stream_records("01BUSY", 0)).size(), 100U);
}

TEST_F(h2_frame_store, a_connection_stays_in_the_session_it_started_recording_in) {
  recording_.set(session_.id, false);
  frame_tap tap(recorder_, "01MOVING", h2_leg::client);
  tap.received(std::string(preface) + frame(0x4, 0, 0, ""));
  tap.publish();  // not recording: dropped
  recording_.set(session_.id, true);
  tap.received(frame(0x6, 0, 0, "12345678"));
  tap.publish();
  const auto other = catalog_.activate_session(catalog_.create_session("other", 2000).id, 3000);
  recording_.set(other->id, true);
  tap.received(frame(0x6, 0x1, 0, "12345678"));
  tap.flush();
  writer_.flush();
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM h2_frame_batches"), 2);
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM h2_frame_batches WHERE session_id = '" +
                               session_.id + "'"),
            2);
  EXPECT_EQ(read_records(*catalog_.h2_stream_records("01MOVING", 0)).size(), 2U);
}

TEST_F(h2_frame_store, deleted_with_their_session_and_skipped_for_unknown_sessions) {
  hark::h2::test::batch_sink sink;
  sink.session = "no-such-session";
  {
    frame_tap gone(recorder_, "01GONE", h2_leg::client);
    gone.received(std::string(preface) + frame(0x4, 0, 0, ""));
    frame_tap lost(sink, "01LOST", h2_leg::client);
    lost.received(std::string(preface) + frame(0x4, 0, 0, ""));
  }
  ASSERT_EQ(sink.batches.size(), 1U);
  writer_.submit_h2(std::move(sink.batches[0]));
  writer_.flush();
  EXPECT_TRUE(writer_.stats().ok.load());
  EXPECT_TRUE(catalog_.h2_stream_ids("01GONE"));
  EXPECT_FALSE(catalog_.h2_stream_ids("01LOST"));
  EXPECT_TRUE(catalog_.delete_session(session_.id));
  EXPECT_FALSE(catalog_.h2_stream_ids("01GONE"));
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM h2_frame_batches"), 0);
}

}  // namespace
