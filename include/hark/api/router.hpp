#pragma once
// The REST API as a function: request in, response out. No sockets here, so that every
// handler is tested without a listener (tests/unit/api).

#include "hark/capture/event_hub.hpp"
#include "hark/capture/recording_state.hpp"
#include "hark/capture/tls_registry.hpp"
#include "hark/core/config.hpp"
#include "hark/core/metrics.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hark::api {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

/** Largest request body the API accepts (413 beyond). */
inline constexpr std::size_t max_request_body = 50u << 20;

/** What handlers may use. Owned by the API thread; handlers run on that thread only. */
struct context {
  store::catalog& catalog;
  capture::recording_state& recording;
  /** Counters of the store writer, for health; may be null in tests. */
  store::writer_stats* writer_stats = nullptr;
  /** Bearer token required on /api routes (but health and CA); empty: none required. */
  std::string api_token;
  /** Host header values accepted besides loopback names (the bound address, `host:port`). */
  std::vector<std::string> allowed_hosts;
  /** The proxy's listening address (`127.0.0.1:8080`), shown by health so that a client (the
   *  web UI's setup page) can tell a user what to configure; empty: unknown (tests). */
  std::string proxy_address;
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
  /** The CA certificate served by GET /api/ca.pem and /api/ca.der; empty: 404. */
  /** Passthrough patterns and TLS failures shared with the proxy; may be null in tests. */
  capture::tls_registry* tls = nullptr;
  /** The proxy's counters for GET /metrics; may be null in tests. */
  const proxy_metrics* metrics = nullptr;
  std::string ca_pem;
  std::string ca_der;
  /** Live events for GET /api/events (and where session changes are published); may be null
   *  in tests: the route then answers 503 and nothing is published. */
  capture::event_hub* events = nullptr;
  /** Silence after which an event stream sends a `: keep-alive` comment (SPEC §6.6: 15 s);
   *  a client that went away is noticed when that write fails. */
  std::chrono::milliseconds events_keepalive{15'000};
};

/** The body of a response that is produced after its head is sent (HAR export, events), so
 *  that its size never sits in memory. Pieces are pulled one at a time on the API thread and
 *  sent as HTTP/1.1 chunks. */
class body_stream {
 public:
  virtual ~body_stream() = default;
  /** The next piece of the body; an empty string ends it. May wait (for events). An exception
   *  ends the response mid-body: the connection is closed without the last chunk, so the
   *  client sees a truncated transfer rather than a complete-looking one. */
  virtual boost::asio::awaitable<std::string> next() = 0;
};

/** A routed response: the whole response, or its head plus the stream of its body. */
struct reply {
  reply() = default;
  reply(response whole) : head(std::move(whole)) {}  // NOLINT(google-explicit-constructor)
  reply(response h, std::unique_ptr<body_stream> b) : head(std::move(h)), body(std::move(b)) {}

  response head;
  std::unique_ptr<body_stream> body;  ///< null: `head` carries the whole body
};

/** Routes one request: Host guard, token check, then the resource handler.
 *  Never throws: unexpected failures become 500 {"error": "..."}. */
reply serve(context& ctx, const request& req);

/** serve() for callers that need no streamed body (tests): a streamed reply's head only. */
response handle(context& ctx, const request& req);

// Every route as (method, path pattern), `*` standing for one path segment (a parameter):
// ("GET", "/api/sessions/*/entries"), …, ("GET", "/metrics"), and the web UI's ("GET", "/")
// and ("GET", "/ui/*"), whose `*` is any path under /ui. docs/openapi.json describes
// exactly these (tests/unit/api/api_description_test.cpp).
std::vector<std::pair<std::string, std::string>> route_patterns();

/** The JSON-RPC methods POST /api/rpc knows, in table order (documented in docs/json-rpc.md). */
std::vector<std::string_view> rpc_method_names();

}  // namespace hark::api
