// permessage-deflate (RFC 7692) for the record: the negotiated parameters, and zlib's raw
// inflate per direction.

#include "hark/ws/deflate.hpp"

#include <zlib.h>
#include <boost/beast/http/rfc7230.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

namespace hark::ws {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

/** `*_max_window_bits` value (RFC 7692 §7.1.2): 8…15, possibly quoted; nullopt if invalid. */
std::optional<int> window_bits(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  int bits = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), bits);
  if (ec != std::errc{} || end != value.data() + value.size() || bits < 8 || bits > 15) {
    return std::nullopt;
  }
  return bits;
}

/** Applies one extension parameter; false if it is unknown or malformed (§7: then the
 *  negotiation fails, and a client would have failed the connection). */
bool apply(deflate_params& p, std::string_view name, std::string_view value) {
  if (iequals(name, "server_no_context_takeover") && value.empty()) {
    p.server_no_context_takeover = true;
  } else if (iequals(name, "client_no_context_takeover") && value.empty()) {
    p.client_no_context_takeover = true;
  } else if (iequals(name, "server_max_window_bits")) {
    const auto bits = window_bits(value);
    if (!bits) {
      return false;
    }
    p.server_max_window_bits = *bits;
  } else if (iequals(name, "client_max_window_bits")) {
    // In a response the value is required (§7.1.2.2); be lenient and read a bare one as 15.
    const auto bits = value.empty() ? std::optional<int>(15) : window_bits(value);
    if (!bits) {
      return false;
    }
    p.client_max_window_bits = *bits;
  } else {
    return false;
  }
  return true;
}

}  // namespace

deflate_params negotiated_deflate(const capture::header_list& response_fields) {
  namespace http = boost::beast::http;
  for (const auto& [name, value] : response_fields) {
    if (!iequals(name, "sec-websocket-extensions")) {
      continue;
    }
    // Beast's RFC 7230 extension-list parser splits `a; x=1, b` into extensions and params.
    for (const auto& ext : http::ext_list(value)) {
      if (!iequals(ext.first, "permessage-deflate")) {
        continue;
      }
      deflate_params p;
      p.enabled = true;
      for (const auto& [param, arg] : ext.second) {
        if (!apply(p, param, arg)) {
          return {};
        }
      }
      return p;
    }
  }
  return {};
}

void inflater::z_deleter::operator()(z_stream_s* z) const noexcept {
  inflateEnd(z);
  delete z;
}

inflater::inflater(int window_bits, bool context_takeover)
    : z_(new z_stream_s{}), context_takeover_(context_takeover) {
  // zlib's deflate turns a window of 8 into 9 (zlib.h, deflateInit2), so a peer negotiating 8
  // may send distances of 512: inflate with at least 9. A larger window than the sender's never
  // changes the output; it only costs memory.
  const int bits = std::clamp(window_bits, 9, 15);
  if (inflateInit2(z_.get(), -bits) != Z_OK) {
    // Only out of memory: the messages of this direction will be recorded as `unknown`.
    failed_ = true;
    error_ = "inflateInit2 failed";
  }
}

inflater::~inflater() = default;

void inflater::reset() {
  if (inflateReset(z_.get()) == Z_OK) {
    failed_ = false;  // error() still tells why the message failed
  }
}

bool inflater::feed(std::string_view in, std::string& out, std::uint64_t cap,
                    std::uint64_t& total) {
  if (failed_) {
    return false;
  }
  error_.clear();
  std::array<unsigned char, std::size_t{16} * 1024> scratch;
  auto* z = z_.get();
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z->avail_in = static_cast<uInt>(in.size());
  for (;;) {
    z->next_out = scratch.data();
    z->avail_out = static_cast<uInt>(scratch.size());
    const int rc = inflate(z, Z_SYNC_FLUSH);
    const auto produced = scratch.size() - z->avail_out;
    total += produced;
    if (out.size() < cap) {
      const auto keep = std::min<std::uint64_t>(produced, cap - out.size());
      out.append(reinterpret_cast<const char*>(scratch.data()), static_cast<std::size_t>(keep));
    }
    if (rc == Z_STREAM_END) {
      // A block with BFINAL set ends the DEFLATE stream (RFC 7692 §7.2.3.4 allows it); what
      // follows starts a new one.
      inflateReset(z);
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      failed_ = true;
      error_ = z->msg != nullptr ? z->msg : "inflate failed";
      return false;
    }
    if (z->avail_in == 0 && z->avail_out != 0) {
      return true;  // all input taken and the output not full: nothing is pending
    }
    if (rc == Z_BUF_ERROR && produced == 0) {
      return true;  // no progress possible until more input arrives
    }
  }
}

bool inflater::end_message(std::string& out, std::uint64_t cap, std::uint64_t& total) {
  // RFC 7692 §7.2.2: append 0x00 0x00 0xff 0xff to the message's payload before inflating it.
  static constexpr char tail[] = {'\x00', '\x00', '\xff', '\xff'};
  const bool ok = feed(std::string_view(tail, sizeof tail), out, cap, total);
  if (!ok || !context_takeover_) {
    reset();
  }
  return ok;
}

}  // namespace hark::ws
