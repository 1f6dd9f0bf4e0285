#pragma once
// Private to src/store: how the HTTP/2 frame log is kept at rest (migration 4). One row per
// batch of a connection's frames (h2::frame_tap hands over up to 256 frames at a time), its
// records zstd-compressed above the body threshold, with the stream ids it holds beside them,
// so that a connection's stream list and one stream's frames are read without decompressing
// the batches of other streams.

#include "hark/capture/h2_frame_log.hpp"
#include "hark/store/database.hpp"

#include "body_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hark::store {

/** A batch ready for its INSERT: rendered off the writer thread. */
struct h2_batch_row {
  capture::h2_frame_batch batch;  ///< `records` moved into `stored`
  std::string streams;            ///< the stream ids it holds, ascending, 4 bytes LE each
  bool has_stream_zero = false;
  std::uint32_t min_stream = 0;  ///< lowest stream id other than 0; 0 when there is none
  std::uint32_t max_stream = 0;  ///< highest stream id; 0 when only stream 0
  std::size_t size = 0;          ///< bytes of the records before compression
  encoded_body stored;
};

/** Indexes and compresses `batch` (consumed). Never throws but std::bad_alloc. */
h2_batch_row make_h2_batch_row(capture::h2_frame_batch&& batch, std::size_t compress_threshold);

/** Inserts the batch; nothing when its session is gone or the batch is already stored. */
void insert_h2_batch(database& db, const h2_batch_row& row);

/** The stream ids of connection `id` (0 included when it had frames on stream 0), ascending;
 *  nullopt when no frame of that connection is stored. Throws store_error. */
std::optional<std::vector<std::uint32_t>> load_h2_stream_ids(database& db, const std::string& id);

/** The frame records of stream `stream_id` of connection `id`, in the order they were logged
 *  (h2/frame_record.hpp); empty when that stream has none, nullopt when the connection has no
 *  frame stored. Throws store_error. */
std::optional<std::string> load_h2_stream_records(database& db, const std::string& id,
                                                  std::uint32_t stream_id);

}  // namespace hark::store
