#pragma once
// catalog: the queries the REST API runs (sessions and entries), on one connection.

#include "hark/capture/entry_record.hpp"
#include "hark/capture/tls_log.hpp"
#include "hark/store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hark::store {

/** The seed's Session object. Times are Unix milliseconds. */
struct session {
  std::string id;
  std::string name;
  bool is_active = false;
  bool is_recording = false;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t traffic_count = 0;
  std::int64_t total_bytes = 0;
};

/** PATCH /api/sessions/:id — only the fields present are changed. */
struct session_patch {
  std::optional<std::string> name;
  std::optional<bool> is_active;
  std::optional<bool> is_recording;
};

/** Filters of GET /api/sessions/:sid/entries (SPEC §6.2), already validated. */
struct entry_filter {
  std::string session_id;
  std::optional<std::string> host;          ///< exact, or `*.x` for x's subdomains (and x)
  std::optional<std::string> method;        ///< case-insensitive
  std::optional<std::string> status;        ///< `404` or a class `5xx`
  std::optional<std::string> http_version;  ///< `HTTP/1.1`, `HTTP/2`
  std::optional<std::string> q;             ///< substring of URL or header text
  std::optional<std::int64_t> since_us;     ///< started at or after
  std::optional<std::int64_t> until_us;     ///< started at or before
  std::optional<bool> is_websocket;
  std::optional<bool> error;  ///< true: only failed entries; false: only those without error
  int limit = 100;            ///< 1..1000
  std::optional<std::string> cursor;  ///< from a previous page's next_cursor
  bool descending = false;            ///< order=desc: newest first
};

struct entry_page {
  std::vector<std::string> entries;  ///< each a serialized SessionEntry JSON object
  std::int64_t total = 0;            ///< entries matching the filter, over all pages
  std::optional<std::string> next_cursor;
};

enum class body_kind { request, response };

struct stored_body {
  std::string bytes;  ///< as transferred (content-encoding kept), decompressed from storage
  bool truncated = false;
  std::string content_type;      ///< from the captured headers, may be empty
  std::string content_encoding;  ///< from the captured headers, may be empty
};

struct session_stats {
  std::int64_t total_requests = 0;
  std::int64_t completed_requests = 0;  ///< with a response and no error
  std::int64_t failed_requests = 0;     ///< with an error
  std::int64_t total_bytes = 0;
  double avg_duration = 0;  ///< ms, over entries with a duration
};

/** An entry's place in time order: entries sort by (started_us, row). */
struct entry_position {
  std::int64_t started_us = 0;
  std::int64_t row = 0;  ///< the store's row number: the handle for bodies_of() and messages_of()
};

/** A stored entry as an export reads it. */
struct entry_document {
  entry_position position;
  bool is_websocket = false;
  std::string doc;  ///< the SessionEntry JSON
};

struct entry_bodies {
  std::optional<stored_body> request;   ///< nullopt when none was captured
  std::optional<stored_body> response;  ///< nullopt when none was captured
};

/** One WebSocket message as stored (SPEC §5). */
struct websocket_message {
  bool from_client = false;                ///< side: `client` (sent by the client) or `server`
  std::optional<std::int64_t> started_us;  ///< first frame, Unix us
  std::optional<std::int64_t> ended_us;    ///< last frame, Unix us
  std::string type;                        ///< text, binary, close, ping, pong, unknown
  /** text: the UTF-8 text; close: the 2-byte status code (network order) then the reason
   *  (RFC 6455 §5.5.1); the others: the application data. */
  std::string payload;
  bool truncated = false;  ///< cut at the capture cap
};

/** One entry for import_entries: a complete record (id set by the caller, session set by
 *  import_entries) and its WebSocket messages. */
struct import_entry {
  capture::entry_record record;
  std::vector<websocket_message> messages;
  /** The record's bodies are content-decoded (a HAR's text): they are stored without a content
   *  coding, so that the bodies endpoint serves them as they are. False for a body that still
   *  has the coding its headers name (its decoding failed when it was exported). */
  bool request_body_decoded = true;
  bool response_body_decoded = true;
};

/** Where import_entries writes: an existing session, or a new one (inactive, not recording). */
struct import_target {
  std::optional<std::string> session_id;
  std::string new_session_name;  ///< used when session_id is empty
};

struct import_result {
  session target;            ///< the session written into, with its updated totals
  std::size_t imported = 0;  ///< entries inserted
};

/** Thrown by list_entries for a cursor that does not decode. */
class bad_cursor : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class catalog {
 public:
  explicit catalog(database& db);

  std::vector<session> list_sessions();  ///< newest first
  std::optional<session> get_session(const std::string& id);
  std::optional<session> active_session();
  /** Inserts a new inactive, not recording session with a UUID v4 id. */
  session create_session(const std::string& name, std::int64_t now_ms);
  /** Creates a session and makes it active and recording (first start). */
  session create_active_session(const std::string& name, std::int64_t now_ms);
  /** Applies `patch`; `is_active: true` behaves as activate_session. nullopt if unknown. */
  std::optional<session> update_session(const std::string& id, const session_patch& patch,
                                        std::int64_t now_ms);
  /** Makes `id` the only active session and sets it recording. nullopt if unknown. */
  std::optional<session> activate_session(const std::string& id, std::int64_t now_ms);
  /** Deletes the session with its entries, bodies and WebSocket messages. */
  bool delete_session(const std::string& id);

  /** nullopt if the session does not exist. Throws bad_cursor. */
  std::optional<entry_page> list_entries(const entry_filter& filter);
  /** The SessionEntry JSON; `entry_id` may be `latest`. nullopt if session or entry unknown. */
  std::optional<std::string> get_entry_json(const std::string& session_id,
                                            const std::string& entry_id);
  /** Whether the entry exists in the session (for telling 404 reasons apart). */
  bool entry_exists(const std::string& session_id, const std::string& entry_id);
  std::optional<stored_body> get_body(const std::string& session_id, const std::string& entry_id,
                                      body_kind kind);
  /** Deletes every entry of the session; false if the session is unknown. */
  bool delete_entries(const std::string& session_id);
  bool delete_entry(const std::string& session_id, const std::string& entry_id);
  std::optional<session_stats> stats(const std::string& session_id);

  /** The TLS connection log of connection `id` (an entry's `tls.connectionId`). */
  std::optional<capture::tls_connection_log> get_tls_connection(const std::string& id);
  /** The stream ids of HTTP/2 connection `connection_id` (either leg's id), ascending, 0
   *  included when frames of stream 0 were logged; nullopt when none of its frames is stored. */
  std::optional<std::vector<std::uint32_t>> h2_stream_ids(const std::string& connection_id);
  /** The frame records of one stream of that connection, oldest first, packed as
   *  h2/frame_record.hpp describes; empty when the stream has none, nullopt when the
   *  connection has none. */
  std::optional<std::string> h2_stream_records(const std::string& connection_id,
                                               std::uint32_t stream_id);
  // HAR export and import (catalog_har.cpp).

  /** Up to `limit` entries of the session after `after` (from the first when nullopt), oldest
   *  first: a keyset page read in one snapshot. Empty at the end and for an unknown session. */
  std::vector<entry_document> entries_after(const std::string& session_id,
                                            const std::optional<entry_position>& after, int limit);
  /** The entry with this id, in whichever session it is; nullopt if unknown. */
  std::optional<entry_document> entry_by_id(const std::string& entry_id);
  /** The captured bodies of the entry at `row` (entry_position::row). */
  entry_bodies bodies_of(std::int64_t row);
  /** The WebSocket messages of the entry (`latest` allowed), in order; nullopt if the session
   *  or the entry is unknown. */
  std::optional<std::vector<websocket_message>> entry_messages(const std::string& session_id,
                                                               const std::string& entry_id);
  /** The WebSocket messages of the entry at `row`, in order. */
  std::vector<websocket_message> messages_of(std::int64_t row);
  /** Inserts `entries` (bodies consumed) in one transaction, into the target session or a new
   *  one, and adds them to its trafficCount and totalBytes. nullopt, with nothing written, when
   *  target.session_id names no session. Throws store_error (then nothing is written). */
  std::optional<import_result> import_entries(const import_target& target,
                                              std::vector<import_entry>&& entries,
                                              std::int64_t now_ms);

 private:
  /** Deletes the session's entries a few thousand row ids per transaction (catalog_entries.cpp).
   */
  void delete_entries_in_chunks(const std::string& session_id);

  database& db_;
};

}  // namespace hark::store
