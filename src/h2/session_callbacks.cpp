// The nghttp2 callbacks of hark::h2::session: received frames become events, the send queues
// feed DATA frames. STYLE.md 2: nothing throws across nghttp2; each callback catches and
// answers with nghttp2's error codes (CALLBACK_FAILURE ends the session with INTERNAL_ERROR).
#include "session_callbacks.hpp"

#include <algorithm>
#include <new>

namespace hark::h2 {

namespace {

session& self(void* user) noexcept {
  return *static_cast<session*>(user);
}

/** The head's :status, or an empty view. */
std::string_view status_of(const capture::header_list& fields) noexcept {
  for (const auto& [name, value] : fields) {
    if (name == ":status") {
      return value;
    }
  }
  return {};
}

/** What a HEADERS frame carries, from nghttp2's category and the fields (RFC 9113 §8.1). */
head_kind kind_of(const nghttp2_frame& frame, const capture::header_list& fields) noexcept {
  switch (frame.headers.cat) {
    case NGHTTP2_HCAT_REQUEST:
      return head_kind::request;
    case NGHTTP2_HCAT_PUSH_RESPONSE:
      return head_kind::response;
    case NGHTTP2_HCAT_RESPONSE:
    case NGHTTP2_HCAT_HEADERS:
      break;
  }
  // HCAT_HEADERS is either the final head after 1xx heads, or trailers (no :status).
  const std::string_view status = status_of(fields);
  if (status.empty()) {
    return head_kind::trailers;
  }
  return status.front() == '1' ? head_kind::informational : head_kind::response;
}

}  // namespace

callbacks_ptr session_callbacks::make() {
  nghttp2_session_callbacks* raw = nullptr;
  if (nghttp2_session_callbacks_new(&raw) != 0) {
    throw std::bad_alloc();
  }
  callbacks_ptr cbs(raw);
  nghttp2_session_callbacks_set_on_begin_headers_callback(raw, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(raw, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(raw, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(raw, on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(raw, on_frame_send);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(raw, on_frame_not_send);
  nghttp2_session_callbacks_set_error_callback2(raw, on_error);
  return cbs;
}

nghttp2_data_provider session_callbacks::provider() noexcept {
  nghttp2_data_provider prd{};
  prd.read_callback = read_data;
  return prd;
}

int session_callbacks::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame,
                                        void* user) noexcept {
  try {
    session& s = self(user);
    const bool promise = frame->hd.type == NGHTTP2_PUSH_PROMISE;
    s.head_.stream_id = promise ? frame->push_promise.promised_stream_id : frame->hd.stream_id;
    s.head_.fields.clear();
    s.head_.list_size = 0;
    s.head_.decoded = 0;
    s.head_.oversized = false;
    if (promise ||
        (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)) {
      s.streams_.try_emplace(s.head_.stream_id);
    }
    return 0;
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

int session_callbacks::on_header(nghttp2_session*, const nghttp2_frame*, const std::uint8_t* name,
                                 std::size_t name_len, const std::uint8_t* value,
                                 std::size_t value_len, std::uint8_t, void* user) noexcept {
  try {
    session& s = self(user);
    auto& head = s.head_;
    // HPACK bomb (RFC 9113 §10.5.1): small input that decodes to huge lists through the
    // dynamic table. Decoding must go on for the table to stay in sync, so past a hard bound
    // the connection ends rather than only the stream.
    head.decoded += name_len + value_len;
    if (head.decoded > s.settings_.max_decoded_header_block) {
      s.fail(NGHTTP2_ENHANCE_YOUR_CALM, "header block decodes to more than " +
                                            std::to_string(s.settings_.max_decoded_header_block) +
                                            " bytes (HPACK bomb)");
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    head.list_size += name_len + value_len + 32;
    if (head.list_size > s.settings_.max_header_list_size) {
      head.oversized = true;
    }
    if (!head.oversized) {
      head.fields.emplace_back(std::string(reinterpret_cast<const char*>(name), name_len),
                               std::string(reinterpret_cast<const char*>(value), value_len));
    }
    return 0;
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

int session_callbacks::finish_oversized_head(session& s, const nghttp2_frame& frame,
                                             head_kind kind) {
  const std::int32_t stream = s.head_.stream_id;
  if (kind == head_kind::request && s.role_ == role::server) {
    // RFC 9113 §10.5.1: a server may answer a too large head with 431, as Hark does in HTTP/1.
    auto& st = s.streams_[stream];
    st.discard = true;
    const nghttp2_nv status{reinterpret_cast<std::uint8_t*>(const_cast<char*>(":status")),
                            reinterpret_cast<std::uint8_t*>(const_cast<char*>("431")), 7, 3,
                            NGHTTP2_NV_FLAG_NONE};
    nghttp2_submit_response(s.session_.get(), stream, &status, 1, nullptr);
    if ((frame.hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
      // §8.1: after a complete response, RST_STREAM NO_ERROR stops the request body.
      nghttp2_submit_rst_stream(s.session_.get(), NGHTTP2_FLAG_NONE, stream, NGHTTP2_NO_ERROR);
    }
    return 0;
  }
  // The head may have ended the stream already: the close reports the reason all the same.
  if (const auto it = s.streams_.find(stream); it != s.streams_.end()) {
    it->second.local_error = NGHTTP2_ENHANCE_YOUR_CALM;
  }
  nghttp2_submit_rst_stream(s.session_.get(), NGHTTP2_FLAG_NONE, stream, NGHTTP2_ENHANCE_YOUR_CALM);
  return 0;
}

int session_callbacks::finish_head(session& s, const nghttp2_frame& frame) {
  headers_event ev;
  ev.stream_id = s.head_.stream_id;
  ev.kind = frame.hd.type == NGHTTP2_PUSH_PROMISE ? head_kind::push_promise
                                                  : kind_of(frame, s.head_.fields);
  if (s.head_.oversized) {
    return finish_oversized_head(s, frame, ev.kind);
  }
  if (ev.kind == head_kind::push_promise) {
    ev.stream_id = frame.hd.stream_id;
    ev.promised_stream_id = frame.push_promise.promised_stream_id;
  }
  ev.end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  ev.fields = std::move(s.head_.fields);
  s.head_.fields.clear();
  s.events_.emplace_back(std::move(ev));
  return 0;
}

void session_callbacks::on_data_end(session& s, std::int32_t stream) {
  if (!s.events_.empty()) {
    if (auto* last = std::get_if<data_event>(&s.events_.back());
        last && last->stream_id == stream) {
      last->end_stream = true;
      return;
    }
  }
  s.events_.emplace_back(data_event{stream, {}, true});
}

int session_callbacks::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame,
                                     void* user) noexcept {
  try {
    session& s = self(user);
    const std::int32_t stream = frame->hd.stream_id;
    switch (frame->hd.type) {
      case NGHTTP2_DATA:
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
          const auto it = s.streams_.find(stream);
          if (it == s.streams_.end() || !it->second.discard) {
            on_data_end(s, stream);
          }
        }
        return 0;
      case NGHTTP2_HEADERS:
      case NGHTTP2_PUSH_PROMISE:
        return finish_head(s, *frame);
      case NGHTTP2_RST_STREAM:
        s.events_.emplace_back(reset_event{stream, frame->rst_stream.error_code});
        // CVE-2023-44487: a client that opens and resets streams in a loop costs the server
        // work for nothing; past the token bucket the connection ends.
        if (s.role_ == role::server && !s.take_reset_token()) {
          s.fail(NGHTTP2_ENHANCE_YOUR_CALM, "RST_STREAM rate above the limit (rapid reset)");
        }
        return 0;
      case NGHTTP2_GOAWAY:
        s.events_.emplace_back(
            goaway_event{frame->goaway.last_stream_id, frame->goaway.error_code,
                         std::string(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                                     frame->goaway.opaque_data_len)});
        return 0;
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
          s.events_.emplace_back(settings_event{});
        }
        return 0;
      default:
        return 0;
    }
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

int session_callbacks::on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream,
                                     const std::uint8_t* data, std::size_t len,
                                     void* user) noexcept {
  try {
    session& s = self(user);
    const auto it = s.streams_.find(stream);
    if (it != s.streams_.end() && it->second.discard) {
      s.on_data_received(stream, len);
      return 0;
    }
    const std::string_view bytes(reinterpret_cast<const char*>(data), len);
    data_event* last = s.events_.empty() ? nullptr : std::get_if<data_event>(&s.events_.back());
    if (last != nullptr && last->stream_id == stream && !last->end_stream) {
      last->bytes.append(bytes);
    } else {
      s.events_.emplace_back(data_event{stream, std::string(bytes), false});
    }
    s.on_data_received(stream, len);
    return 0;
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

int session_callbacks::on_stream_close(nghttp2_session*, std::int32_t stream, std::uint32_t code,
                                       void* user) noexcept {
  try {
    session& s = self(user);
    const auto it = s.streams_.find(stream);
    if (it != s.streams_.end()) {
      // What the driver still holds of the stream stays counted until it consume()s it.
      if (it->second.unconsumed > 0) {
        s.closed_unconsumed_[stream] = it->second.unconsumed;
      }
      if (code == NGHTTP2_NO_ERROR) {
        code = it->second.local_error;
      }
      s.streams_.erase(it);
    }
    s.events_.emplace_back(stream_closed_event{stream, code});
    return 0;
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

int session_callbacks::on_frame_send(nghttp2_session*, const nghttp2_frame* frame,
                                     void* user) noexcept {
  try {
    if (frame->hd.type != NGHTTP2_GOAWAY) {
      return 0;
    }
    session& s = self(user);
    const auto& g = frame->goaway;
    const std::string debug(reinterpret_cast<const char*>(g.opaque_data), g.opaque_data_len);
    s.local_goaway_code_ = g.error_code;
    const bool from_driver = s.driver_goaway_ && s.driver_goaway_->first == g.error_code &&
                             s.driver_goaway_->second == debug;
    if (g.error_code != NGHTTP2_NO_ERROR && !from_driver && !s.failed_) {
      // A connection error nghttp2 detected itself; its GOAWAY debug data says which.
      s.failed_ = true;
      s.fail_reason_ = debug.empty() ? nghttp2_http2_strerror(g.error_code) : debug;
    }
    return 0;
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

int session_callbacks::on_frame_not_send(nghttp2_session* ng, const nghttp2_frame* frame,
                                         int lib_error, void* user) noexcept {
  try {
    // A request or pushed head that could not be framed (GOAWAY arrived, stream ids ran out,
    // head too large) may leave no nghttp2 stream behind, hence no close callback: close it
    // here so that the driver hears of it and its state goes.
    const std::int32_t stream = frame->hd.type == NGHTTP2_PUSH_PROMISE
                                    ? frame->push_promise.promised_stream_id
                                    : frame->hd.stream_id;
    session& s = self(user);
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_PUSH_PROMISE) ||
        nghttp2_session_find_stream(ng, stream) != nullptr || s.streams_.erase(stream) == 0) {
      return 0;
    }
    s.last_error_ = nghttp2_strerror(lib_error);
    s.events_.emplace_back(stream_closed_event{stream, NGHTTP2_REFUSED_STREAM});
    return 0;
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

int session_callbacks::on_error(nghttp2_session*, int, const char* msg, std::size_t len,
                                void* user) noexcept {
  try {
    self(user).last_error_.assign(msg, std::min<std::size_t>(len, 256));
    return 0;
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

ssize_t session_callbacks::read_data(nghttp2_session* ng, std::int32_t stream, std::uint8_t* buf,
                                     std::size_t length, std::uint32_t* flags, nghttp2_data_source*,
                                     void* user) noexcept {
  try {
    session& s = self(user);
    const auto it = s.streams_.find(stream);
    if (it == s.streams_.end()) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
    }
    session::stream_state& st = it->second;
    const std::size_t n = std::min(length, st.send_queue.size() - st.send_offset);
    std::copy_n(st.send_queue.data() + st.send_offset, n, reinterpret_cast<char*>(buf));
    st.send_offset += n;
    if (st.send_offset == st.send_queue.size()) {
      st.send_queue.clear();
      st.send_offset = 0;
    } else if (st.send_offset > st.send_queue.size() / 2) {
      st.send_queue.erase(0, st.send_offset);
      st.send_offset = 0;
    }
    if (!st.send_queue.empty()) {
      return static_cast<ssize_t>(n);
    }
    if (st.has_trailers) {
      // DATA without END_STREAM, then HEADERS with END_STREAM (nghttp2_submit_trailer's contract).
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      const int rv = nghttp2_submit_trailer(ng, stream, s.to_nv(st.trailers), st.trailers.size());
      st.trailers.clear();
      if (rv != 0) {
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      }
      return static_cast<ssize_t>(n);
    }
    if (st.end_queued) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    }
    if (n > 0) {
      return static_cast<ssize_t>(n);
    }
    st.deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  } catch (...) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
}

}  // namespace hark::h2
