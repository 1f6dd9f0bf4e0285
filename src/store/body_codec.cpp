#include "body_codec.hpp"

#include "hark/store/database.hpp"

#include <zstd.h>

namespace hark::store {
namespace {

// Level 1: the writer compresses on the capture path's heels (SPEC 8 asks >= 50 k entries/s);
// higher levels cost several times the CPU for a few percent of disk.
constexpr int zstd_level = 1;

}  // namespace

encoded_body encode_body(std::string&& bytes, std::size_t threshold) {
  if (bytes.size() <= threshold) {
    return {body_codec::none, std::move(bytes)};
  }
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const std::size_t n =
      ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), zstd_level);
  if (ZSTD_isError(n) != 0U || n >= bytes.size()) {
    return {body_codec::none, std::move(bytes)};  // incompressible (already gzip, images, ...)
  }
  out.resize(n);
  return {body_codec::zstd, std::move(out)};
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
