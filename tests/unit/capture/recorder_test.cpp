#include "hark/capture/recorder.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include <future>
#include <string>
#include <vector>

namespace {

using namespace hark::capture;
namespace ip = boost::asio::ip;

/** The record queue of a test: keeps what it is given. */
struct kept_records final : record_queue {
  std::vector<entry_record> records;
  std::vector<tls_connection_log> logs;
  void submit(entry_record&& r) override { records.push_back(std::move(r)); }
  void submit_tls(tls_connection_log&& l) override { logs.push_back(std::move(l)); }
};

http_head request_head(std::string target) {
  http_head h;
  h.method = "POST";
  h.target = std::move(target);
  h.version = 11;
  h.fields = {{"Host", "example.com"}, {"X-Case", "KeptAsSent"}};
  return h;
}

http_head response_head(int status) {
  http_head h;
  h.status = status;
  h.reason = "OK";
  h.version = 10;
  h.fields = {{"Content-Type", "text/plain"}};
  return h;
}

struct recorder_test : ::testing::Test {
  kept_records queue;
  recording_state state;
  connection_info connection;
  flow f;

  recorder_test() {
    state.set(std::string("S1"), true);
    connection.client = {ip::make_address("::ffff:127.0.0.1"), 40000};
    std::promise<std::optional<process_info>> p;
    p.set_value(process_info{4242, std::string("curl")});
    connection.process = p.get_future().share();
    f.connection = &connection;
    f.host = "example.com";
    f.url = "http://example.com/upload?x=1";
  }
};

TEST_F(recorder_test, a_complete_exchange_becomes_one_record_with_everything_seen) {
  recorder rec(queue, state, 1024);
  rec.on_request_head(f, request_head("http://example.com/upload?x=1"));
  rec.on_request_body(f, "abc");
  rec.on_request_body(f, "def");
  rec.on_request_end(f, {{"X-Trailer", "t"}});
  rec.on_response_head(f, response_head(201));
  rec.on_response_body(f, "created");
  rec.on_response_end(f, {});
  EXPECT_TRUE(queue.records.empty());  // nothing leaves before the flow ends
  rec.on_flow_end(f, {});
  ASSERT_EQ(queue.records.size(), 1u);
  const entry_record& r = queue.records[0];
  EXPECT_EQ(r.session_id, "S1");
  EXPECT_EQ(r.url, "http://example.com/upload?x=1");
  EXPECT_EQ(r.request.path, "/upload?x=1");  // origin-form, though the client sent absolute
  EXPECT_EQ(r.request.method, "POST");
  EXPECT_EQ(r.request.headers, request_head("").fields);
  EXPECT_EQ(r.request.trailers, (header_list{{"X-Trailer", "t"}}));
  EXPECT_EQ(r.request_body, "abcdef");
  EXPECT_EQ(r.request.body_size, 6u);
  EXPECT_FALSE(r.request.body_truncated);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->status_code, 201);
  EXPECT_EQ(r.response->http_version, "HTTP/1.0");
  EXPECT_EQ(r.http_version, "HTTP/1.1");
  EXPECT_EQ(r.response_body, "created");
  EXPECT_EQ(r.response->body_size, 7u);
  ASSERT_TRUE(r.client_addr);
  EXPECT_EQ(r.client_addr->ip, "127.0.0.1");  // v4-mapped shown as IPv4
  ASSERT_TRUE(r.process.valid());
  EXPECT_EQ(r.process.get()->pid, 4242);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(f.sink_state, nullptr);  // the flow's state is released with the record
}

TEST_F(recorder_test, bodies_are_kept_up_to_the_cap_and_counted_in_full) {
  recorder rec(queue, state, 4);
  rec.on_request_head(f, request_head("/"));
  rec.on_request_body(f, "abc");
  rec.on_request_body(f, "defgh");
  rec.on_response_head(f, response_head(200));
  EXPECT_TRUE(rec.wants_response_body(f));
  rec.on_response_body(f, "0123");
  EXPECT_FALSE(rec.wants_response_body(f));  // the cap is full: the rest may be skipped
  rec.on_response_body_skipped(f, 1000);
  rec.on_flow_end(f, {});
  ASSERT_EQ(queue.records.size(), 1u);
  const entry_record& r = queue.records[0];
  EXPECT_EQ(r.request_body, "abcd");
  EXPECT_TRUE(r.request.body_truncated);
  EXPECT_EQ(r.request.body_size, 8u);
  EXPECT_EQ(r.response_body, "0123");
  EXPECT_TRUE(r.response->body_truncated);
  EXPECT_EQ(r.response->body_size, 1004u);
}

TEST_F(recorder_test, a_body_exactly_at_the_cap_is_not_truncated) {
  recorder rec(queue, state, 4);
  rec.on_request_head(f, request_head("/"));
  rec.on_response_head(f, response_head(200));
  rec.on_response_body(f, "01");
  rec.on_response_body(f, "23");
  rec.on_response_body_skipped(f, 0);
  rec.on_flow_end(f, {});
  ASSERT_EQ(queue.records.size(), 1u);
  EXPECT_EQ(queue.records[0].response_body, "0123");
  EXPECT_FALSE(queue.records[0].response->body_truncated);
}

TEST_F(recorder_test, a_failed_exchange_keeps_its_error_and_has_no_response) {
  recorder rec(queue, state, 1024);
  rec.on_request_head(f, request_head("/"));
  rec.on_response_body(f, "ignored without a head");
  rec.on_flow_end(f, flow_outcome{flow_error{"connect_failed", "hark: cannot connect"}});
  ASSERT_EQ(queue.records.size(), 1u);
  const entry_record& r = queue.records[0];
  EXPECT_FALSE(r.response);
  EXPECT_EQ(r.response_body, "");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "connect_failed");
}

TEST_F(recorder_test, nothing_is_kept_while_not_recording_and_a_later_change_waits_for_new_flows) {
  recorder rec(queue, state, 1024);
  state.set(std::string("S1"), false);
  rec.on_request_head(f, request_head("/"));
  state.set(std::string("S2"), true);  // mid-exchange: this flow stays unrecorded
  rec.on_request_body(f, "x");
  rec.on_response_head(f, response_head(200));
  rec.on_flow_end(f, {});
  EXPECT_TRUE(queue.records.empty());

  flow next;
  next.connection = &connection;
  rec.on_request_head(next, request_head("/"));
  state.set(std::nullopt, false);  // mid-exchange again: this one was recording, and stays so
  rec.on_flow_end(next, {});
  ASSERT_EQ(queue.records.size(), 1u);
  EXPECT_EQ(queue.records[0].session_id, "S2");
}

TEST_F(recorder_test, a_tls_log_goes_to_the_session_of_its_handshake) {
  recorder rec(queue, state, 1024);
  tls_connection_log log;
  log.connection_id = "C1";
  rec.on_tls_connection(log);
  EXPECT_EQ(log.session_id, "S1");
  state.set(std::string("S2"), true);
  rec.on_tls_connection(log);  // an update after recording moved on
  ASSERT_EQ(queue.logs.size(), 2u);
  EXPECT_EQ(queue.logs[1].session_id, "S1");

  state.set(std::nullopt, false);
  tls_connection_log unrecorded;
  rec.on_tls_connection(unrecorded);
  EXPECT_EQ(queue.logs.size(), 2u);
  EXPECT_EQ(unrecorded.session_id, "");
}

TEST(recorder_versions, http_versions_print_as_the_api_shows_them) {
  EXPECT_EQ(http_version_string(10), "HTTP/1.0");
  EXPECT_EQ(http_version_string(11), "HTTP/1.1");
  EXPECT_EQ(http_version_string(20), "HTTP/2");
  EXPECT_EQ(http_version_string(9), "HTTP/0.9");
}

}  // namespace
