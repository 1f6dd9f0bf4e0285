#pragma once
// entry_record: one captured exchange, as the recorder hands it to the store.
// Field names follow the seed's SessionEntry model (docs/api.md maps them to JSON).

#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hark::capture {

/** Header fields in the order and letter case they were received. */
using header_list = std::vector<std::pair<std::string, std::string>>;

struct net_address {
  std::string ip;
  std::optional<std::uint16_t> port;
};

/** `{"value": 772, "name": "TLSv1.3"}` */
struct named_u16 {
  std::uint16_t value = 0;
  std::string name;
};

struct ja3_fingerprint {
  std::string string;
  std::string hash;
};

struct ja4_fingerprint {
  std::string raw;
  std::string hashed;
};

/** The seed's TlsSettings; every member empty for plain HTTP. */
struct tls_details {
  std::optional<std::string> connection_id;
  std::optional<named_u16> tls_version;
  std::optional<named_u16> cipher_suite;
  std::optional<ja3_fingerprint> ja3;
  std::optional<ja4_fingerprint> ja4;
};

struct http2_ref {
  std::string connection_id;
  std::uint32_t stream_id = 0;
};

/** Phase durations in milliseconds, nullopt when not measured (seed's Timings). */
struct timing_record {
  std::chrono::system_clock::time_point started_at{};
  std::optional<double> blocked, dns, connect, send, wait, receive, ssl;
};

struct process_info {
  int pid = 0;
  std::optional<std::string> name;
};

struct flow_error {
  std::string code;     ///< hark::errc as string (`connect_failed`, …)
  std::string message;  ///< the text sent to the client, e.g. `hark: cannot connect to …`
};

struct request_record {
  std::optional<std::string> method;
  std::optional<std::string> path;
  std::optional<std::string> http_version;  ///< `HTTP/1.1`
  header_list headers;
  header_list trailers;                    ///< chunked trailer fields, if any
  std::optional<std::uint64_t> body_size;  ///< after chunked framing, before content decoding
  bool body_truncated = false;             ///< capture stopped at the cap (or was dropped)
};

struct response_record {
  std::optional<std::string> http_version;
  std::optional<int> status_code;
  std::optional<std::string> status_text;
  header_list headers;
  header_list trailers;
  std::optional<std::uint64_t> body_size;
  bool body_truncated = false;
};

struct entry_record {
  std::string id;          ///< ULID
  std::string session_id;  ///< the session that was active and recording when it started
  std::string url;         ///< scheme as the client used it (http, https, ws, wss)
  std::string host;        ///< lowercase host name of `url` (for the host filter)
  std::optional<net_address> client_addr;
  std::optional<net_address> remote_addr;
  std::string http_version;                  ///< `HTTP/1.1`, `HTTP/2`
  std::string transaction_type = "request";  ///< or `push_promise`
  request_record request;
  std::optional<response_record> response;
  bool is_websocket = false;
  tls_details tls;
  std::optional<http2_ref> http2;
  std::optional<http2_ref> upstream_http2;
  std::optional<std::string> upstream_http_version;
  timing_record timings;
  /** Resolved off the relay path (Linux /proc); the store waits for it when writing. */
  std::shared_future<std::optional<process_info>> process;
  std::optional<flow_error> error;
  /** Captured body bytes as transferred (chunked framing removed, content-encoding kept),
   *  at most the capture cap. */
  std::string request_body;
  std::string response_body;
  /** Total duration in ms from request start to the last response byte (or failure). */
  std::optional<double> duration_ms;
};

}  // namespace hark::capture
