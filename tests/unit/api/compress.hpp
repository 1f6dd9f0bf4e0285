#pragma once
// Encoders for the decoding tests: what an origin would send with each Content-Encoding.

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace hark::api::test {

/** zlib deflate with `window_bits`: 15 + 16 gzip, 15 zlib-wrapped, -15 raw. */
inline std::string zlib_compress(std::string_view in, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    throw std::runtime_error("deflate");
  }
  out.resize(zs.total_out);
  return out;
}

inline std::string gzip(std::string_view in) {
  return zlib_compress(in, 15 + 16);
}
inline std::string zlib_wrapped(std::string_view in) {
  return zlib_compress(in, 15);
}
inline std::string raw_deflate(std::string_view in) {
  return zlib_compress(in, -15);
}

inline std::string brotli(std::string_view in) {
  std::size_t size = BrotliEncoderMaxCompressedSize(in.size());
  std::string out(size, '\0');
  if (BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC,
                            in.size(), reinterpret_cast<const std::uint8_t*>(in.data()), &size,
                            reinterpret_cast<std::uint8_t*>(out.data())) != BROTLI_TRUE) {
    throw std::runtime_error("BrotliEncoderCompress");
  }
  out.resize(size);
  return out;
}

inline std::string zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const std::size_t size = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  if (ZSTD_isError(size) != 0) {
    throw std::runtime_error("ZSTD_compress");
  }
  out.resize(size);
  return out;
}

}  // namespace hark::api::test
