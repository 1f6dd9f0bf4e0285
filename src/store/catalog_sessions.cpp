// catalog: the session half (SPEC §6.1, seed 000). Entries are in catalog_entries.cpp.
#include "hark/core/ids.hpp"
#include "hark/store/catalog.hpp"

#include "session_rows.hpp"
#include "statement.hpp"

namespace hark::store {
namespace {

session read_session(const statement& st) {
  session s;
  s.id = st.column_string(0);
  s.name = st.column_string(1);
  s.is_active = st.column_int64(2) != 0;
  s.is_recording = st.column_int64(3) != 0;
  s.created_at = st.column_int64(4);
  s.updated_at = st.column_int64(5);
  s.traffic_count = st.column_int64(6);
  s.total_bytes = st.column_int64(7);
  return s;
}

/** `SELECT <the columns read_session reads> FROM sessions <tail>` */
std::string select_sessions(std::string_view tail) {
  std::string sql =
      "SELECT id, name, is_active, is_recording, created_at, updated_at, traffic_count, "
      "total_bytes FROM sessions ";
  sql += tail;
  return sql;
}

// updatedAt must change on every update (SPEC §6.1), even twice within one millisecond:
// the new value is now, or one past the old value if the clock has not moved on.
constexpr const char* touch = "updated_at = MAX(?1, updated_at + 1)";

/** Deactivates the active session other than `except` (which may be empty). An inactive
 *  session does not record, so it stops recording too. Call inside a transaction. */
void deactivate_others(database& db, const std::string& except, std::int64_t now_ms) {
  auto st =
      statement::cached(db, std::string("UPDATE sessions SET is_active = 0, is_recording = 0, ") +
                                touch + " WHERE is_active = 1 AND id <> ?2");
  st.bind(1, now_ms).bind(2, except).run();
}

/** Makes `id` the single active, recording session. Call inside a transaction. */
void activate(database& db, const std::string& id, std::int64_t now_ms) {
  // Deactivate first: the unique partial index allows one is_active = 1 row at any time.
  deactivate_others(db, id, now_ms);
  auto st =
      statement::cached(db, std::string("UPDATE sessions SET is_active = 1, is_recording = 1, ") +
                                touch + " WHERE id = ?2");
  st.bind(1, now_ms).bind(2, id).run();
}

}  // namespace

session insert_session(database& db, const std::string& name, bool active, std::int64_t now_ms) {
  session s;
  s.id = ids::new_uuid_v4();
  s.name = name;
  s.is_active = active;
  s.is_recording = active;
  s.created_at = now_ms;
  s.updated_at = now_ms;
  auto st =
      statement::cached(db,
                        "INSERT INTO sessions (id, name, is_active, is_recording, created_at, "
                        "updated_at) VALUES (?1, ?2, ?3, ?3, ?4, ?4)");
  st.bind(1, s.id).bind(2, s.name).bind(3, active).bind(4, now_ms).run();
  return s;
}

std::optional<session> load_session(database& db, const std::string& id) {
  auto st = statement::cached(db, select_sessions("WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) {
    return std::nullopt;
  }
  return read_session(st);
}

catalog::catalog(database& db) : db_(db) {}

std::vector<session> catalog::list_sessions() {
  auto st = statement::cached(db_, select_sessions("ORDER BY created_at DESC, rowid DESC"));
  std::vector<session> out;
  while (st.step()) {
    out.push_back(read_session(st));
  }
  return out;
}

std::optional<session> catalog::get_session(const std::string& id) {
  return load_session(db_, id);
}

std::optional<session> catalog::active_session() {
  auto st = statement::cached(db_, select_sessions("WHERE is_active = 1"));
  if (!st.step()) {
    return std::nullopt;
  }
  return read_session(st);
}

session catalog::create_session(const std::string& name, std::int64_t now_ms) {
  return insert_session(db_, name, false, now_ms);
}

session catalog::create_active_session(const std::string& name, std::int64_t now_ms) {
  transaction tx(db_);
  deactivate_others(db_, std::string(), now_ms);
  auto s = insert_session(db_, name, true, now_ms);
  tx.commit();
  return s;
}

std::optional<session> catalog::update_session(const std::string& id, const session_patch& patch,
                                               std::int64_t now_ms) {
  // Order of application: isActive first, then the explicit fields, so that a field the client
  // sent always wins.
  // - isActive: true  → as POST /activate (single active session, recording on);
  // - isActive: false → the session is deactivated and stops recording: only the active session
  //   records (recording_state), so an inactive session reporting isRecording: true would lie.
  //   An explicit isRecording in the same PATCH is still applied afterwards.
  transaction tx(db_);
  if (!load_session(db_, id)) {
    return std::nullopt;
  }
  if (patch.is_active == true) {
    activate(db_, id, now_ms);
  } else if (patch.is_active == false) {
    auto st =
        statement::cached(db_, "UPDATE sessions SET is_active = 0, is_recording = 0 WHERE id = ?1");
    st.bind(1, id).run();
  }
  if (patch.name) {
    auto st = statement::cached(db_, "UPDATE sessions SET name = ?2 WHERE id = ?1");
    st.bind(1, id).bind(2, *patch.name).run();
  }
  if (patch.is_recording) {
    auto st = statement::cached(db_, "UPDATE sessions SET is_recording = ?2 WHERE id = ?1");
    st.bind(1, id).bind(2, *patch.is_recording).run();
  }
  if (patch.is_active != true) {  // activate() has already moved updatedAt
    auto st =
        statement::cached(db_, std::string("UPDATE sessions SET ") + touch + " WHERE id = ?2");
    st.bind(1, now_ms).bind(2, id).run();
  }
  auto updated = load_session(db_, id);
  tx.commit();
  return updated;
}

std::optional<session> catalog::activate_session(const std::string& id, std::int64_t now_ms) {
  transaction tx(db_);
  if (!load_session(db_, id)) {
    return std::nullopt;
  }
  activate(db_, id, now_ms);
  auto updated = load_session(db_, id);
  tx.commit();
  return updated;
}

bool catalog::delete_session(const std::string& id) {
  delete_entries_in_chunks(id);
  // Entries recorded meanwhile go by ON DELETE CASCADE, and with them bodies and WebSocket
  // messages.
  auto st = statement::cached(db_, "DELETE FROM sessions WHERE id = ?1");
  st.bind(1, id).run();
  return sqlite3_changes(db_.handle()) > 0;
}

}  // namespace hark::store
