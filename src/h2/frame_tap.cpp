#include "hark/h2/frame_tap.hpp"

#include "hark/h2/frame_record.hpp"

#include <algorithm>
#include <utility>

namespace hark::h2 {
namespace {

/** RFC 9113 §3.4: what a client sends first on every HTTP/2 connection. */
constexpr std::string_view client_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

constexpr std::uint8_t type_data = 0x0;
constexpr std::uint8_t flag_padded = 0x8;

/** A fresh batch's first allocation: enough for a few dozen small frames, little for a quiet
 *  connection; busier ones grow it geometrically up to the batch bound. */
constexpr std::size_t initial_batch_bytes = 4096;

}  // namespace

frame_tap::frame_tap(capture::flow_sink& sink, std::string connection_id, capture::h2_leg leg,
                     std::optional<capture::net_address> client_addr, frame_tap_limits limits)
    : sink_(sink), limits_(limits) {
  batch_.connection_id = std::move(connection_id);
  batch_.leg = leg;
  batch_.client_addr = std::move(client_addr);
  const bool client_leg = leg == capture::h2_leg::client;
  from_peer_.side = client_leg ? capture::h2_side::client : capture::h2_side::server;
  to_peer_.side = client_leg ? capture::h2_side::server : capture::h2_side::client;
  client_to_server().preface_left = client_preface.size();
}

frame_tap::~frame_tap() {
  try {
    flush();
  } catch (...) {
    // Only bad_alloc can come here; losing the last batch is all it costs.
  }
}

frame_tap::direction& frame_tap::client_to_server() noexcept {
  return batch_.leg == capture::h2_leg::client ? from_peer_ : to_peer_;
}

void frame_tap::received(std::string_view bytes) {
  feed(from_peer_, bytes);
}

void frame_tap::sent(std::string_view bytes) {
  feed(to_peer_, bytes);
}

void frame_tap::publish() {
  if (batch_.frame_count == 0) {
    return;
  }
  // The sink may take the records (move them out) and sets session_id the first time.
  sink_.on_h2_frames(batch_);
  ++batch_.sequence;
  batch_.frame_count = 0;
  batch_.records.clear();
}

void frame_tap::flush() {
  if (finished_) {
    return;
  }
  finished_ = true;
  for (direction* d : {&from_peer_, &to_peer_}) {
    if (!d->broken && d->in_payload) {
      finish_frame(*d);  // cut short: `length` says how much was announced
    }
  }
  publish();
}

void frame_tap::feed(direction& d, std::string_view bytes) {
  call_at_us_ = -1;
  while (!bytes.empty() && !d.broken && !finished_) {
    if (d.preface_left > 0) {
      bytes = skip_preface(d, bytes);
    } else if (!d.in_payload) {
      bytes = read_header(d, bytes);
    } else {
      bytes = read_payload(d, bytes);
    }
  }
}

std::string_view frame_tap::skip_preface(direction& d, std::string_view bytes) {
  const auto offset = client_preface.size() - d.preface_left;
  const auto n = std::min(d.preface_left, bytes.size());
  if (bytes.substr(0, n) != client_preface.substr(offset, n)) {
    d.broken = true;  // not HTTP/2: the session will answer with GOAWAY and close
    return {};
  }
  d.preface_left -= n;
  return bytes.substr(n);
}

std::string_view frame_tap::read_header(direction& d, std::string_view bytes) {
  const auto n = std::min(sizeof d.header - d.header_have, bytes.size());
  std::copy_n(bytes.data(), n, d.header + d.header_have);
  d.header_have += n;
  bytes.remove_prefix(n);
  if (d.header_have < sizeof d.header) {
    return bytes;
  }
  // RFC 9113 §4.1: length (24), type (8), flags (8), R (1) + stream identifier (31). The
  // length is taken as announced even past SETTINGS_MAX_FRAME_SIZE: the session refuses such
  // a frame, the log shows it.
  d.length = (std::uint32_t{d.header[0]} << 16) | (std::uint32_t{d.header[1]} << 8) | d.header[2];
  d.left = d.length;
  const auto type = d.header[3];
  const auto flags = d.header[4];
  if (type == type_data) {
    // DATA: only the pad length (RFC 9113 §6.1), so that the log tells data from padding.
    d.keep = (flags & flag_padded) != 0 ? std::min<std::size_t>(d.length, 1) : 0;
  } else {
    d.keep = std::min<std::size_t>(d.length, limits_.max_payload);
  }
  d.at_us = now_us();
  d.payload.clear();
  d.in_payload = true;
  if (d.length == 0) {
    finish_frame(d);
  }
  return bytes;
}

std::string_view frame_tap::read_payload(direction& d, std::string_view bytes) {
  const auto n = std::min<std::size_t>(d.left, bytes.size());
  if (d.payload.size() < d.keep) {
    d.payload.append(bytes.data(), std::min(n, d.keep - d.payload.size()));
  }
  d.left -= static_cast<std::uint32_t>(n);
  bytes.remove_prefix(n);
  if (d.left == 0) {
    finish_frame(d);
  }
  return bytes;
}

void frame_tap::finish_frame(direction& d) {
  const std::uint32_t stream_id = ((std::uint32_t{d.header[5]} & 0x7f) << 24) |
                                  (std::uint32_t{d.header[6]} << 16) |
                                  (std::uint32_t{d.header[7]} << 8) | d.header[8];
  auto& records = batch_.records;
  if (batch_.frame_count == 0) {
    first_at_us_ = d.at_us;
    batch_.first_at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::microseconds(d.at_us)));
    records.reserve(initial_batch_bytes);
  }
  append_frame_record_header(records, d.at_us, d.side, d.header[3], d.header[4], stream_id,
                             d.length, static_cast<std::uint32_t>(d.payload.size()));
  records.append(d.payload);
  ++batch_.frame_count;
  d.header_have = 0;
  d.in_payload = false;
  if (batch_.frame_count >= limits_.max_batch_frames || records.size() >= limits_.max_batch_bytes ||
      d.at_us - first_at_us_ >=
          std::chrono::duration_cast<std::chrono::microseconds>(limits_.max_batch_age).count()) {
    publish();
  }
}

std::int64_t frame_tap::now_us() {
  // One clock read per received()/sent() call: the frames of one read arrived together.
  if (call_at_us_ < 0) {
    call_at_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  }
  return call_at_us_;
}

}  // namespace hark::h2
