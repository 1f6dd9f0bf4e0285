#pragma once
// One HTTP/1.x exchange (private to src/layers): request head → upstream (the intercepted
// connection's own, a pooled one or a new one) → request body and response relayed as they
// arrive, bytes forwarded verbatim after the heads, capture through `exchange`.

#include "connection.hpp"
#include "exchange.hpp"

#include "hark/layers/http1_parser.hpp"

namespace hark::layers {

/** What the client connection does after an exchange. */
enum class http1_next { keep_alive, close, upgraded_websocket, upgraded_other };

/** Relays the exchange whose request head `p` holds. Never leaves it unrecorded: an exception
 *  inside is recorded as `internal_error` (502 when the response had not started) and closes the
 *  connection. After an upgrade the upstream half is in `c.upgraded`. */
asio::awaitable<http1_next> run_http1_exchange(client_connection& c, http1::request_parser& p,
                                               const exchange_target& t);

/** An upstream connection for `t`: the intercepted connection's own (TLS), else an idle pooled
 *  one, else a new one, connecting within --connect-timeout enforced by `d`. */
asio::awaitable<acquired_upstream> acquire_upstream(client_connection& c, const exchange_target& t,
                                                    net::watchdog::deadline& d);

/** Keeps `up` for the next exchange of the same origin (it ended cleanly). */
void release_upstream(client_connection& c, net::upstream_connection&& up);

}  // namespace hark::layers
