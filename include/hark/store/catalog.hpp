#pragma once
// catalog: the queries the REST API runs (sessions and entries), on one connection.

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

 private:
  /** Deletes the session's entries a few thousand row ids per transaction (catalog_entries.cpp).
   */
  void delete_entries_in_chunks(const std::string& session_id);

  database& db_;
};

}  // namespace hark::store
