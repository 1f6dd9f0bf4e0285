// hark::h2::session: construction, the byte pumps and the submit side. The nghttp2 callbacks
// that turn received frames into events are in session_callbacks.cpp.
#include "hark/h2/session.hpp"

#include "session_callbacks.hpp"

#include <algorithm>
#include <new>
#include <stdexcept>

namespace hark::h2 {

namespace {

/** pending_output() gathers frames up to this many bytes: one large socket write. */
constexpr std::size_t output_bound = std::size_t{64} * 1024;

struct option_deleter {
  void operator()(nghttp2_option* o) const noexcept { nghttp2_option_del(o); }
};

/** The GOAWAY code for a fatal nghttp2_session_mem_recv error (RFC 9113 §7). */
std::uint32_t goaway_code_for(std::ptrdiff_t lib_error) noexcept {
  switch (lib_error) {
    case NGHTTP2_ERR_FLOODED:
    case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
    case NGHTTP2_ERR_TOO_MANY_SETTINGS:
      return NGHTTP2_ENHANCE_YOUR_CALM;
    case NGHTTP2_ERR_HEADER_COMP:
      return NGHTTP2_COMPRESSION_ERROR;
    case NGHTTP2_ERR_FLOW_CONTROL:
      return NGHTTP2_FLOW_CONTROL_ERROR;
    case NGHTTP2_ERR_FRAME_SIZE_ERROR:
      return NGHTTP2_FRAME_SIZE_ERROR;
    case NGHTTP2_ERR_NOMEM:
    case NGHTTP2_ERR_CALLBACK_FAILURE:
      return NGHTTP2_INTERNAL_ERROR;
    default:  // bad preface, invalid frames
      return NGHTTP2_PROTOCOL_ERROR;
  }
}

std::unique_ptr<nghttp2_option, option_deleter> make_options(const settings& s) {
  nghttp2_option* raw = nullptr;
  if (nghttp2_option_new(&raw) != 0) {
    throw std::bad_alloc();
  }
  std::unique_ptr<nghttp2_option, option_deleter> opt(raw);
  nghttp2_option_set_no_auto_window_update(raw, 1);
  nghttp2_option_set_no_closed_streams(raw, 1);
  // RFC 9113 §6.5.2 recommends no fewer than 100: assume that until the peer's SETTINGS.
  nghttp2_option_set_peer_max_concurrent_streams(raw, 100);
  nghttp2_option_set_max_reserved_remote_streams(raw, s.max_concurrent_streams);
  nghttp2_option_set_max_outbound_ack(raw, s.max_outbound_ack);
  nghttp2_option_set_max_settings(raw, s.max_settings_entries);
  nghttp2_option_set_max_continuations(raw, s.max_continuations);
  // Hark counts RST_STREAM itself to answer ENHANCE_YOUR_CALM; nghttp2's own limiter (which
  // answers INTERNAL_ERROR) stays as a backstop above Hark's.
  nghttp2_option_set_stream_reset_rate_limit(raw, std::uint64_t{s.reset_burst} * 2 + 1,
                                             std::uint64_t{s.reset_rate} * 2 + 1);
  // Heads relayed from the other side may be as large as Hark accepts there.
  nghttp2_option_set_max_send_header_block_length(
      raw, std::max<std::size_t>(std::size_t{64} * 1024, std::size_t{s.max_header_list_size} * 2));
  return opt;
}

bool is_informational(const capture::header_list& fields) noexcept {
  for (const auto& [name, value] : fields) {
    if (name == ":status") {
      return value.size() == 3 && value[0] == '1';
    }
  }
  return false;
}

bool has_protocol(const capture::header_list& fields) noexcept {
  return std::any_of(fields.begin(), fields.end(),
                     [](const auto& field) { return field.first == ":protocol"; });
}

}  // namespace

session::session(role r, const settings& s, nghttp2_mem* mem)
    : role_(r),
      settings_(s),
      reset_tokens_(s.reset_burst),
      reset_refill_(std::chrono::steady_clock::now()) {
  const auto options = make_options(s);
  const auto callbacks = session_callbacks::make();
  nghttp2_session* raw = nullptr;
  const int rv = r == role::server
                     ? nghttp2_session_server_new3(&raw, callbacks.get(), this, options.get(), mem)
                     : nghttp2_session_client_new3(&raw, callbacks.get(), this, options.get(), mem);
  if (rv != 0) {
    throw std::bad_alloc();
  }
  session_.reset(raw);
  submit_initial_settings();
}

// nghttp2_session_del runs no callbacks, but the session goes first all the same: nothing of
// it may outlive the stream states its callbacks use.
session::~session() {
  session_.reset();
}

void session::submit_initial_settings() {
  std::vector<nghttp2_settings_entry> iv{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings_.max_header_list_size},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, settings_.header_table_size},
  };
  if (role_ == role::client) {
    iv.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, settings_.enable_push ? 1u : 0u});
  } else if (settings_.enable_connect_protocol) {
    iv.push_back({NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1});
  }
  if (nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, iv.data(), iv.size()) != 0) {
    throw std::invalid_argument("h2 settings out of range (RFC 9113 §6.5.2)");
  }
  // The connection window starts at 65 535 whatever SETTINGS say (RFC 9113 §6.9.2).
  if (settings_.connection_window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE &&
      nghttp2_session_set_local_window_size(
          session_.get(), NGHTTP2_FLAG_NONE, 0,
          static_cast<std::int32_t>(std::min<std::uint32_t>(settings_.connection_window,
                                                            NGHTTP2_MAX_WINDOW_SIZE))) != 0) {
    throw std::invalid_argument("h2 connection window out of range");
  }
}

receive_result session::receive(std::string_view bytes) {
  if (failed_ || broken_) {
    return {0, false, fail_reason_};
  }
  const auto rv = nghttp2_session_mem_recv(
      session_.get(), reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (rv < 0) {
    std::string reason = last_error_.empty() ? nghttp2_strerror(static_cast<int>(rv)) : last_error_;
    fail(goaway_code_for(rv), std::move(reason));
    return {0, false, fail_reason_};
  }
  if (!failed_) {
    // A connection error nghttp2 found itself shows as the GOAWAY it queued: frame the output
    // now (the driver sends it next anyway) so that this result already says so.
    fill_output();
  }
  return {static_cast<std::size_t>(rv), !failed_, failed_ ? fail_reason_ : std::string()};
}

void session::fail(std::uint32_t code, std::string reason) {
  if (failed_) {
    return;
  }
  failed_ = true;
  fail_reason_ = std::move(reason);
  // No-op when nghttp2 already queued a terminating GOAWAY: its code stands.
  nghttp2_session_terminate_session(session_.get(), code);
}

void session::fill_output() {
  while (!broken_ && out_.size() - out_offset_ < output_bound) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_.get(), &data);
    if (n < 0) {
      // Only NOMEM or a callback failure: the session cannot go on.
      broken_ = true;
      fail_reason_ = nghttp2_strerror(static_cast<int>(n));
      break;
    }
    if (n == 0) {
      break;
    }
    if (out_offset_ > 0 && out_offset_ >= out_.size() / 2) {
      out_.erase(0, out_offset_);
      out_offset_ = 0;
    }
    out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
}

std::string_view session::pending_output() {
  fill_output();
  return std::string_view(out_).substr(out_offset_);
}

void session::consume_output(std::size_t n) noexcept {
  out_offset_ = std::min(out_.size(), out_offset_ + n);
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
}

bool session::want_read() const {
  return !failed_ && !broken_ && nghttp2_session_want_read(session_.get()) != 0;
}

bool session::want_write() const {
  if (broken_) {
    return false;
  }
  return out_offset_ < out_.size() || nghttp2_session_want_write(session_.get()) != 0;
}

const nghttp2_nv* session::to_nv(const capture::header_list& fields) {
  nv_.clear();
  for (const auto& [name, value] : fields) {
    // NGHTTP2_NV_FLAG_NONE: nghttp2 copies names and values when the frame is submitted.
    nv_.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                   reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nv_.data();
}

bool session::attach_provider(std::int32_t stream, const capture::header_list& fields,
                              bool end_stream, bool informational) {
  const auto it = streams_.find(stream);
  if (it == streams_.end() || it->second.discard) {
    return false;
  }
  const nghttp2_nv* nv = to_nv(fields);
  if (informational) {
    return nghttp2_submit_headers(session_.get(), NGHTTP2_FLAG_NONE, stream, nullptr, nv,
                                  fields.size(), nullptr) >= 0;
  }
  const nghttp2_data_provider prd = session_callbacks::provider();
  if (nghttp2_submit_response(session_.get(), stream, nv, fields.size(),
                              end_stream ? nullptr : &prd) != 0) {
    return false;
  }
  it->second.has_provider = !end_stream;
  return true;
}

bool session::submit_response(std::int32_t stream, const capture::header_list& fields,
                              bool end_stream) {
  if (role_ != role::server) {
    return false;
  }
  return attach_provider(stream, fields, end_stream, is_informational(fields));
}

std::int32_t session::submit_push_promise(std::int32_t parent,
                                          const capture::header_list& request_fields) {
  if (role_ != role::server || remote_setting(NGHTTP2_SETTINGS_ENABLE_PUSH) == 0) {
    return 0;
  }
  const std::int32_t promised =
      nghttp2_submit_push_promise(session_.get(), NGHTTP2_FLAG_NONE, parent, to_nv(request_fields),
                                  request_fields.size(), nullptr);
  if (promised <= 0) {
    return 0;
  }
  streams_.try_emplace(promised);
  return promised;
}

std::int32_t session::submit_request(const capture::header_list& fields, bool end_stream) {
  if (role_ != role::client) {
    return NGHTTP2_ERR_INVALID_STATE;
  }
  // RFC 8441 §3: `:protocol` only once the origin sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
  if (has_protocol(fields) && remote_setting(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) == 0) {
    return NGHTTP2_ERR_INVALID_ARGUMENT;
  }
  // nghttp2 would accept the request and fail it only when framing: say it now.
  if (nghttp2_session_check_request_allowed(session_.get()) == 0) {
    return NGHTTP2_ERR_START_STREAM_NOT_ALLOWED;
  }
  const nghttp2_data_provider prd = session_callbacks::provider();
  const std::int32_t id = nghttp2_submit_request(
      session_.get(), nullptr, to_nv(fields), fields.size(), end_stream ? nullptr : &prd, nullptr);
  if (id < 0) {
    return id;
  }
  streams_[id].has_provider = !end_stream;
  return id;
}

bool session::submit_data(std::int32_t stream, std::string_view bytes, bool end_stream) {
  const auto it = streams_.find(stream);
  if (it == streams_.end()) {
    return false;
  }
  stream_state& st = it->second;
  if (!st.has_provider || st.end_queued || st.has_trailers) {
    return false;
  }
  st.send_queue.append(bytes);
  st.end_queued = end_stream;
  resume(stream, st);
  return true;
}

bool session::submit_trailers(std::int32_t stream, const capture::header_list& fields) {
  const auto it = streams_.find(stream);
  if (it == streams_.end()) {
    return false;
  }
  stream_state& st = it->second;
  if (!st.has_provider || st.end_queued || st.has_trailers) {
    return false;
  }
  st.trailers = fields;
  st.has_trailers = true;
  resume(stream, st);
  return true;
}

void session::resume(std::int32_t stream, stream_state& st) {
  if (st.deferred) {
    st.deferred = false;
    nghttp2_session_resume_data(session_.get(), stream);
  }
}

std::size_t session::queued(std::int32_t stream) const {
  const auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.send_queue.size() - it->second.send_offset;
}

void session::on_data_received(std::int32_t stream, std::size_t n) {
  const auto it = streams_.find(stream);
  if (it == streams_.end() || it->second.discard) {
    // Nobody will consume these bytes: return their credit at once.
    nghttp2_session_consume(session_.get(), stream, n);
    return;
  }
  it->second.unconsumed += n;
  unconsumed_total_ += n;
  deferred_connection_ += n;
  release_connection_window();
}

void session::release_connection_window() {
  // The peer gets connection credit back while the driver holds no more than one connection
  // window of unconsumed DATA: buffering stays under ~2 windows, and a stalled stream (bounded
  // by its own stream window) does not stop the others.
  if (deferred_connection_ > 0 && unconsumed_total_ <= settings_.connection_window) {
    nghttp2_session_consume_connection(session_.get(), deferred_connection_);
    deferred_connection_ = 0;
  }
}

void session::consume(std::int32_t stream, std::size_t n) {
  if (const auto it = streams_.find(stream); it != streams_.end()) {
    n = std::min(n, it->second.unconsumed);
    it->second.unconsumed -= n;
    nghttp2_session_consume_stream(session_.get(), stream, n);
  } else if (const auto closed = closed_unconsumed_.find(stream);
             closed != closed_unconsumed_.end()) {
    n = std::min(n, closed->second);
    closed->second -= n;
    if (closed->second == 0) {
      closed_unconsumed_.erase(closed);
    }
  } else {
    return;
  }
  unconsumed_total_ -= n;
  release_connection_window();
}

void session::submit_rst(std::int32_t stream, std::uint32_t code) {
  nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream, code);
}

void session::submit_goaway(std::uint32_t code, std::string_view debug) {
  driver_goaway_.emplace(code, std::string(debug));
  nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_.get()), code,
                        reinterpret_cast<const std::uint8_t*>(debug.data()), debug.size());
}

std::uint32_t session::remote_setting(nghttp2_settings_id id) const {
  return nghttp2_session_get_remote_settings(session_.get(), id);
}

bool session::take_reset_token() {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - reset_refill_).count();
  reset_refill_ = now;
  reset_tokens_ =
      std::min<double>(settings_.reset_burst, reset_tokens_ + elapsed * settings_.reset_rate);
  if (reset_tokens_ < 1) {
    return false;
  }
  reset_tokens_ -= 1;
  return true;
}

}  // namespace hark::h2
