#pragma once
// The nghttp2 callbacks of hark::h2::session (session_callbacks.cpp). Each is a noexcept static
// function: it catches everything and answers nghttp2 with its error codes, so no exception
// crosses the C library.

#include "hark/h2/session.hpp"

#include <nghttp2/nghttp2.h>

#include <memory>

namespace hark::h2 {

struct callbacks_deleter {
  void operator()(nghttp2_session_callbacks* c) const noexcept { nghttp2_session_callbacks_del(c); }
};
using callbacks_ptr = std::unique_ptr<nghttp2_session_callbacks, callbacks_deleter>;

struct session_callbacks {
  /** A callback table for a session whose user_data is the hark::h2::session. Throws
   *  std::bad_alloc when nghttp2 cannot allocate it. */
  static callbacks_ptr make();

  /** The data provider of every stream whose body Hark sends: reads the stream's send queue. */
  static nghttp2_data_provider provider() noexcept;

 private:
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) noexcept;
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t name_len, const std::uint8_t* value, std::size_t value_len,
                       std::uint8_t flags, void* user) noexcept;
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) noexcept;
  static int on_data_chunk(nghttp2_session*, std::uint8_t flags, std::int32_t stream,
                           const std::uint8_t* data, std::size_t len, void* user) noexcept;
  static int on_stream_close(nghttp2_session*, std::int32_t stream, std::uint32_t code,
                             void* user) noexcept;
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) noexcept;
  static int on_frame_not_send(nghttp2_session*, const nghttp2_frame* frame, int lib_error,
                               void* user) noexcept;
  static int on_error(nghttp2_session*, int lib_error, const char* msg, std::size_t len,
                      void* user) noexcept;
  static ssize_t read_data(nghttp2_session*, std::int32_t stream, std::uint8_t* buf,
                           std::size_t length, std::uint32_t* flags, nghttp2_data_source*,
                           void* user) noexcept;

  static int finish_head(session& s, const nghttp2_frame& frame);
  static int finish_oversized_head(session& s, const nghttp2_frame& frame, head_kind kind);
  static void on_data_end(session& s, std::int32_t stream);
};

}  // namespace hark::h2
