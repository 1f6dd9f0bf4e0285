// The HTTP/2 frame log at rest: rows of h2_frame_batches (migration 4).
#include "h2_frame_store.hpp"

#include "hark/h2/frame_record.hpp"
#include "hark/store/catalog.hpp"

#include "statement.hpp"

#include <algorithm>

namespace hark::store {
namespace {

std::int64_t unix_us(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string pack_stream_ids(const std::vector<std::uint32_t>& ids) {
  std::string out(ids.size() * 4, '\0');
  for (std::size_t i = 0; i < ids.size(); ++i) {
    h2::detail::put_le(out.data() + 4 * i, ids[i], 4);
  }
  return out;
}

/** Appends the ids of a `streams` column to `out`. */
void unpack_stream_ids(std::string_view packed, std::vector<std::uint32_t>& out) {
  for (std::size_t i = 0; i + 4 <= packed.size(); i += 4) {
    out.push_back(static_cast<std::uint32_t>(h2::detail::get_le(packed.data() + i, 4)));
  }
}

bool holds_stream(std::string_view packed, std::uint32_t stream_id) {
  std::vector<std::uint32_t> ids;
  ids.reserve(packed.size() / 4);
  unpack_stream_ids(packed, ids);
  return std::binary_search(ids.begin(), ids.end(), stream_id);
}

/** Appends the records of `stream_id` in `records` to `out`. */
void append_stream_records(std::string_view records, std::uint32_t stream_id, std::string& out) {
  h2::frame_record_reader reader(records);
  while (const auto r = reader.next()) {
    if (r->stream_id != stream_id) {
      continue;
    }
    h2::append_frame_record_header(out, r->at_us, r->side, r->type, r->flags, r->stream_id,
                                   r->length, static_cast<std::uint32_t>(r->payload.size()));
    out.append(r->payload);
  }
  if (reader.corrupt()) {
    throw store_error("corrupt HTTP/2 frame batch");
  }
}

bool connection_exists(database& db, const std::string& id) {
  auto st = statement::cached(db, "SELECT 1 FROM h2_frame_batches WHERE connection_id = ?1");
  st.bind(1, id);
  return st.step();
}

}  // namespace

h2_batch_row make_h2_batch_row(capture::h2_frame_batch&& batch, std::size_t compress_threshold) {
  h2_batch_row row;
  std::vector<std::uint32_t> ids;
  ids.reserve(batch.frame_count);
  h2::frame_record_reader reader(batch.records);
  while (const auto r = reader.next()) {
    ids.push_back(r->stream_id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  row.has_stream_zero = !ids.empty() && ids.front() == 0;
  const auto first_nonzero = row.has_stream_zero ? 1U : 0U;
  if (ids.size() > first_nonzero) {
    row.min_stream = ids[first_nonzero];
    row.max_stream = ids.back();
  }
  row.streams = pack_stream_ids(ids);
  row.size = batch.records.size();
  row.stored = encode_body(std::move(batch.records), compress_threshold);
  row.batch = std::move(batch);
  return row;
}

void insert_h2_batch(database& db, const h2_batch_row& row) {
  const auto& b = row.batch;
  auto st = statement::cached(
      db,
      "INSERT OR IGNORE INTO h2_frame_batches (connection_id, seq, session_id, leg, client_ip, "
      "client_port, started_us, frames, has_stream0, min_stream, max_stream, streams, codec, "
      "size, data) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15 "
      "WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?3)");
  st.bind(1, b.connection_id)
      .bind(2, std::int64_t{b.sequence})
      .bind(3, b.session_id)
      .bind(4, static_cast<int>(b.leg));
  if (b.client_addr) {
    st.bind(5, b.client_addr->ip);
    st.bind(6, b.client_addr->port ? std::optional<int>(*b.client_addr->port) : std::nullopt);
  } else {
    st.bind_null(5).bind_null(6);
  }
  st.bind(7, unix_us(b.first_at))
      .bind(8, std::int64_t{b.frame_count})
      .bind(9, row.has_stream_zero)
      .bind(10, std::int64_t{row.min_stream})
      .bind(11, std::int64_t{row.max_stream})
      .bind_blob_static(12, row.streams)
      .bind(13, static_cast<int>(row.stored.codec))
      .bind(14, static_cast<std::int64_t>(row.size))
      .bind_blob_static(15, row.stored.data)
      .run();
}

std::optional<std::vector<std::uint32_t>> load_h2_stream_ids(database& db, const std::string& id) {
  auto st = statement::cached(
      db, "SELECT streams FROM h2_frame_batches WHERE connection_id = ?1 ORDER BY seq");
  st.bind(1, id);
  std::vector<std::uint32_t> ids;
  bool found = false;
  while (st.step()) {
    found = true;
    unpack_stream_ids(st.column_string(0), ids);
  }
  if (!found) {
    return std::nullopt;
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::optional<std::string> load_h2_stream_records(database& db, const std::string& id,
                                                  std::uint32_t stream_id) {
  // Stream ids grow over a connection's life, so the batches whose range holds the stream are
  // few: only theirs are read and decompressed (a long-lived stream widens the ranges of the
  // batches it spans; their `streams` lists still spare the decompression).
  auto st = statement::cached(
      db,
      "SELECT streams, codec, size, data FROM h2_frame_batches WHERE connection_id = ?1 AND "
      "(CASE WHEN ?2 = 0 THEN has_stream0 ELSE ?2 BETWEEN min_stream AND max_stream END) "
      "ORDER BY seq");
  st.bind(1, id).bind(2, std::int64_t{stream_id});
  std::string out;
  bool found = false;
  while (st.step()) {
    found = true;
    if (!holds_stream(st.column_string(0), stream_id)) {
      continue;
    }
    const auto records =
        decode_body(static_cast<body_codec>(st.column_int64(1)), st.column_string(3),
                    static_cast<std::size_t>(st.column_int64(2)));
    append_stream_records(records, stream_id, out);
  }
  if (!found && !connection_exists(db, id)) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<std::uint32_t>> catalog::h2_stream_ids(const std::string& connection_id) {
  return load_h2_stream_ids(db_, connection_id);
}

std::optional<std::string> catalog::h2_stream_records(const std::string& connection_id,
                                                      std::uint32_t stream_id) {
  return load_h2_stream_records(db_, connection_id, stream_id);
}

}  // namespace hark::store
