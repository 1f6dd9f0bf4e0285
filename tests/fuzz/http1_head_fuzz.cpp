// libFuzzer target for the HTTP/1 message parser (src/layers/http1_parser.cpp): request and
// response heads, bodies and trailers, as a client or an upstream may send them.
//
//   ./tests/fuzz/hark_http1_head_fuzz -max_total_time=60 -dict=../../tests/fuzz/http1_head.dict
//   corpus/
//
// The first input byte chooses request or response (and HEAD semantics) and how the rest is cut
// into reads; the rest is the byte stream. Invariants beyond "no crash, no sanitizer report":
//  - cutting the stream into other reads changes nothing: same head, same body bytes, same
//    verdict (a relay reads whatever the socket gives);
//  - the head never exceeds the 64 KiB limit, and every put() consumes at most its input;
//  - request smuggling rules (RFC 9112 §6.1, §6.3): an accepted request head never carries both
//    Transfer-Encoding and Content-Length, its Transfer-Encoding ends in chunked, and its
//    Content-Length fields, if several, agree; so the body length Hark forwards by is the one
//    the origin will use.
#include "hark/layers/http1_parser.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace http = boost::beast::http;
using hark::layers::http1::max_header_bytes;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

struct outcome {
  bool head_done = false;
  bool done = false;
  bool failed = false;
  hark::capture::http_head head;
  std::string body;
  hark::capture::header_list trailers;
  std::uint64_t head_bytes = 0;  ///< bytes consumed before head_done
};

/** Feeds `input` in reads of `step` bytes (0: all at once), as the relay's read loop does:
 *  unconsumed bytes are presented again with the next read. */
template <bool IsRequest>
outcome parse(std::string_view input, std::size_t step, bool head_response) {
  hark::layers::http1::message_parser<IsRequest> parser;
  if (head_response) {
    parser.skip_body();
  }
  outcome out;
  std::string pending;
  std::size_t offset = 0;
  while (!parser.is_done()) {
    const std::size_t take =
        step == 0 ? input.size() - offset : std::min(step, input.size() - offset);
    pending.append(input.substr(offset, take));
    offset += take;
    boost::system::error_code ec;
    const bool head_before = parser.head_done();
    const std::size_t n = parser.put(pending, ec);
    check(n <= pending.size());
    if (!head_before) {
      out.head_bytes += n;
    }
    for (const std::string_view piece : parser.body_pieces()) {
      out.body.append(piece);
    }
    pending.erase(0, n);
    if (ec == http::error::need_more) {
      if (offset == input.size()) {
        parser.put_eof(ec);
        out.failed = static_cast<bool>(ec);
        break;
      }
      continue;
    }
    if (ec) {
      out.failed = true;
      break;
    }
    if (n == 0 && offset == input.size() && !parser.is_done()) {
      parser.put_eof(ec);
      out.failed = static_cast<bool>(ec);
      break;
    }
  }
  out.head_done = parser.head_done();
  out.done = parser.is_done();
  out.head = parser.head();
  out.trailers = parser.trailers();
  return out;
}

/** The same verdict; for an accepted message also the same head, body and trailers (a rejected
 *  one may be rejected a few fields earlier or later, depending on where a read ended). */
bool same(const outcome& a, const outcome& b) {
  if (a.failed || b.failed) {
    return a.failed == b.failed;
  }
  return a.head_done == b.head_done && a.done == b.done && a.head.method == b.head.method &&
         a.head.target == b.head.target && a.head.status == b.head.status &&
         a.head.reason == b.head.reason && a.head.version == b.head.version &&
         a.head.fields == b.head.fields && a.body == b.body && a.trailers == b.trailers;
}

void check_smuggling_rules(const hark::capture::http_head& head) {
  namespace beast = boost::beast;
  int content_lengths = 0;
  std::string_view first_length;
  std::string_view last_coding;
  bool transfer_encoding = false;
  for (const auto& [name, value] : head.fields) {
    if (beast::iequals(name, "content-length")) {
      if (content_lengths++ == 0) {
        first_length = value;
      } else {
        check(value == first_length);
      }
    } else if (beast::iequals(name, "transfer-encoding")) {
      transfer_encoding = true;
      last_coding = value;
    }
  }
  check(!(transfer_encoding && content_lengths > 0));
  if (transfer_encoding) {
    const auto comma = last_coding.rfind(',');
    std::string_view coding =
        comma == std::string_view::npos ? last_coding : last_coding.substr(comma + 1);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
      coding.remove_prefix(1);
    }
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) {
      coding.remove_suffix(1);
    }
    check(beast::iequals(coding, "chunked"));
  }
}

template <bool IsRequest>
void run(std::string_view input, std::uint8_t control) {
  const bool head_response = !IsRequest && (control & 0x02) != 0;
  const std::size_t step = 1 + (control >> 3);  // reads of 1..32 bytes
  const outcome whole = parse<IsRequest>(input, 0, head_response);
  const outcome pieces = parse<IsRequest>(input, step, head_response);
  check(same(whole, pieces));
  check(whole.head_bytes <= max_header_bytes);
  if (IsRequest && whole.head_done && !whole.failed) {
    check_smuggling_rules(whole.head);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((control & 0x01) == 0) {
    run<true>(input, control);
  } else {
    run<false>(input, control);
  }
  return 0;
}
