// Content-Encoding decoders on zlib, brotli and zstd streaming APIs. Every decoder writes into
// 64 KiB chunks and stops at options.max_output, so a small compressed body cannot make the
// API allocate without bound (decompression bomb).

#include "hark/api/content_decoding.hpp"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <memory>
#include <vector>

namespace hark::api {
namespace {

constexpr std::size_t chunk_size = std::size_t{64} * 1024;
using chunk = std::array<unsigned char, chunk_size>;

decode_result failure(std::string_view coding, std::string_view reason) {
  decode_result result;
  result.error.append(coding).append(": ").append(reason);
  return result;
}

decode_result success(std::string bytes) {
  decode_result result;
  result.bytes = std::move(bytes);
  return result;
}

/** Appends `n` decoded bytes; false when the output would exceed the limit. */
bool append(std::string& out, const unsigned char* data, std::size_t n,
            const decode_options& options) {
  if (n > options.max_output - std::min(out.size(), options.max_output)) {
    return false;
  }
  out.append(reinterpret_cast<const char*>(data), n);
  return true;
}

std::string too_large(const decode_options& options) {
  return "decoded body exceeds the " + std::to_string(options.max_output >> 20) + " MiB limit";
}

/** Input ran out before the end of the compressed stream: the result if the body is known to be
 *  cut at the capture cap, else a failure. */
decode_result end_of_input(std::string_view coding, std::string&& out,
                           const decode_options& options) {
  if (options.allow_truncated) {
    return success(std::move(out));
  }
  return failure(coding, "unexpected end of compressed data");
}

struct inflate_closer {
  void operator()(z_stream* zs) const noexcept { inflateEnd(zs); }
};

bool starts_gzip_member(const z_stream& zs) {
  return zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b;
}

/** zlib inflate with `window_bits` (15 + 32: zlib or gzip header, detected; -15: raw). */
decode_result inflate_body(std::string_view in, int window_bits, std::string_view coding,
                           const decode_options& options) {
  if (in.size() > std::numeric_limits<uInt>::max()) {
    return failure(coding, "compressed body too large");
  }
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) {
    return failure(coding, "cannot initialize zlib");
  }
  const std::unique_ptr<z_stream, inflate_closer> guard(&zs);
  // zlib's API is not const-correct; inflate never writes through next_in.
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  chunk buffer;
  for (;;) {
    zs.next_out = buffer.data();
    zs.avail_out = static_cast<uInt>(buffer.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (!append(out, buffer.data(), buffer.size() - zs.avail_out, options)) {
      return failure(coding, too_large(options));
    }
    if (rc == Z_STREAM_END) {
      // RFC 1952 §2.2: a gzip file is a series of members. Other bytes after the end are
      // ignored, as browsers do.
      if (window_bits > 0 && starts_gzip_member(zs) && inflateReset(&zs) == Z_OK) {
        continue;
      }
      return success(std::move(out));
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      return end_of_input(coding, std::move(out), options);
    }
    if (rc != Z_OK) {
      return failure(coding, zs.msg != nullptr ? zs.msg : "invalid compressed data");
    }
  }
}

/** RFC 9110 §8.4.1.2 says `deflate` is zlib-wrapped, but some servers send raw deflate: a valid
 *  zlib header (CM = 8, header checksum) or a gzip magic picks the wrapped decoder. */
decode_result inflate_deflate(std::string_view in, const decode_options& options) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(in.data());
  const bool zlib_header =
      in.size() >= 2 && (bytes[0] & 0x0f) == 8 && ((bytes[0] << 8) | bytes[1]) % 31 == 0;
  const bool gzip_magic = in.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
  const int window_bits = zlib_header || gzip_magic ? 15 + 32 : -15;
  return inflate_body(in, window_bits, "deflate", options);
}

struct brotli_closer {
  void operator()(BrotliDecoderState* state) const noexcept { BrotliDecoderDestroyInstance(state); }
};

decode_result decode_brotli(std::string_view in, const decode_options& options) {
  const std::unique_ptr<BrotliDecoderState, brotli_closer> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr));
  if (!state) {
    return failure("br", "cannot initialize brotli");
  }
  std::size_t avail_in = in.size();
  const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
  std::string out;
  chunk buffer;
  for (;;) {
    std::size_t avail_out = buffer.size();
    std::uint8_t* next_out = buffer.data();
    const auto rc = BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in, &avail_out,
                                                  &next_out, nullptr);
    if (!append(out, buffer.data(), buffer.size() - avail_out, options)) {
      return failure("br", too_large(options));
    }
    switch (rc) {
      case BROTLI_DECODER_RESULT_SUCCESS:
        return success(std::move(out));
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        continue;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        return end_of_input("br", std::move(out), options);
      case BROTLI_DECODER_RESULT_ERROR:
        break;
    }
    return failure("br", BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state.get())));
  }
}

struct zstd_closer {
  void operator()(ZSTD_DCtx* dctx) const noexcept { ZSTD_freeDCtx(dctx); }
};

decode_result decode_zstd(std::string_view in, const decode_options& options) {
  const std::unique_ptr<ZSTD_DCtx, zstd_closer> dctx(ZSTD_createDCtx());
  if (!dctx) {
    return failure("zstd", "cannot initialize zstd");
  }
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::string out;
  chunk buffer;
  for (;;) {
    ZSTD_outBuffer output{buffer.data(), buffer.size(), 0};
    // Returns 0 when a frame is complete and flushed; a following frame simply continues.
    const std::size_t rc = ZSTD_decompressStream(dctx.get(), &output, &input);
    if (ZSTD_isError(rc) != 0) {
      return failure("zstd", ZSTD_getErrorName(rc));
    }
    if (!append(out, buffer.data(), output.pos, options)) {
      return failure("zstd", too_large(options));
    }
    if (input.pos < input.size || output.pos == output.size) {
      continue;  // more input to read, or more output to flush
    }
    if (rc == 0) {
      return success(std::move(out));
    }
    return end_of_input("zstd", std::move(out), options);
  }
}

/** One coding token, trimmed and lowercased. */
std::string normalize(std::string_view token) {
  const auto is_space = [](char ch) { return ch == ' ' || ch == '\t'; };
  while (!token.empty() && is_space(token.front())) {
    token.remove_prefix(1);
  }
  while (!token.empty() && is_space(token.back())) {
    token.remove_suffix(1);
  }
  std::string out(token);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return out;
}

/** The codings of a Content-Encoding value in the order they were applied. */
std::vector<std::string> split_codings(std::string_view encodings) {
  std::vector<std::string> codings;
  while (!encodings.empty()) {
    const auto comma = encodings.find(',');
    auto coding = normalize(encodings.substr(0, comma));
    if (!coding.empty()) {
      codings.push_back(std::move(coding));
    }
    encodings.remove_prefix(comma == std::string_view::npos ? encodings.size() : comma + 1);
  }
  return codings;
}

decode_result decode_one(std::string_view in, const std::string& coding,
                         const decode_options& options) {
  if (coding == "gzip" || coding == "x-gzip") {
    return inflate_body(in, 15 + 32, coding, options);
  }
  if (coding == "deflate") {
    return inflate_deflate(in, options);
  }
  if (coding == "br") {
    return decode_brotli(in, options);
  }
  if (coding == "zstd") {
    return decode_zstd(in, options);
  }
  if (coding == "identity") {
    return success(std::string(in));
  }
  decode_result result;
  result.error = "unsupported content-encoding: " + coding;
  return result;
}

}  // namespace

decode_result decode_content(std::string_view body, std::string_view encodings,
                             const decode_options& options) {
  const auto codings = split_codings(encodings);
  decode_result result = success(std::string(body));
  // Nothing to decode: an empty body stays empty whatever the header claims (HEAD, 204, 304).
  if (body.empty()) {
    return result;
  }
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    result = decode_one(result.bytes, *it, options);
    if (!result.ok()) {
      return result;
    }
  }
  return result;
}

}  // namespace hark::api
