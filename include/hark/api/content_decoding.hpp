#pragma once
// Content-Encoding decoders for captured bodies (gzip, deflate, br, zstd and stacks of them),
// used by GET …/request/body and …/response/body. Pure functions: bytes in, bytes out.

#include <cstddef>
#include <string>
#include <string_view>

namespace hark::api {

struct decode_options {
  /** Largest decoded size accepted; a body that inflates beyond it is a decompression bomb
   *  and is reported as a failure. */
  std::size_t max_output = std::size_t{256} << 20;
  /** The input was cut at the capture cap: running out of input mid-stream is not a failure,
   *  what was decoded so far is the result. */
  bool allow_truncated = false;
};

struct decode_result {
  std::string bytes;  ///< the decoded body when ok, empty otherwise
  std::string error;  ///< why decoding failed (`gzip: invalid stored block lengths`); empty: ok

  bool ok() const noexcept { return error.empty(); }
};

/** Decodes `body` according to the Content-Encoding header value `encodings`: a
 *  comma-separated list in the order the codings were applied (`gzip, br` is decoded br first,
 *  then gzip). Understands `gzip`/`x-gzip`, `deflate` (zlib-wrapped or raw, as servers send
 *  both), `br`, `zstd` and `identity`, case-insensitively. An unknown coding is a failure. */
decode_result decode_content(std::string_view body, std::string_view encodings,
                             const decode_options& options = {});

}  // namespace hark::api
