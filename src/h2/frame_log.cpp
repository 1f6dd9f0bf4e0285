// Decoding of logged HTTP/2 frames into Http2Event objects (RFC 9113 §6).
//
//   record ──► at, side, type, streamId, flags {value, defined}, length
//          └─► payload by type ──ok──► decoded fields (+ truncated)
//                               └bad─► error + payload (hex)
#include "hark/h2/frame_log.hpp"

#include "hark/core/hex.hpp"
#include "hark/core/time.hpp"

#include <array>
#include <cstdio>
#include <vector>

namespace hark::h2 {
namespace {

using ojson = nlohmann::ordered_json;

// RFC 9113 §6 frame types.
enum frame_type : std::uint8_t {
  data = 0x0,
  headers = 0x1,
  priority = 0x2,
  rst_stream = 0x3,
  settings = 0x4,
  push_promise = 0x5,
  ping = 0x6,
  goaway = 0x7,
  window_update = 0x8,
  continuation = 0x9,
};

// RFC 9113 §6 flags.
constexpr std::uint8_t flag_end_stream = 0x1;
constexpr std::uint8_t flag_ack = 0x1;
constexpr std::uint8_t flag_end_headers = 0x4;
constexpr std::uint8_t flag_padded = 0x8;
constexpr std::uint8_t flag_priority = 0x20;

struct named_value {
  std::uint32_t value;
  std::string_view name;
};

std::string unknown_name(std::uint32_t value, int digits) {
  char text[24];
  std::snprintf(text, sizeof text, "unknown_0x%0*x", digits, static_cast<unsigned>(value));
  return text;
}

template <std::size_t N>
std::string lookup(const std::array<named_value, N>& table, std::uint32_t value, int digits) {
  for (const auto& entry : table) {
    if (entry.value == value) {
      return std::string(entry.name);
    }
  }
  return unknown_name(value, digits);
}

ojson named(std::uint32_t value, std::string name) {
  return ojson{{"value", value}, {"name", std::move(name)}};
}

/** The flags a type defines (RFC 9113 §6.1–§6.10); other types define none. */
std::vector<named_value> defined_flags(std::uint8_t type) {
  switch (type) {
    case data:
      return {{flag_end_stream, "END_STREAM"}, {flag_padded, "PADDED"}};
    case headers:
      return {{flag_end_stream, "END_STREAM"},
              {flag_end_headers, "END_HEADERS"},
              {flag_padded, "PADDED"},
              {flag_priority, "PRIORITY"}};
    case settings:
    case ping:
      return {{flag_ack, "ACK"}};
    case push_promise:
      return {{flag_end_headers, "END_HEADERS"}, {flag_padded, "PADDED"}};
    case continuation:
      return {{flag_end_headers, "END_HEADERS"}};
    default:
      return {};
  }
}

ojson flags_json(std::uint8_t type, std::uint8_t flags) {
  ojson defined = ojson::array();
  for (const auto& flag : defined_flags(type)) {
    if ((flags & flag.value) != 0) {
      defined.push_back(named(flag.value, std::string(flag.name)));
    }
  }
  return ojson{{"value", flags}, {"defined", std::move(defined)}};
}

/** Thrown inside this file when a payload does not have its type's layout. */
struct malformed {
  const char* why;
};

void require(bool ok, const char* why) {
  if (!ok) {
    throw malformed{why};
  }
}

/** Big-endian reads over a payload (RFC 9113 §1: network byte order). */
class reader {
 public:
  explicit reader(std::string_view bytes) : rest_(bytes) {}

  std::uint8_t u8(const char* what) {
    require(!rest_.empty(), what);
    const auto value = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return value;
  }

  std::uint32_t u32(const char* what) {
    require(rest_.size() >= 4, what);
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      value = (value << 8) | static_cast<unsigned char>(rest_[static_cast<std::size_t>(i)]);
    }
    rest_.remove_prefix(4);
    return value;
  }

  std::string_view rest() const { return rest_; }
  std::size_t size() const { return rest_.size(); }

 private:
  std::string_view rest_;
};

/** Exclusive flag, stream dependency and weight (RFC 9113 §6.3; RFC 7540 §5.3). */
void read_priority(reader& r, ojson& out) {
  const auto dependency = r.u32("priority fields cut short");
  const auto weight = r.u8("priority fields cut short");
  out["exclusive"] = (dependency & 0x8000'0000u) != 0;
  out["dependency"] = dependency & 0x7fff'ffffu;
  out["weight"] = weight + 1;
}

/** The Pad Length field when PADDED (RFC 9113 §6.1, §6.2, §6.6); 0 otherwise. */
std::uint8_t read_pad_length(reader& r, std::uint8_t flags, ojson& out) {
  if ((flags & flag_padded) == 0) {
    return 0;
  }
  const auto pad = r.u8("PADDED without a pad length");
  out["padLength"] = pad;
  return pad;
}

/** What remains of a header block payload once padding is taken off. When the log kept only
 *  part of the frame, the padding may be beyond it: the kept bytes are shown as they are. */
std::string_view strip_padding(const reader& r, std::uint8_t pad, bool truncated) {
  if (truncated) {
    return r.rest();
  }
  require(pad <= r.size(), "padding longer than the payload");
  return r.rest().substr(0, r.size() - pad);
}

void describe_data(const frame_record& f, ojson& out) {
  if ((f.flags & flag_padded) == 0) {
    out["dataLength"] = f.length;
    return;
  }
  reader r(f.payload);
  const auto pad = read_pad_length(r, f.flags, out);
  require(std::uint32_t{pad} + 1 <= f.length, "padding longer than the payload");
  out["dataLength"] = f.length - 1 - pad;
}

void describe_headers(const frame_record& f, bool truncated, ojson& out) {
  reader r(f.payload);
  const auto pad = read_pad_length(r, f.flags, out);
  if ((f.flags & flag_priority) != 0) {
    ojson fields;
    read_priority(r, fields);
    out["priority"] = std::move(fields);
  }
  out["headerBlockFragment"] = to_hex(strip_padding(r, pad, truncated));
}

void describe_push_promise(const frame_record& f, bool truncated, ojson& out) {
  reader r(f.payload);
  const auto pad = read_pad_length(r, f.flags, out);
  out["promisedStreamId"] = r.u32("no promised stream id") & 0x7fff'ffffu;
  out["headerBlockFragment"] = to_hex(strip_padding(r, pad, truncated));
}

void describe_settings(const frame_record& f, ojson& out) {
  require(f.payload.size() % 6 == 0, "SETTINGS payload is not a multiple of 6 bytes");
  require((f.flags & flag_ack) == 0 || f.payload.empty(), "SETTINGS ACK with a payload");
  ojson list = ojson::array();
  for (std::size_t i = 0; i < f.payload.size(); i += 6) {
    const auto* p = reinterpret_cast<const unsigned char*>(f.payload.data() + i);
    const auto identifier = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
    const std::uint32_t value = (std::uint32_t{p[2]} << 24) | (std::uint32_t{p[3]} << 16) |
                                (std::uint32_t{p[4]} << 8) | p[5];
    list.push_back(
        ojson{{"identifier", named(identifier, setting_name(identifier))}, {"value", value}});
  }
  out["settings"] = std::move(list);
}

void describe_goaway(const frame_record& f, ojson& out) {
  reader r(f.payload);
  out["lastStreamId"] = r.u32("GOAWAY shorter than 8 bytes") & 0x7fff'ffffu;
  const auto code = r.u32("GOAWAY shorter than 8 bytes");
  out["errorCode"] = named(code, error_code_name(code));
  out["debugData"] = to_hex(r.rest());
}

/** The fields of one frame type; throws malformed. */
void describe_payload(const frame_record& f, bool truncated, ojson& out) {
  switch (f.type) {
    case data:
      return describe_data(f, out);
    case headers:
      return describe_headers(f, truncated, out);
    case priority: {
      require(f.length == 5, "PRIORITY is not 5 bytes");
      reader r(f.payload);
      return read_priority(r, out);
    }
    case rst_stream: {
      require(f.length == 4 && f.payload.size() == 4, "RST_STREAM is not 4 bytes");
      const auto code = reader(f.payload).u32("RST_STREAM is not 4 bytes");
      out["errorCode"] = named(code, error_code_name(code));
      return;
    }
    case settings:
      return describe_settings(f, out);
    case push_promise:
      return describe_push_promise(f, truncated, out);
    case ping:
      require(f.length == 8 && f.payload.size() == 8, "PING is not 8 bytes");
      out["opaqueData"] = to_hex(f.payload);
      return;
    case goaway:
      return describe_goaway(f, out);
    case window_update: {
      require(f.length == 4 && f.payload.size() == 4, "WINDOW_UPDATE is not 4 bytes");
      out["windowSizeIncrement"] = reader(f.payload).u32("") & 0x7fff'ffffu;
      return;
    }
    case continuation:
      out["headerBlockFragment"] = to_hex(f.payload);
      return;
    default:
      out["frameType"] = named(f.type, frame_type_name(f.type));
      out["payload"] = to_hex(f.payload);
      return;
  }
}

}  // namespace

std::string_view event_type_name(std::uint8_t type) {
  constexpr std::array<std::string_view, 10> names = {
      "data",         "headers", "priority", "rst_stream",    "settings",
      "push_promise", "ping",    "goaway",   "window_update", "continuation"};
  return type < names.size() ? names[type] : "unknown";
}

std::string frame_type_name(std::uint8_t type) {
  // IANA "HTTP/2 Frame Type" registry.
  static constexpr std::array<named_value, 13> types{{
      {0x0, "DATA"},
      {0x1, "HEADERS"},
      {0x2, "PRIORITY"},
      {0x3, "RST_STREAM"},
      {0x4, "SETTINGS"},
      {0x5, "PUSH_PROMISE"},
      {0x6, "PING"},
      {0x7, "GOAWAY"},
      {0x8, "WINDOW_UPDATE"},
      {0x9, "CONTINUATION"},
      {0xa, "ALTSVC"},           // RFC 7838
      {0xc, "ORIGIN"},           // RFC 8336
      {0x10, "PRIORITY_UPDATE"}  // RFC 9218
  }};
  return lookup(types, type, 2);
}

std::string error_code_name(std::uint32_t code) {
  static constexpr std::array<named_value, 14> codes{{
      {0x0, "NO_ERROR"},
      {0x1, "PROTOCOL_ERROR"},
      {0x2, "INTERNAL_ERROR"},
      {0x3, "FLOW_CONTROL_ERROR"},
      {0x4, "SETTINGS_TIMEOUT"},
      {0x5, "STREAM_CLOSED"},
      {0x6, "FRAME_SIZE_ERROR"},
      {0x7, "REFUSED_STREAM"},
      {0x8, "CANCEL"},
      {0x9, "COMPRESSION_ERROR"},
      {0xa, "CONNECT_ERROR"},
      {0xb, "ENHANCE_YOUR_CALM"},
      {0xc, "INADEQUATE_SECURITY"},
      {0xd, "HTTP_1_1_REQUIRED"},
  }};
  return lookup(codes, code, 8);
}

std::string setting_name(std::uint16_t identifier) {
  // IANA "HTTP/2 Settings" registry.
  static constexpr std::array<named_value, 9> names{{
      {0x1, "HEADER_TABLE_SIZE"},
      {0x2, "ENABLE_PUSH"},
      {0x3, "MAX_CONCURRENT_STREAMS"},
      {0x4, "INITIAL_WINDOW_SIZE"},
      {0x5, "MAX_FRAME_SIZE"},
      {0x6, "MAX_HEADER_LIST_SIZE"},
      {0x8, "ENABLE_CONNECT_PROTOCOL"},  // RFC 8441
      {0x9, "NO_RFC7540_PRIORITIES"},    // RFC 9218
      {0x10, "TLS_RENEG_PERMITTED"},     // MS-HTTP2E
  }};
  return lookup(names, identifier, 4);
}

nlohmann::ordered_json describe_frame(const frame_record& record) {
  ojson out;
  out["at"] = timefmt::iso8601_from_us(record.at_us);
  out["side"] = record.side == capture::h2_side::client ? "client" : "server";
  out["type"] = event_type_name(record.type);
  out["streamId"] = record.stream_id;
  out["flags"] = flags_json(record.type, record.flags);
  out["length"] = record.length;
  // DATA payloads are not kept (only the pad length): that is not a truncation.
  const bool truncated = record.type == data ? (record.flags & flag_padded) != 0 &&
                                                   record.length > 0 && record.payload.empty()
                                             : record.payload.size() < record.length;
  ojson decoded;
  try {
    describe_payload(record, truncated, decoded);
  } catch (const malformed& m) {
    decoded = ojson{{"error", truncated ? "payload cut short in the log" : m.why},
                    {"payload", to_hex(record.payload)}};
  }
  for (auto& [key, value] : decoded.items()) {
    out[key] = std::move(value);
  }
  if (truncated) {
    out["truncated"] = true;
  }
  return out;
}

nlohmann::ordered_json describe_frames(std::string_view records) {
  ojson out = ojson::array();
  frame_record_reader reader(records);
  while (const auto r = reader.next()) {
    out.push_back(describe_frame(*r));
  }
  return out;
}

}  // namespace hark::h2
