#pragma once

#include "hark/capture/entry_record.hpp"
#include "hark/capture/h2_frame_log.hpp"
#include "hark/capture/tls_log.hpp"
#include "hark/capture/ws_record.hpp"

namespace hark::capture {

/** Where finished entry records go (the store writer; a vector in tests).
 *  submit() is called from proxy worker threads and must never block on I/O. */
class record_queue {
 public:
  virtual ~record_queue() = default;
  /** Takes ownership of `record`. May drop its bodies under pressure (marking them truncated),
   *  never the entry itself. */
  virtual void submit(entry_record&& record) = 0;
  /** Takes ownership of a TLS connection log; a later log with the same connection id
   *  replaces the earlier one. May drop it under pressure. */
  virtual void submit_tls(tls_connection_log&& /*log*/) {}
  /** Takes ownership of a WebSocket message, submitted after its entry. May drop its payload
   *  under pressure (marking it truncated), or the message when too many wait. */
  virtual void submit_ws(ws_message_record&& /*message*/) {}
  /** Takes ownership of a batch of an HTTP/2 connection's frame log (`session_id` set). May
   *  drop it under pressure. */
  virtual void submit_h2(h2_frame_batch&& /*batch*/) {}
};

}  // namespace hark::capture
