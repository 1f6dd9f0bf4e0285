#include "hark/layers/http1_parser.hpp"

#include <boost/beast/http/error.hpp>

#include <algorithm>

namespace hark::layers::http1 {

namespace http = boost::beast::http;

template <bool IsRequest>
message_parser<IsRequest>::message_parser(std::uint32_t header_limit)
    : header_limit_(header_limit) {
  base::header_limit(header_limit);
  base::body_limit(boost::none);  // the relay has no body limit; capture has its own cap
  base::eager(false);
}

template <bool IsRequest>
std::size_t message_parser<IsRequest>::put(std::string_view input, boost::system::error_code& ec) {
  pieces_.clear();
  const boost::asio::const_buffer buffer(input.data(), input.size());
  if (base::is_header_done()) {
    // Past the head: parse eagerly so one call covers everything buffered.
    base::eager(true);
    return base::put(buffer, ec);
  }
  // Stop at the end of the head so the caller can forward it before any body byte.
  base::eager(false);
  // Beast consumes the start line and each complete field line as they arrive, and checks its
  // header limit against the unconsumed bytes of one call only. Give it what is left of the
  // budget, and count the lines it already took, so the limit covers the whole section.
  const auto left = header_limit_ - std::min<std::uint64_t>(head_bytes_, header_limit_);
  if (left == 0) {
    ec = http::error::header_limit;
    return 0;
  }
  base::header_limit(static_cast<std::uint32_t>(left));
  const auto n = base::put(buffer, ec);
  head_bytes_ += n;
  if (ec == http::error::need_more && head_bytes_ + (input.size() - n) >= header_limit_) {
    ec = http::error::header_limit;
  }
  return n;
}

template <bool IsRequest>
void message_parser<IsRequest>::put_eof(boost::system::error_code& ec) {
  pieces_.clear();
  if (!base::got_some()) {
    ec = http::error::partial_message;
    return;
  }
  base::put_eof(ec);
}

template <bool IsRequest>
bool message_parser<IsRequest>::has_body() const {
  if (!head_done()) {
    return false;
  }
  // RFC 9112 §6.3: responses to HEAD, 1xx, 204 and 304 have no body whatever their
  // Content-Length says (Beast completes them at the end of the head).
  if (!IsRequest &&
      (base::skip() || head_.status / 100 == 1 || head_.status == 204 || head_.status == 304)) {
    return false;
  }
  if (chunked() || need_eof()) {
    return !is_done();
  }
  const auto len = content_length();
  return len && *len > 0;
}

template <bool IsRequest>
std::optional<std::uint64_t> message_parser<IsRequest>::content_length() const {
  if (!head_done()) {
    return std::nullopt;
  }
  const auto len = base::content_length();
  return len ? std::optional<std::uint64_t>(*len) : std::nullopt;
}

template <bool IsRequest>
void message_parser<IsRequest>::on_request_impl(http::verb, boost::beast::string_view method,
                                                boost::beast::string_view target, int version,
                                                boost::system::error_code&) {
  head_.method.assign(method.data(), method.size());
  head_.target.assign(target.data(), target.size());
  head_.version = static_cast<unsigned>(version);
}

template <bool IsRequest>
void message_parser<IsRequest>::on_response_impl(int status, boost::beast::string_view reason,
                                                 int version, boost::system::error_code&) {
  head_.status = status;
  head_.reason.assign(reason.data(), reason.size());
  head_.version = static_cast<unsigned>(version);
}

template <bool IsRequest>
void message_parser<IsRequest>::on_field_impl(http::field f, boost::beast::string_view name,
                                              boost::beast::string_view value,
                                              boost::system::error_code& ec) {
  // RFC 9112 §6.3: a request whose last transfer coding is not chunked has no determinable
  // length and must be rejected (Beast would take it as bodiless, letting its body pass as the
  // next request). Beast has applied this field already, so chunked() reflects it.
  if (IsRequest && !in_trailers_ && f == http::field::transfer_encoding && !base::chunked()) {
    ec = http::error::bad_transfer_encoding;
    return;
  }
  auto& list = in_trailers_ ? trailers_ : head_.fields;
  list.emplace_back(std::string(name.data(), name.size()), std::string(value.data(), value.size()));
}

template <bool IsRequest>
void message_parser<IsRequest>::on_header_impl(boost::system::error_code&) {
  in_trailers_ = true;  // any field after the head is a chunked trailer (RFC 9112 §7.1.2)
}

template <bool IsRequest>
void message_parser<IsRequest>::on_body_init_impl(const boost::optional<std::uint64_t>&,
                                                  boost::system::error_code&) {}

template <bool IsRequest>
std::size_t message_parser<IsRequest>::on_body_impl(boost::beast::string_view body,
                                                    boost::system::error_code&) {
  pieces_.emplace_back(body.data(), body.size());
  body_bytes_ += body.size();
  return body.size();
}

template <bool IsRequest>
void message_parser<IsRequest>::on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                                                     boost::system::error_code&) {}

template <bool IsRequest>
std::size_t message_parser<IsRequest>::on_chunk_body_impl(std::uint64_t,
                                                          boost::beast::string_view body,
                                                          boost::system::error_code&) {
  pieces_.emplace_back(body.data(), body.size());
  body_bytes_ += body.size();
  return body.size();
}

template <bool IsRequest>
void message_parser<IsRequest>::on_finish_impl(boost::system::error_code&) {}

template class message_parser<true>;
template class message_parser<false>;

}  // namespace hark::layers::http1
