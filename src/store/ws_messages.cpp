#include "ws_messages.hpp"

#include "insert_rows.hpp"
#include "statement.hpp"

#include "hark/core/json_writer.hpp"

#include <map>
#include <optional>
#include <utility>

namespace hark::store {
namespace {

/** Bytes a transaction adds to one entry and its session. */
struct entry_sum {
  std::string_view session_id;
  std::int64_t request_bytes = 0;
  std::int64_t response_bytes = 0;
};

/** The row of entry `id`, looked up once per run of messages of the same entry. */
class row_finder {
 public:
  explicit row_finder(database& db)
      : find_(statement::cached(db, "SELECT row FROM entries WHERE id = ?1")) {}

  std::optional<std::int64_t> row_of(const std::string& id) {
    if (id != last_id_) {
      last_id_ = id;
      find_.bind_text_static(1, id);
      last_row_ = find_.step() ? std::optional(find_.column_int64(0)) : std::nullopt;
      find_.reset();
    }
    return last_row_;
  }

 private:
  statement find_;
  std::string last_id_;
  std::optional<std::int64_t> last_row_;
};

void add_bytes(database& db, const std::map<std::int64_t, entry_sum>& sums) {
  for (const auto& [row, sum] : sums) {
    auto st = statement::cached(db,
                                "UPDATE entries SET request_bytes = request_bytes + ?2, "
                                "response_bytes = response_bytes + ?3 WHERE row = ?1");
    st.bind(1, row).bind(2, sum.request_bytes).bind(3, sum.response_bytes).run();
    add_session_totals(db, sum.session_id, 0, sum.request_bytes + sum.response_bytes);
  }
}

}  // namespace

void insert_ws_messages(database& db, const std::vector<capture::ws_message_record>& messages,
                        std::vector<std::size_t>& inserted,
                        const std::function<void()>& before_commit) {
  transaction tx(db);
  row_finder finder(db);
  auto insert = statement::cached(db,
                                  "INSERT OR IGNORE INTO ws_messages (entry_row, seq, side, "
                                  "started_us, ended_us, type, payload, truncated) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  std::map<std::int64_t, entry_sum> sums;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    const auto row = finder.row_of(m.entry_id);
    if (!row) {
      continue;
    }
    insert.bind(1, *row)
        .bind(2, m.seq)
        .bind(3, m.from_client ? 0 : 1)
        .bind(4, m.started_us)
        .bind(5, m.ended_us)
        .bind_text_static(6, m.type)
        .bind_blob_static(7, m.payload)
        .bind(8, m.truncated)
        .run();
    insert.reset();
    if (sqlite3_changes(db.handle()) != 1) {
      continue;
    }
    auto& sum = sums[*row];
    sum.session_id = m.session_id;
    (m.from_client ? sum.request_bytes : sum.response_bytes) +=
        static_cast<std::int64_t>(m.wire_bytes);
    inserted.push_back(i);
  }
  add_bytes(db, sums);
  if (before_commit) {
    before_commit();
  }
  tx.commit();
}

std::string websocket_event_json(const capture::ws_message_record& m) {
  std::string out;
  json::writer w(out);
  w.begin_object();
  w.key("sessionId").value(m.session_id);
  w.key("entryId").value(m.entry_id);
  w.key("message");
  capture::write_ws_message(w, m.from_client, m.started_us, m.ended_us, m.type, m.payload);
  w.end_object();
  return out;
}

}  // namespace hark::store
