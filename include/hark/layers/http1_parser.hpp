#pragma once
// http1::message_parser — a sans-I/O HTTP/1.x message parser built on Beast's basic_parser.
//
// It keeps what a capture proxy needs and Beast's own parsers drop: header fields in received
// order and letter case, trailer fields apart from the head, and body pieces as views into the
// caller's buffer (no copy). The caller relays the consumed input bytes verbatim, so chunk framing,
// extensions and trailers reach the other side exactly as sent.
//
//   put(bytes) ──► [head] ──head_done()──► [body pieces…] ──is_done()──► trailers()
//
// Bytes consumed by put() are either head bytes (until head_done() first becomes true) or
// body/framing bytes; put() never consumes past the end of the head in the call that completes it.

#include "hark/capture/flow.hpp"

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace hark::layers::http1 {

/** Largest accepted header section (SPEC §2: beyond it the client gets 431). */
inline constexpr std::uint32_t max_header_bytes = 64 * 1024;

template <bool IsRequest>
class message_parser final : private boost::beast::http::basic_parser<IsRequest> {
  using base = boost::beast::http::basic_parser<IsRequest>;

 public:
  explicit message_parser(std::uint32_t header_limit = max_header_bytes);

  /** Parses as much of `input` as possible. Returns the number of bytes consumed; `ec` is
   *  http::error::need_more when more input is needed, another Beast error when the message is
   *  malformed (http::error::header_limit when the head is too large). Body pieces parsed by
   *  this call are in body_pieces() until the next put(). */
  std::size_t put(std::string_view input, boost::system::error_code& ec);

  /** Signals the end of input (peer closed). Completes a close-delimited body; an error when
   *  the message is incomplete. */
  void put_eof(boost::system::error_code& ec);

  /** Responses to HEAD requests have no body whatever their headers say. Call before put(). */
  void skip_body() { base::skip(true); }

  bool head_done() const { return base::is_header_done(); }
  bool is_done() const { return base::is_done(); }
  bool chunked() const { return base::chunked(); }
  bool keep_alive() const { return base::keep_alive(); }
  bool upgrade() const { return base::upgrade(); }
  /** True when the body runs until the connection closes (no length, not chunked). */
  bool need_eof() const { return base::need_eof(); }
  /** True when the message has a body (content-length > 0, chunked, or close-delimited). */
  bool has_body() const;
  std::optional<std::uint64_t> content_length() const;

  capture::http_head& head() noexcept { return head_; }
  const capture::header_list& trailers() const noexcept { return trailers_; }
  const std::vector<std::string_view>& body_pieces() const noexcept { return pieces_; }
  /** Sum of body bytes so far, after chunked framing is removed. */
  std::uint64_t body_bytes() const noexcept { return body_bytes_; }

 private:
  void on_request_impl(boost::beast::http::verb, boost::beast::string_view method,
                       boost::beast::string_view target, int version,
                       boost::system::error_code& ec) override;
  void on_response_impl(int status, boost::beast::string_view reason, int version,
                        boost::system::error_code& ec) override;
  void on_field_impl(boost::beast::http::field, boost::beast::string_view name,
                     boost::beast::string_view value, boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::system::error_code& ec) override;
  std::size_t on_body_impl(boost::beast::string_view body, boost::system::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                            boost::system::error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                 boost::system::error_code& ec) override;
  void on_finish_impl(boost::system::error_code& ec) override;

  std::uint32_t header_limit_;
  std::uint64_t head_bytes_ = 0;  ///< head bytes consumed by put() so far
  capture::http_head head_;
  capture::header_list trailers_;
  std::vector<std::string_view> pieces_;
  std::uint64_t body_bytes_ = 0;
  bool in_trailers_ = false;
};

using request_parser = message_parser<true>;
using response_parser = message_parser<false>;

extern template class message_parser<true>;
extern template class message_parser<false>;

}  // namespace hark::layers::http1
