#include "hark/store/capture_record.hpp"

#include <gtest/gtest.h>

#include <future>

namespace {

using namespace hark::store;
using namespace hark::capture;
using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;

std::shared_future<std::optional<process_info>> ready(std::optional<process_info> p) {
  std::promise<std::optional<process_info>> promise;
  promise.set_value(std::move(p));
  return promise.get_future().share();
}

/** An entry with every optional set and every field different from its default. */
entry_record full_entry() {
  entry_record r;
  r.id = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
  r.session_id = "6f1c2d4e-0000-4000-8000-000000000001";
  r.url = "https://example.com/a?b=c";
  r.host = "example.com";
  r.client_addr = net_address{"127.0.0.1", 50000};
  r.remote_addr = net_address{"::1", std::nullopt};
  r.http_version = "HTTP/2";
  r.transaction_type = "push_promise";
  r.request.method = "POST";
  r.request.path = "/a?b=c";
  r.request.http_version = "HTTP/2";
  r.request.headers = {{"Host", "example.com"}, {"X-Empty", ""}};
  r.request.trailers = {{"grpc-status", "0"}};
  r.request.body_size = 5;
  r.request.body_truncated = true;
  response_record res;
  res.http_version = "HTTP/2";
  res.status_code = 404;
  res.status_text = "Not Found";
  res.headers = {{"Content-Type", "text/plain"}};
  res.trailers = {{"x-t", "1"}};
  res.body_size = 1u << 20;
  res.body_truncated = true;
  r.response = std::move(res);
  r.is_websocket = true;
  r.tls.connection_id = "01HTLS";
  r.tls.tls_version = named_u16{772, "TLSv1.3"};
  r.tls.cipher_suite = named_u16{4865, "TLS_AES_128_GCM_SHA256"};
  r.tls.ja3 = ja3_fingerprint{"771,4865", "abc"};
  r.tls.ja4 = ja4_fingerprint{"t13d", "t13d_x"};
  r.http2 = http2_ref{"01HH2", 7};
  r.upstream_http2 = http2_ref{"01HUP", 9};
  r.upstream_http_version = "HTTP/1.1";
  r.timings.started_at = time_point(std::chrono::microseconds(1'700'000'000'123'456));
  r.timings.blocked = 0.5;
  r.timings.dns = 1.25;
  r.timings.connect = 2;
  r.timings.send = 3;
  r.timings.wait = 4;
  r.timings.receive = 5;
  r.timings.ssl = 6;
  r.process = ready(process_info{4242, "curl"});
  r.error = flow_error{"connect_failed", "hark: cannot connect"};
  r.request_body = std::string("a\0b\xff", 4);
  r.response_body = std::string(100'000, 'z');
  r.duration_ms = 12.5;
  return r;
}

void expect_headers(const header_list& a, const header_list& b) {
  EXPECT_EQ(a, b);
}

void expect_address(const std::optional<net_address>& a, const std::optional<net_address>& b) {
  ASSERT_EQ(a.has_value(), b.has_value());
  if (a) {
    EXPECT_EQ(a->ip, b->ip);
    EXPECT_EQ(a->port, b->port);
  }
}

void expect_named(const std::optional<named_u16>& a, const std::optional<named_u16>& b) {
  ASSERT_EQ(a.has_value(), b.has_value());
  if (a) {
    EXPECT_EQ(a->value, b->value);
    EXPECT_EQ(a->name, b->name);
  }
}

void expect_tls(const tls_details& a, const tls_details& b) {
  EXPECT_EQ(a.connection_id, b.connection_id);
  expect_named(a.tls_version, b.tls_version);
  expect_named(a.cipher_suite, b.cipher_suite);
  ASSERT_EQ(a.ja3.has_value(), b.ja3.has_value());
  if (a.ja3) {
    EXPECT_EQ(a.ja3->string, b.ja3->string);
    EXPECT_EQ(a.ja3->hash, b.ja3->hash);
  }
  ASSERT_EQ(a.ja4.has_value(), b.ja4.has_value());
  if (a.ja4) {
    EXPECT_EQ(a.ja4->raw, b.ja4->raw);
    EXPECT_EQ(a.ja4->hashed, b.ja4->hashed);
  }
}

void expect_h2(const std::optional<http2_ref>& a, const std::optional<http2_ref>& b) {
  ASSERT_EQ(a.has_value(), b.has_value());
  if (a) {
    EXPECT_EQ(a->connection_id, b->connection_id);
    EXPECT_EQ(a->stream_id, b->stream_id);
  }
}

void expect_entry(const entry_record& a, const entry_record& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.session_id, b.session_id);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.host, b.host);
  expect_address(a.client_addr, b.client_addr);
  expect_address(a.remote_addr, b.remote_addr);
  EXPECT_EQ(a.http_version, b.http_version);
  EXPECT_EQ(a.transaction_type, b.transaction_type);
  EXPECT_EQ(a.request.method, b.request.method);
  EXPECT_EQ(a.request.path, b.request.path);
  EXPECT_EQ(a.request.http_version, b.request.http_version);
  expect_headers(a.request.headers, b.request.headers);
  expect_headers(a.request.trailers, b.request.trailers);
  EXPECT_EQ(a.request.body_size, b.request.body_size);
  EXPECT_EQ(a.request.body_truncated, b.request.body_truncated);
  ASSERT_EQ(a.response.has_value(), b.response.has_value());
  if (a.response) {
    EXPECT_EQ(a.response->http_version, b.response->http_version);
    EXPECT_EQ(a.response->status_code, b.response->status_code);
    EXPECT_EQ(a.response->status_text, b.response->status_text);
    expect_headers(a.response->headers, b.response->headers);
    expect_headers(a.response->trailers, b.response->trailers);
    EXPECT_EQ(a.response->body_size, b.response->body_size);
    EXPECT_EQ(a.response->body_truncated, b.response->body_truncated);
  }
  EXPECT_EQ(a.is_websocket, b.is_websocket);
  expect_tls(a.tls, b.tls);
  expect_h2(a.http2, b.http2);
  expect_h2(a.upstream_http2, b.upstream_http2);
  EXPECT_EQ(a.upstream_http_version, b.upstream_http_version);
  EXPECT_EQ(a.timings.started_at, b.timings.started_at);
  EXPECT_EQ(a.timings.blocked, b.timings.blocked);
  EXPECT_EQ(a.timings.dns, b.timings.dns);
  EXPECT_EQ(a.timings.connect, b.timings.connect);
  EXPECT_EQ(a.timings.send, b.timings.send);
  EXPECT_EQ(a.timings.wait, b.timings.wait);
  EXPECT_EQ(a.timings.receive, b.timings.receive);
  EXPECT_EQ(a.timings.ssl, b.timings.ssl);
  ASSERT_TRUE(b.process.valid());
  const auto expected = a.process.valid() ? a.process.get() : std::nullopt;
  ASSERT_EQ(expected.has_value(), b.process.get().has_value());
  if (expected) {
    EXPECT_EQ(expected->pid, b.process.get()->pid);
    EXPECT_EQ(expected->name, b.process.get()->name);
  }
  ASSERT_EQ(a.error.has_value(), b.error.has_value());
  if (a.error) {
    EXPECT_EQ(a.error->code, b.error->code);
    EXPECT_EQ(a.error->message, b.error->message);
  }
  EXPECT_EQ(a.request_body, b.request_body);
  EXPECT_EQ(a.response_body, b.response_body);
  EXPECT_EQ(a.duration_ms, b.duration_ms);
}

/** Encodes, seals and decodes one record; `bytes` gets the sealed record. */
template <class Record>
Record round_trip(const Record& record, std::string* bytes = nullptr) {
  std::string out;
  append_record(out, record);
  seal_records(out.data(), out.size());
  const auto frame = parse_frame(out);
  EXPECT_EQ(frame.status, frame_status::ok);
  EXPECT_EQ(frame.size, out.size());
  if (bytes != nullptr) {
    *bytes = out;
  }
  return std::get<Record>(decode_record(frame));
}

TEST(capture_record, entry_with_every_field_set_round_trips) {
  const auto r = full_entry();
  expect_entry(r, round_trip(r));
}

TEST(capture_record, entry_with_every_optional_empty_round_trips) {
  entry_record r;
  r.id = "01H";
  r.process = ready(std::nullopt);
  const auto back = round_trip(r);
  expect_entry(r, back);
  EXPECT_FALSE(back.process.get().has_value());
}

TEST(capture_record, process_without_name_and_without_a_future_round_trip) {
  entry_record r = full_entry();
  r.process = ready(process_info{7, std::nullopt});
  expect_entry(r, round_trip(r));
  r.process = {};  // no lookup at all (remote client)
  EXPECT_FALSE(round_trip(r).process.get().has_value());
}

TEST(capture_record, a_pending_process_is_patched_before_sealing) {
  entry_record r = full_entry();
  std::promise<std::optional<process_info>> later;
  r.process = later.get_future().share();
  std::string out;
  append_record(out, r);
  ASSERT_TRUE(process_pending(out.data()));
  patch_process(out.data(), process_info{99, "a-very-long-process-name-beyond-the-slot-size"});
  EXPECT_FALSE(process_pending(out.data()));
  seal_records(out.data(), out.size());
  const auto back = std::get<entry_record>(decode_record(parse_frame(out)));
  ASSERT_TRUE(back.process.get());
  EXPECT_EQ(back.process.get()->pid, 99);
  EXPECT_EQ(back.process.get()->name, "a-very-long-process-name-beyond-");  // 32 bytes kept
}

TEST(capture_record, an_unpatched_process_reads_as_null) {
  entry_record r = full_entry();
  std::promise<std::optional<process_info>> never;
  r.process = never.get_future().share();
  EXPECT_FALSE(round_trip(r).process.get().has_value());
}

TEST(capture_record, tls_log_round_trips) {
  tls_connection_log log;
  log.connection_id = "01HTLS";
  log.session_id = "s";
  log.at = time_point(std::chrono::microseconds(1'700'000'000'000'001));
  log.client_addr = net_address{"10.0.0.1", 443};
  log.sni = "example.com";
  log.alpn = "h2";
  log.details.connection_id = "01HTLS";
  log.details.tls_version = named_u16{771, "TLSv1.2"};
  log.details.ja4 = ja4_fingerprint{"r", "h"};
  log.failure = "unknown ca";
  log.messages.push_back(tls_message{log.at + 1ms, tls_leg::upstream, tls_side::server, 22, 772,
                                     std::string("\x01\x00\x00\x01\x00", 5)});
  log.messages.push_back(tls_message{log.at + 2ms, tls_leg::client, tls_side::client, 21, 771, ""});
  const auto back = round_trip(log);
  EXPECT_EQ(back.connection_id, log.connection_id);
  EXPECT_EQ(back.session_id, log.session_id);
  EXPECT_EQ(back.at, log.at);
  expect_address(back.client_addr, log.client_addr);
  EXPECT_EQ(back.sni, log.sni);
  EXPECT_EQ(back.alpn, log.alpn);
  expect_tls(back.details, log.details);
  EXPECT_EQ(back.failure, log.failure);
  ASSERT_EQ(back.messages.size(), 2U);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.messages[i].at, log.messages[i].at);
    EXPECT_EQ(back.messages[i].leg, log.messages[i].leg);
    EXPECT_EQ(back.messages[i].side, log.messages[i].side);
    EXPECT_EQ(back.messages[i].content_type, log.messages[i].content_type);
    EXPECT_EQ(back.messages[i].version, log.messages[i].version);
    EXPECT_EQ(back.messages[i].bytes, log.messages[i].bytes);
  }
  tls_connection_log empty;
  const auto empty_back = round_trip(empty);
  EXPECT_FALSE(empty_back.client_addr || empty_back.sni || empty_back.alpn || empty_back.failure);
  EXPECT_TRUE(empty_back.messages.empty());
}

TEST(capture_record, ws_message_round_trips_with_its_type_name) {
  ws_message_record m;
  m.entry_id = "01HWS";
  m.session_id = "s";
  m.seq = 41;
  m.from_client = true;
  m.started_us = 1'700'000'000'000'000;
  m.ended_us = 1'700'000'000'000'007;
  m.type = "binary";
  m.payload = std::string("\0\1\2", 3);
  m.truncated = true;
  m.wire_bytes = 1234;
  const auto back = round_trip(m);
  EXPECT_EQ(back.entry_id, m.entry_id);
  EXPECT_EQ(back.session_id, m.session_id);
  EXPECT_EQ(back.seq, m.seq);
  EXPECT_EQ(back.from_client, m.from_client);
  EXPECT_EQ(back.started_us, m.started_us);
  EXPECT_EQ(back.ended_us, m.ended_us);
  EXPECT_EQ(back.type, "binary");
  EXPECT_EQ(back.payload, m.payload);
  EXPECT_EQ(back.truncated, m.truncated);
  EXPECT_EQ(back.wire_bytes, m.wire_bytes);
  m.type = "something else";
  EXPECT_EQ(round_trip(m).type, "unknown");
}

TEST(capture_record, h2_batch_round_trips) {
  h2_frame_batch b;
  b.connection_id = "01HH2";
  b.session_id = "s";
  b.leg = h2_leg::upstream;
  b.client_addr = net_address{"127.0.0.1", 1};
  b.sequence = 3;
  b.frame_count = 2;
  b.first_at = time_point(std::chrono::microseconds(1'700'000'000'000'002));
  b.records = std::string(300, '\x7f');
  const auto back = round_trip(b);
  EXPECT_EQ(back.connection_id, b.connection_id);
  EXPECT_EQ(back.session_id, b.session_id);
  EXPECT_EQ(back.leg, b.leg);
  expect_address(back.client_addr, b.client_addr);
  EXPECT_EQ(back.sequence, b.sequence);
  EXPECT_EQ(back.frame_count, b.frame_count);
  EXPECT_EQ(back.first_at, b.first_at);
  EXPECT_EQ(back.records, b.records);
}

TEST(capture_record, a_torn_tail_is_truncated_and_a_damaged_record_corrupt) {
  std::string log;
  append_record(log, full_entry());
  const std::size_t first = log.size();
  append_record(log, full_entry());
  seal_records(log.data(), log.size());
  const auto one = parse_frame(log);
  ASSERT_EQ(one.status, frame_status::ok);
  ASSERT_EQ(one.size, first);
  // Every cut of the second record (a crash in the middle of its write) reads as truncated.
  for (std::size_t cut = first; cut < log.size(); cut += 997) {
    EXPECT_EQ(parse_frame(std::string_view(log).substr(first, cut - first)).status,
              frame_status::truncated)
        << cut;
  }
  EXPECT_EQ(parse_frame(std::string_view(log).substr(first)).status, frame_status::ok);
  // A flipped bit anywhere past the size field fails the checksum or the header check.
  for (std::size_t at : {first + 4, first + 8, first + 20, log.size() - 1}) {
    std::string damaged = log;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    EXPECT_EQ(parse_frame(std::string_view(damaged).substr(first)).status, frame_status::corrupt)
        << at;
  }
  // Zeros (a file extended but never written, after a power loss) are not a record either.
  EXPECT_EQ(parse_frame(std::string(64, '\0')).status, frame_status::corrupt);
}

}  // namespace
