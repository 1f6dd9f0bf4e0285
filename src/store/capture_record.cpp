// capture_record: encoding and decoding of the capture log's records (format in the header).
// The field-by-field codec is written here by hand: the records are Hark's own structs, and a
// fixed little-endian layout with length-prefixed strings is the cheapest thing a worker can
// write (no schema compiler, no allocation beyond the buffer it appends to).
#include "hark/store/capture_record.hpp"

#include "hark/ws/message.hpp"

#include <zlib.h>

#include <array>
#include <bit>
#include <cstring>
#include <future>
#include <stdexcept>

namespace hark::store {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the capture log is written in the host's byte order, little-endian");

using namespace capture;
using time_point = std::chrono::system_clock::time_point;

// The process slot's states.
constexpr std::uint8_t process_waiting = 0;  ///< lookup not finished when encoded
constexpr std::uint8_t process_none = 1;     ///< no local process (process: null)
constexpr std::uint8_t process_found = 2;    ///< pid, no name
constexpr std::uint8_t process_named = 3;    ///< pid and name
constexpr std::size_t process_name_max = process_slot_size - 6;

class encoder {
 public:
  explicit encoder(std::string& out) : out_(out) {}

  template <class Int>
  void fixed(Int v) {
    char bytes[sizeof(Int)];
    std::memcpy(bytes, &v, sizeof(Int));
    out_.append(bytes, sizeof(Int));
  }
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void f64(double v) { fixed(std::bit_cast<std::uint64_t>(v)); }
  void str(std::string_view s) {
    fixed(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void time(time_point t) {
    fixed(static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count()));
  }
  template <class T, class F>
  void opt(const std::optional<T>& v, F&& put) {
    boolean(v.has_value());
    if (v) {
      put(*v);
    }
  }
  void opt_str(const std::optional<std::string>& v) {
    opt(v, [this](const std::string& s) { str(s); });
  }
  void opt_f64(const std::optional<double>& v) {
    opt(v, [this](double d) { f64(d); });
  }
  void opt_u64(const std::optional<std::uint64_t>& v) {
    opt(v, [this](std::uint64_t n) { fixed(n); });
  }
  void headers(const header_list& h) {
    fixed(static_cast<std::uint32_t>(h.size()));
    for (const auto& [name, value] : h) {
      str(name);
      str(value);
    }
  }
  void address(const std::optional<net_address>& a) {
    opt(a, [this](const net_address& v) {
      str(v.ip);
      opt(v.port, [this](std::uint16_t p) { fixed(p); });
    });
  }
  void named(const std::optional<named_u16>& n) {
    opt(n, [this](const named_u16& v) {
      fixed(v.value);
      str(v.name);
    });
  }
  void tls(const tls_details& t) {
    opt_str(t.connection_id);
    named(t.tls_version);
    named(t.cipher_suite);
    opt(t.ja3, [this](const ja3_fingerprint& v) {
      str(v.string);
      str(v.hash);
    });
    opt(t.ja4, [this](const ja4_fingerprint& v) {
      str(v.raw);
      str(v.hashed);
    });
  }
  void h2_ref(const std::optional<http2_ref>& r) {
    opt(r, [this](const http2_ref& v) {
      str(v.connection_id);
      fixed(v.stream_id);
    });
  }

 private:
  std::string& out_;
};

class decoder {
 public:
  explicit decoder(std::string_view in) : in_(in) {}

  template <class Int>
  Int fixed() {
    need(sizeof(Int));
    Int v;
    std::memcpy(&v, in_.data() + at_, sizeof(Int));
    at_ += sizeof(Int);
    return v;
  }
  std::uint8_t u8() { return fixed<std::uint8_t>(); }
  bool boolean() { return u8() != 0; }
  double f64() { return std::bit_cast<double>(fixed<std::uint64_t>()); }
  std::string_view view() {
    const auto n = fixed<std::uint32_t>();
    need(n);
    std::string_view s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  std::string str() { return std::string(view()); }
  time_point time() {
    return time_point(std::chrono::duration_cast<time_point::duration>(
        std::chrono::nanoseconds(fixed<std::int64_t>())));
  }
  template <class F>
  auto opt(F&& get) -> std::optional<decltype(get())> {
    if (!boolean()) {
      return std::nullopt;
    }
    return get();
  }
  std::optional<std::string> opt_str() {
    return opt([this] { return str(); });
  }
  std::optional<double> opt_f64() {
    return opt([this] { return f64(); });
  }
  std::optional<std::uint64_t> opt_u64() {
    return opt([this] { return fixed<std::uint64_t>(); });
  }
  header_list headers() {
    header_list h(fixed<std::uint32_t>());
    for (auto& [name, value] : h) {
      name = str();
      value = str();
    }
    return h;
  }
  std::optional<net_address> address() {
    return opt([this] {
      net_address a;
      a.ip = str();
      a.port = opt([this] { return fixed<std::uint16_t>(); });
      return a;
    });
  }
  std::optional<named_u16> named() {
    return opt([this] {
      named_u16 n;
      n.value = fixed<std::uint16_t>();
      n.name = str();
      return n;
    });
  }
  tls_details tls() {
    tls_details t;
    t.connection_id = opt_str();
    t.tls_version = named();
    t.cipher_suite = named();
    t.ja3 = opt([this] {
      ja3_fingerprint f;
      f.string = str();
      f.hash = str();
      return f;
    });
    t.ja4 = opt([this] {
      ja4_fingerprint f;
      f.raw = str();
      f.hashed = str();
      return f;
    });
    return t;
  }
  std::optional<http2_ref> h2_ref() {
    return opt([this] {
      http2_ref r;
      r.connection_id = str();
      r.stream_id = fixed<std::uint32_t>();
      return r;
    });
  }
  void skip(std::size_t n) {
    need(n);
    at_ += n;
  }
  void finish() const {
    if (at_ != in_.size()) {
      throw std::runtime_error("capture record: trailing bytes");
    }
  }

 private:
  void need(std::size_t n) const {
    if (in_.size() - at_ < n) {
      throw std::runtime_error("capture record: payload ends early");
    }
  }

  std::string_view in_;
  std::size_t at_ = 0;
};

/** Appends a header whose size is filled in by end_frame(); returns the record's offset. */
std::size_t begin_frame(std::string& out, record_type type) {
  const std::size_t at = out.size();
  const std::array<char, record_header_size> header{
      0, 0, 0, 0, 0, 0, 0, 0, static_cast<char>(type), static_cast<char>(capture_record_version),
      0, 0};
  out.append(header.data(), header.size());
  return at;
}

void end_frame(std::string& out, std::size_t at) {
  const auto size = static_cast<std::uint32_t>(out.size() - at - record_header_size);
  std::memcpy(out.data() + at, &size, sizeof size);
}

/** Encodes the resolved process into a slot; an unresolved lookup leaves it waiting. */
void write_process_slot(char* slot, const std::optional<process_info>& process) noexcept {
  std::memset(slot, 0, process_slot_size);
  if (!process) {
    slot[0] = static_cast<char>(process_none);
    return;
  }
  std::memcpy(slot + 2, &process->pid, sizeof(std::int32_t));
  if (!process->name) {
    slot[0] = static_cast<char>(process_found);
    return;
  }
  const std::size_t n = std::min(process->name->size(), process_name_max);
  slot[0] = static_cast<char>(process_named);
  slot[1] = static_cast<char>(n);
  std::memcpy(slot + 6, process->name->data(), n);
}

std::optional<process_info> read_process_slot(const char* slot) {
  const auto state = static_cast<std::uint8_t>(slot[0]);
  if (state != process_found && state != process_named) {
    return std::nullopt;  // none, or a lookup that did not finish in time
  }
  process_info p;
  std::int32_t pid = 0;
  std::memcpy(&pid, slot + 2, sizeof pid);
  p.pid = pid;
  if (state == process_named) {
    const std::size_t n =
        std::min<std::size_t>(static_cast<std::uint8_t>(slot[1]), process_name_max);
    p.name = std::string(slot + 6, n);
  }
  return p;
}

std::string_view ws_type(std::string_view name) {
  using ws::message_type;
  for (const auto t : {message_type::text, message_type::binary, message_type::close,
                       message_type::ping, message_type::pong}) {
    if (ws::type_name(t) == name) {
      return ws::type_name(t);  // the static string the store compares and renders
    }
  }
  return ws::type_name(message_type::unknown);
}

void encode_request(encoder& e, const request_record& r) {
  e.opt_str(r.method);
  e.opt_str(r.path);
  e.opt_str(r.http_version);
  e.headers(r.headers);
  e.headers(r.trailers);
  e.opt_u64(r.body_size);
  e.boolean(r.body_truncated);
}

request_record decode_request(decoder& d) {
  request_record r;
  r.method = d.opt_str();
  r.path = d.opt_str();
  r.http_version = d.opt_str();
  r.headers = d.headers();
  r.trailers = d.headers();
  r.body_size = d.opt_u64();
  r.body_truncated = d.boolean();
  return r;
}

void encode_response(encoder& e, const response_record& r) {
  e.opt_str(r.http_version);
  e.opt(r.status_code, [&](int s) { e.fixed(static_cast<std::int32_t>(s)); });
  e.opt_str(r.status_text);
  e.headers(r.headers);
  e.headers(r.trailers);
  e.opt_u64(r.body_size);
  e.boolean(r.body_truncated);
}

response_record decode_response(decoder& d) {
  response_record r;
  r.http_version = d.opt_str();
  r.status_code = d.opt([&] { return static_cast<int>(d.fixed<std::int32_t>()); });
  r.status_text = d.opt_str();
  r.headers = d.headers();
  r.trailers = d.headers();
  r.body_size = d.opt_u64();
  r.body_truncated = d.boolean();
  return r;
}

void encode_timings(encoder& e, const timing_record& t) {
  e.time(t.started_at);
  for (const auto* v : {&t.blocked, &t.dns, &t.connect, &t.send, &t.wait, &t.receive, &t.ssl}) {
    e.opt_f64(*v);
  }
}

timing_record decode_timings(decoder& d) {
  timing_record t;
  t.started_at = d.time();
  for (auto* v : {&t.blocked, &t.dns, &t.connect, &t.send, &t.wait, &t.receive, &t.ssl}) {
    *v = d.opt_f64();
  }
  return t;
}

entry_record decode_entry(std::string_view payload) {
  entry_record r;
  decoder d(payload);
  d.skip(process_slot_size);
  std::promise<std::optional<process_info>> process;
  process.set_value(read_process_slot(payload.data()));
  r.process = process.get_future().share();
  r.id = d.str();
  r.session_id = d.str();
  r.url = d.str();
  r.host = d.str();
  r.client_addr = d.address();
  r.remote_addr = d.address();
  r.http_version = d.str();
  r.transaction_type = d.str();
  r.request = decode_request(d);
  r.response = d.opt([&] { return decode_response(d); });
  r.is_websocket = d.boolean();
  r.tls = d.tls();
  r.http2 = d.h2_ref();
  r.upstream_http2 = d.h2_ref();
  r.upstream_http_version = d.opt_str();
  r.timings = decode_timings(d);
  r.error = d.opt([&] {
    flow_error e;
    e.code = d.str();
    e.message = d.str();
    return e;
  });
  r.request_body = d.str();
  r.response_body = d.str();
  r.duration_ms = d.opt_f64();
  d.finish();
  return r;
}

tls_connection_log decode_tls(std::string_view payload) {
  tls_connection_log log;
  decoder d(payload);
  log.connection_id = d.str();
  log.session_id = d.str();
  log.at = d.time();
  log.client_addr = d.address();
  log.sni = d.opt_str();
  log.alpn = d.opt_str();
  log.details = d.tls();
  log.failure = d.opt_str();
  log.messages.resize(d.fixed<std::uint32_t>());
  for (auto& m : log.messages) {
    m.at = d.time();
    m.leg = static_cast<tls_leg>(d.u8());
    m.side = static_cast<tls_side>(d.u8());
    m.content_type = d.u8();
    m.version = d.fixed<std::uint16_t>();
    m.bytes = d.str();
  }
  d.finish();
  return log;
}

ws_message_record decode_ws(std::string_view payload) {
  ws_message_record m;
  decoder d(payload);
  m.entry_id = d.str();
  m.session_id = d.str();
  m.seq = d.fixed<std::int64_t>();
  m.from_client = d.boolean();
  m.started_us = d.fixed<std::int64_t>();
  m.ended_us = d.fixed<std::int64_t>();
  m.type = ws_type(d.view());
  m.payload = d.str();
  m.truncated = d.boolean();
  m.wire_bytes = d.fixed<std::uint64_t>();
  d.finish();
  return m;
}

h2_frame_batch decode_h2(std::string_view payload) {
  h2_frame_batch b;
  decoder d(payload);
  b.connection_id = d.str();
  b.session_id = d.str();
  b.leg = static_cast<h2_leg>(d.u8());
  b.client_addr = d.address();
  b.sequence = d.fixed<std::uint32_t>();
  b.frame_count = d.fixed<std::uint32_t>();
  b.first_at = d.time();
  b.records = d.str();
  d.finish();
  return b;
}

}  // namespace

void append_record(std::string& out, const entry_record& r) {
  const std::size_t at = begin_frame(out, record_type::entry);
  out.append(process_slot_size, '\0');  // process_waiting
  if (r.process.valid() &&
      r.process.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    write_process_slot(out.data() + at + process_slot_offset, r.process.get());
  } else if (!r.process.valid()) {
    write_process_slot(out.data() + at + process_slot_offset, std::nullopt);
  }
  encoder e(out);
  e.str(r.id);
  e.str(r.session_id);
  e.str(r.url);
  e.str(r.host);
  e.address(r.client_addr);
  e.address(r.remote_addr);
  e.str(r.http_version);
  e.str(r.transaction_type);
  encode_request(e, r.request);
  e.opt(r.response, [&](const response_record& res) { encode_response(e, res); });
  e.boolean(r.is_websocket);
  e.tls(r.tls);
  e.h2_ref(r.http2);
  e.h2_ref(r.upstream_http2);
  e.opt_str(r.upstream_http_version);
  encode_timings(e, r.timings);
  e.opt(r.error, [&](const flow_error& err) {
    e.str(err.code);
    e.str(err.message);
  });
  e.str(r.request_body);
  e.str(r.response_body);
  e.opt_f64(r.duration_ms);
  end_frame(out, at);
}

void append_record(std::string& out, const tls_connection_log& log) {
  const std::size_t at = begin_frame(out, record_type::tls_log);
  encoder e(out);
  e.str(log.connection_id);
  e.str(log.session_id);
  e.time(log.at);
  e.address(log.client_addr);
  e.opt_str(log.sni);
  e.opt_str(log.alpn);
  e.tls(log.details);
  e.opt_str(log.failure);
  e.fixed(static_cast<std::uint32_t>(log.messages.size()));
  for (const auto& m : log.messages) {
    e.time(m.at);
    e.u8(static_cast<std::uint8_t>(m.leg));
    e.u8(static_cast<std::uint8_t>(m.side));
    e.u8(m.content_type);
    e.fixed(m.version);
    e.str(m.bytes);
  }
  end_frame(out, at);
}

void append_record(std::string& out, const ws_message_record& m) {
  const std::size_t at = begin_frame(out, record_type::ws_message);
  encoder e(out);
  e.str(m.entry_id);
  e.str(m.session_id);
  e.fixed(m.seq);
  e.boolean(m.from_client);
  e.fixed(m.started_us);
  e.fixed(m.ended_us);
  e.str(m.type);
  e.str(m.payload);
  e.boolean(m.truncated);
  e.fixed(m.wire_bytes);
  end_frame(out, at);
}

void append_record(std::string& out, const h2_frame_batch& b) {
  const std::size_t at = begin_frame(out, record_type::h2_batch);
  encoder e(out);
  e.str(b.connection_id);
  e.str(b.session_id);
  e.u8(static_cast<std::uint8_t>(b.leg));
  e.address(b.client_addr);
  e.fixed(b.sequence);
  e.fixed(b.frame_count);
  e.time(b.first_at);
  e.str(b.records);
  end_frame(out, at);
}

bool process_pending(const char* frame) noexcept {
  return static_cast<std::uint8_t>(frame[process_slot_offset]) == process_waiting;
}

void patch_process(char* frame, const std::optional<process_info>& process) noexcept {
  write_process_slot(frame + process_slot_offset, process);
}

void seal_records(char* data, std::size_t size) noexcept {
  std::size_t at = 0;
  while (size - at >= record_header_size) {
    std::uint32_t payload = 0;
    std::memcpy(&payload, data + at, sizeof payload);
    const std::size_t total = record_header_size + payload;
    const auto crc = static_cast<std::uint32_t>(
        crc32_z(0, reinterpret_cast<const Bytef*>(data + at + 8), total - 8));
    std::memcpy(data + at + 4, &crc, sizeof crc);
    at += total;
  }
}

frame_view parse_frame(std::string_view bytes) noexcept {
  frame_view f;
  if (bytes.size() < record_header_size) {
    f.status = frame_status::truncated;
    return f;
  }
  std::uint32_t payload = 0;
  std::uint32_t crc = 0;
  std::memcpy(&payload, bytes.data(), sizeof payload);
  std::memcpy(&crc, bytes.data() + 4, sizeof crc);
  const auto type = static_cast<std::uint8_t>(bytes[8]);
  const auto version = static_cast<std::uint8_t>(bytes[9]);
  if (payload > max_record_payload || type < 1 || type > 4 || version != capture_record_version ||
      bytes[10] != 0 || bytes[11] != 0) {
    f.status = frame_status::corrupt;
    return f;
  }
  const std::size_t total = record_header_size + payload;
  if (bytes.size() < total) {
    f.status = frame_status::truncated;
    return f;
  }
  const auto actual = static_cast<std::uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data() + 8), total - 8));
  if (actual != crc) {
    f.status = frame_status::corrupt;
    return f;
  }
  f.status = frame_status::ok;
  f.type = static_cast<record_type>(type);
  f.payload = bytes.substr(record_header_size, payload);
  f.size = total;
  return f;
}

capture_record decode_record(const frame_view& frame) {
  switch (frame.type) {
    case record_type::entry:
      return decode_entry(frame.payload);
    case record_type::tls_log:
      return decode_tls(frame.payload);
    case record_type::ws_message:
      return decode_ws(frame.payload);
    case record_type::h2_batch:
      return decode_h2(frame.payload);
  }
  throw std::runtime_error("capture record: unknown type");
}

}  // namespace hark::store
