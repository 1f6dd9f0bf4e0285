#pragma once
// Private to src/store: how bodies are kept at rest (zstd above a size threshold).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hark::store {

enum class body_codec : int { none = 0, zstd = 1 };

struct encoded_body {
  body_codec codec = body_codec::none;
  std::string data;
};

/** The zstd frame of `bytes` when they are longer than `threshold` and compressing actually
 *  saves space; nullopt when they are to be stored as they are. */
std::optional<std::string> compress_body(std::string_view bytes, std::size_t threshold);

/** compress_body, returning `bytes` unchanged with codec none when not compressed. */
encoded_body encode_body(std::string&& bytes, std::size_t threshold);

/** Restores the captured bytes; `size` is the stored original length. Throws store_error on a
 *  corrupt frame or a length mismatch. */
std::string decode_body(body_codec codec, std::string&& data, std::size_t size);

}  // namespace hark::store
