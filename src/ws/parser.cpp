// ws::parser: RFC 6455 §5 framing, read from relayed bytes (see parser.hpp for the picture).
// Hand-written: Beast's websocket::stream is an endpoint that owns a socket and answers the
// peer, while Hark only watches bytes that it relays verbatim; no library offers a sans-I/O
// frame reader for that.

#include "hark/ws/parser.hpp"

#include "hark/core/json_writer.hpp"

#include <algorithm>
#include <string>

namespace hark::ws {
namespace {

constexpr unsigned op_continuation = 0x0;
constexpr unsigned op_text = 0x1;
constexpr unsigned op_binary = 0x2;
constexpr unsigned op_close = 0x8;
constexpr unsigned op_ping = 0x9;
constexpr unsigned op_pong = 0xA;

/** RFC 6455 §5.5: control frames carry at most 125 bytes and are never fragmented. */
constexpr std::uint64_t max_control_payload = 125;

/** Unmasking goes through a buffer of this size, whatever the frame's length. */
constexpr std::size_t unmask_chunk = std::size_t{16} * 1024;

/** Appends what fits under `cap`; grows by 1.5 up to the cap (never doubling past it). */
void append_capped(std::string& out, std::string_view bytes, std::uint64_t cap) {
  const auto room = cap > out.size() ? cap - out.size() : 0;
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size()));
  if (n == 0) {
    return;
  }
  if (out.size() + n > out.capacity()) {
    out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(
        cap, std::max<std::uint64_t>(out.size() + n, out.capacity() * 3 / 2))));
  }
  out.append(bytes.data(), n);
}

/** `s` without an incomplete UTF-8 sequence at its end (where the cap may have cut one). */
std::string_view without_cut_sequence(std::string_view s) {
  // Step back over at most 3 continuation bytes to the lead byte of the last sequence.
  std::size_t i = s.size();
  std::size_t back = 0;
  while (i > 0 && back < 4 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) {
    --i;
    ++back;
  }
  if (i == 0) {
    return s;
  }
  const auto lead = static_cast<unsigned char>(s[i - 1]);
  const std::size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return back + 1 < need ? s.substr(0, i - 1) : s;
}

message_type data_type(unsigned opcode) {
  return opcode == op_text ? message_type::text : message_type::binary;
}

message_type control_type(unsigned opcode) {
  switch (opcode) {
    case op_close:
      return message_type::close;
    case op_ping:
      return message_type::ping;
    case op_pong:
      return message_type::pong;
    default:
      return message_type::unknown;
  }
}

}  // namespace

std::string_view type_name(message_type type) noexcept {
  switch (type) {
    case message_type::text:
      return "text";
    case message_type::binary:
      return "binary";
    case message_type::close:
      return "close";
    case message_type::ping:
      return "ping";
    case message_type::pong:
      return "pong";
    case message_type::unknown:
      break;
  }
  return "unknown";
}

parser::parser(side from, const deflate_params& deflate, std::uint64_t max_capture,
               message_sink& sink)
    : from_(from), cap_(max_capture), sink_(sink), deflate_enabled_(deflate.enabled) {
  if (deflate.enabled) {
    const bool client = from == side::client;
    inflater_.emplace(
        client ? deflate.client_max_window_bits : deflate.server_max_window_bits,
        !(client ? deflate.client_no_context_takeover : deflate.server_no_context_takeover));
  }
}

void parser::feed(std::string_view bytes, clock::time_point now) {
  while (!bytes.empty()) {
    switch (state_) {
      case state::head:
        bytes.remove_prefix(read_head(bytes, now));
        break;
      case state::payload: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
        frame_payload(bytes.substr(0, n));
        bytes.remove_prefix(n);
        remaining_ -= n;
        if (remaining_ == 0) {
          end_frame(now);
        }
        break;
      }
      case state::finished:
        return;
    }
  }
}

std::size_t parser::read_head(std::string_view bytes, clock::time_point now) {
  // §5.2: 2 bytes, then 0, 2 or 8 bytes of extended length, then 0 or 4 bytes of mask key.
  std::size_t used = 0;
  auto need = [this] {
    if (head_size_ < 2) {
      return std::size_t{2};
    }
    const unsigned len7 = head_[1] & 0x7F;
    const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    return 2 + ext + ((head_[1] & 0x80) != 0 ? 4 : 0);
  };
  while (used < bytes.size() && head_size_ < need()) {
    head_[head_size_++] = static_cast<unsigned char>(bytes[used++]);
  }
  if (head_size_ == need()) {
    begin_frame(now);
  }
  return used;
}

void parser::begin_frame(clock::time_point now) {
  ++frames_;
  fin_ = (head_[0] & 0x80) != 0;
  rsv1_ = (head_[0] & 0x40) != 0;
  const bool rsv23 = (head_[0] & 0x30) != 0;
  opcode_ = head_[0] & 0x0F;
  masked_ = (head_[1] & 0x80) != 0;
  const unsigned len7 = head_[1] & 0x7F;
  std::size_t at = 2;
  std::uint64_t length = len7;
  if (len7 >= 126) {
    // 16- or 64-bit network-order length. The 64-bit form's most significant bit must be 0
    // (§5.2); a length that breaks it is still just bytes to count, never to allocate.
    const std::size_t width = len7 == 126 ? 2 : 8;
    length = 0;
    for (std::size_t i = 0; i < width; ++i) {
      length = (length << 8) | head_[at++];
    }
  }
  if (masked_) {
    std::copy_n(head_.begin() + static_cast<std::ptrdiff_t>(at), 4, mask_.begin());
  }
  head_size_ = 0;
  remaining_ = length;
  mask_offset_ = 0;

  const bool control = (opcode_ & 0x8) != 0;
  const bool data = opcode_ == op_text || opcode_ == op_binary;
  to_control_ = !(data || (opcode_ == op_continuation && data_.active));
  if (data && data_.active) {
    // §5.4: a new data message may not start before the previous one's FIN frame.
    data_.msg.error = "message interrupted by a new data frame";
    end_data_message(now);
  }
  assembly& a = current();
  if (!a.active) {
    a = assembly{};
    a.active = true;
    a.msg.from = from_;
    a.msg.started = now;
    a.msg.type = control ? control_type(opcode_) : data_type(opcode_);
    a.compressed = data && rsv1_ && deflate_enabled_;
  }
  if (a.msg.error.empty()) {
    a.msg.error = violation(length, rsv23);  // the first violation found is the one reported
  }
  state_ = state::payload;
  if (remaining_ == 0) {
    end_frame(now);
  }
}

std::string parser::violation(std::uint64_t length, bool rsv23) const {
  const bool control = (opcode_ & 0x8) != 0;
  const bool data = opcode_ == op_text || opcode_ == op_binary;
  if (!control && !data && opcode_ != op_continuation) {
    return "reserved opcode " + std::to_string(opcode_);
  }
  if (opcode_ == op_continuation && to_control_) {
    return "continuation frame without a message";
  }
  if (control && opcode_ > op_pong) {
    return "reserved control opcode " + std::to_string(opcode_);
  }
  if (control && !fin_) {
    return "fragmented control frame";
  }
  if (control && length > max_control_payload) {
    return "control frame over 125 bytes";
  }
  if (rsv23) {
    return "reserved RSV2/RSV3 bit";
  }
  if (rsv1_ && !(data && deflate_enabled_)) {
    // RFC 7692 §6.1: RSV1 marks the first frame of a compressed message, nothing else.
    return "RSV1 without a compressed message start";
  }
  if (opcode_ == op_close && length == 1) {
    return "close frame of one byte";  // §5.5.1: a body starts with a 2-byte code
  }
  return {};
}

void parser::frame_payload(std::string_view masked) {
  assembly& a = current();
  a.msg.wire_size += masked.size();
  std::array<char, unmask_chunk> plain;
  while (!masked.empty()) {
    const auto n = std::min(masked.size(), plain.size());
    std::string_view chunk = masked.substr(0, n);
    if (masked_) {
      // §5.3: octet i of the payload is XORed with octet i mod 4 of the masking key.
      for (std::size_t i = 0; i < n; ++i) {
        plain[i] =
            static_cast<char>(static_cast<unsigned char>(chunk[i]) ^ mask_[(mask_offset_ + i) & 3]);
      }
      chunk = std::string_view(plain.data(), n);
    }
    mask_offset_ += n;
    if (a.compressed && inflater_) {
      if (!inflater_->feed(chunk, a.msg.payload, cap_, a.msg.size) && a.msg.error.empty()) {
        a.msg.error = "permessage-deflate: " + inflater_->error();
      }
    } else {
      keep(a, chunk);
    }
    masked.remove_prefix(n);
  }
}

void parser::keep(assembly& a, std::string_view bytes) {
  a.msg.size += bytes.size();
  append_capped(a.msg.payload, bytes, cap_);
}

void parser::end_frame(clock::time_point now) {
  state_ = state::head;
  if (to_control_) {
    emit(control_, now);
  } else if (fin_) {
    end_data_message(now);
  }
}

void parser::end_data_message(clock::time_point now) {
  assembly& a = data_;
  if (a.compressed && inflater_) {
    const bool ok = inflater_->end_message(a.msg.payload, cap_, a.msg.size);
    if (!ok && a.msg.error.empty()) {
      a.msg.error = "permessage-deflate: " + inflater_->error();
    }
  }
  if (a.msg.type == message_type::text && a.msg.error.empty() &&
      !json::is_valid_utf8(a.msg.size > a.msg.payload.size() ? without_cut_sequence(a.msg.payload)
                                                             : std::string_view(a.msg.payload))) {
    a.msg.error = "text message is not UTF-8";  // §8.1: the peer should fail the connection
  }
  emit(a, now);
}

void parser::emit(assembly& a, clock::time_point now) {
  message& m = a.msg;
  m.ended = now;
  m.truncated = m.truncated || m.size > m.payload.size();
  if (!m.error.empty()) {
    m.type = message_type::unknown;
  }
  a.active = false;
  sink_.on_message(std::move(m));
  m = message{};
}

void parser::finish(clock::time_point now) {
  if (state_ == state::finished) {
    return;
  }
  // The connection ended mid-frame or mid-message: record what arrived, marked truncated.
  for (assembly* a : {&control_, &data_}) {
    if (a->active) {
      a->msg.truncated = true;
      emit(*a, now);
    }
  }
  state_ = state::finished;
}

}  // namespace hark::ws
