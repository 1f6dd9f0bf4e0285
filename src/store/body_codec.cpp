#include "body_codec.hpp"

#include "hark/store/database.hpp"

#include <zstd.h>

#include <memory>

namespace hark::store {
namespace {

// Level 1: the writer compresses on the capture path's heels (SPEC 8 asks >= 50 k entries/s);
// higher levels cost several times the CPU for a few percent of disk.
constexpr int zstd_level = 1;

// Bodies over four times this size are compressed only if their first bytes compress.
constexpr std::size_t sample_size = 64 * 1024;

}  // namespace

std::optional<std::string> compress_body(std::string_view bytes, std::size_t threshold) {
  if (bytes.size() <= threshold) {
    return std::nullopt;
  }
  // Incompressible bodies (media, gzip, random) are common and can be large: try a sample
  // first, so that they cost neither the CPU nor an output buffer as large as themselves.
  if (bytes.size() > 4 * sample_size) {
    const std::size_t bound = ZSTD_compressBound(sample_size);
    const auto sample = std::make_unique_for_overwrite<char[]>(bound);
    const std::size_t n = ZSTD_compress(sample.get(), bound, bytes.data(), sample_size, zstd_level);
    if (ZSTD_isError(n) != 0U || n > sample_size * 9 / 10) {
      return std::nullopt;
    }
  }
  // Not zero-filled: only the pages the compressor writes become resident.
  const std::size_t bound = ZSTD_compressBound(bytes.size());
  const auto buffer = std::make_unique_for_overwrite<char[]>(bound);
  const std::size_t n = ZSTD_compress(buffer.get(), bound, bytes.data(), bytes.size(), zstd_level);
  if (ZSTD_isError(n) != 0U || n >= bytes.size()) {
    return std::nullopt;  // incompressible (already gzip, images, ...)
  }
  return std::string(buffer.get(), n);
}

encoded_body encode_body(std::string&& bytes, std::size_t threshold) {
  if (auto compressed = compress_body(bytes, threshold)) {
    return {body_codec::zstd, std::move(*compressed)};
  }
  return {body_codec::none, std::move(bytes)};
}

std::string decode_body(body_codec codec, std::string&& data, std::size_t size) {
  if (codec == body_codec::none) {
    return std::move(data);
  }
  if (codec != body_codec::zstd) {
    throw store_error("unknown body codec " + std::to_string(static_cast<int>(codec)));
  }
  std::string out(size, '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(n) != 0U) {
    throw store_error(std::string("corrupt stored body: ") + ZSTD_getErrorName(n));
  }
  if (n != size) {
    throw store_error("corrupt stored body: length mismatch");
  }
  return out;
}

}  // namespace hark::store
