// TLS connection logs in the store: written by the writer thread, read back by the catalog,
// replaced by a later log of the same connection, deleted with their session.

#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace hark::store;
using hark::capture::tls_connection_log;
using hark::capture::tls_leg;
using hark::capture::tls_message;
using hark::capture::tls_side;
using test::query_int;
using test::temp_dir;

tls_connection_log sample_log(const std::string& id, const std::string& session_id,
                              std::size_t certificate_bytes = 300) {
  tls_connection_log log;
  log.connection_id = id;
  log.session_id = session_id;
  log.at = std::chrono::system_clock::time_point(std::chrono::microseconds(1'700'000'000'123'456));
  log.client_addr = hark::capture::net_address{"127.0.0.1", 40000};
  log.sni = "example.com";
  log.alpn = "http/1.1";
  log.details.connection_id = id;
  log.details.tls_version = hark::capture::named_u16{0x0304, "TLSv1.3"};
  log.details.cipher_suite = hark::capture::named_u16{0x1301, "TLS_AES_128_GCM_SHA256"};
  log.details.ja3 = hark::capture::ja3_fingerprint{"771,4865,0,29,0", "abc"};
  log.details.ja4 = hark::capture::ja4_fingerprint{"t13d_raw", "t13d_hashed"};
  tls_message hello;
  hello.at = log.at;
  hello.leg = tls_leg::client;
  hello.side = tls_side::client;
  hello.content_type = 22;
  hello.version = 0x0303;
  hello.bytes = std::string("\x01\x00\x00\x02\x00\xff", 6);  // binary, with a NUL
  tls_message cert = hello;
  cert.leg = tls_leg::upstream;
  cert.side = tls_side::server;
  cert.version = 0x0304;
  cert.bytes = std::string(certificate_bytes, '\x30');
  log.messages = {hello, cert};
  return log;
}

class tls_log_store : public ::testing::Test {
 protected:
  temp_dir dir_;
  std::filesystem::path path_ = dir_.path() / "hark.db";
  database db_{path_};
  catalog catalog_{db_};
  session session_ = catalog_.create_active_session("s", 1000);

  writer_options options() const { return {.database_path = path_}; }
};

TEST_F(tls_log_store, round_trip_through_the_writer) {
  writer w(options());
  w.submit_tls(sample_log("01TLSCONN", session_.id));
  w.flush();
  const auto log = catalog_.get_tls_connection("01TLSCONN");
  ASSERT_TRUE(log);
  const auto expected = sample_log("01TLSCONN", session_.id);
  EXPECT_EQ(log->session_id, session_.id);
  EXPECT_EQ(log->at, expected.at);
  EXPECT_EQ(log->client_addr->ip, "127.0.0.1");
  EXPECT_EQ(log->client_addr->port, 40000);
  EXPECT_EQ(log->sni, "example.com");
  EXPECT_EQ(log->alpn, "http/1.1");
  EXPECT_EQ(log->details.tls_version->name, "TLSv1.3");
  EXPECT_EQ(log->details.cipher_suite->value, 0x1301);
  EXPECT_EQ(log->details.ja3->hash, "abc");
  EXPECT_EQ(log->details.ja4->raw, "t13d_raw");
  EXPECT_FALSE(log->failure);
  ASSERT_EQ(log->messages.size(), 2U);
  EXPECT_EQ(log->messages[0].bytes, expected.messages[0].bytes);
  EXPECT_EQ(log->messages[1].leg, tls_leg::upstream);
  EXPECT_EQ(log->messages[1].side, tls_side::server);
  EXPECT_EQ(log->messages[1].version, 0x0304);
  EXPECT_EQ(log->messages[1].at, expected.at);
  EXPECT_FALSE(catalog_.get_tls_connection("01UNKNOWN"));
}

TEST_F(tls_log_store, large_logs_are_compressed_and_restored) {
  writer w(options());
  w.submit_tls(sample_log("01BIG", session_.id, 60'000));
  w.flush();
  EXPECT_EQ(query_int(db_, "SELECT codec FROM tls_connections WHERE id = '01BIG'"), 1);
  EXPECT_LT(query_int(db_, "SELECT length(data) FROM tls_connections"), 10'000);
  EXPECT_EQ(catalog_.get_tls_connection("01BIG")->messages[1].bytes, std::string(60'000, '\x30'));
}

TEST_F(tls_log_store, a_later_log_replaces_the_earlier_one) {
  writer w(options());
  w.submit_tls(sample_log("01CONN", session_.id));
  auto later = sample_log("01CONN", session_.id);
  later.messages.push_back(later.messages[0]);
  later.failure = "handshake timed out";
  w.submit_tls(std::move(later));
  w.flush();
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM tls_connections"), 1);
  const auto log = catalog_.get_tls_connection("01CONN");
  EXPECT_EQ(log->messages.size(), 3U);
  EXPECT_EQ(log->failure, "handshake timed out");
}

TEST_F(tls_log_store, deleted_with_the_session_and_skipped_for_unknown_sessions) {
  const auto other = catalog_.create_session("other", 2000);
  writer w(options());
  w.submit_tls(sample_log("01KEEP", session_.id));
  w.submit_tls(sample_log("01GONE", other.id));
  w.submit_tls(sample_log("01NOSESSION", "no-such-session"));
  w.flush();
  EXPECT_TRUE(w.stats().ok.load());
  EXPECT_FALSE(catalog_.get_tls_connection("01NOSESSION"));
  ASSERT_TRUE(catalog_.get_tls_connection("01GONE"));
  ASSERT_TRUE(catalog_.delete_session(other.id));
  EXPECT_FALSE(catalog_.get_tls_connection("01GONE"));
  EXPECT_TRUE(catalog_.get_tls_connection("01KEEP"));
}

TEST_F(tls_log_store, corrupt_row_is_a_store_error) {
  db_.exec(
      "INSERT INTO tls_connections (id, session_id, started_us, codec, size, data) "
      "VALUES ('01BAD', '" +
      session_.id + "', 0, 0, 3, x'ffffff')");
  EXPECT_THROW(catalog_.get_tls_connection("01BAD"), store_error);
}

}  // namespace
