#pragma once
// The TLS connection log's tap (private to src/layers): OpenSSL's message callback on both of
// Hark's TLS connections copies the hellos, certificates and alerts into the connection's log.

#include "connection.hpp"

#include <openssl/ssl.h>

namespace hark::layers {

/** Makes `ssl` append its logged messages to `tap` (nothing when the tap has no log). `tap`
 *  must outlive `ssl`'s use, or be detached with detach_tap(). */
void attach_tap(SSL* ssl, tls_tap* tap);

/** Stops `ssl` appending anywhere (before it goes to a pool). */
void detach_tap(SSL* ssl);

/** Hands the connection's log to capture when messages were added since the last time. */
void submit_tls_log(client_connection& c);

}  // namespace hark::layers
