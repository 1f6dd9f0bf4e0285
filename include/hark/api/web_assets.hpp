#pragma once
// The web UI's files (web/ in the source tree), compiled into the binary by
// cmake/embed_web_assets.cmake so that the page works offline and needs no install.

#include <array>
#include <span>
#include <string_view>

namespace hark::api {

/** One file of web/. All views point into static storage: valid for the program's life. */
struct web_asset {
  std::string_view path;  ///< relative to web/, `/`-separated: `index.html`, `vendor/htm.module.js`
  std::string_view bytes;  ///< the file's content
  std::string_view etag;   ///< a strong ETag (quoted) from the content's SHA-256
};

/** Every embedded file, sorted by path (generated web_assets.cpp). */
std::span<const web_asset> web_assets();

/** The Content-Type a web file is served with, from its extension (`text/javascript;
 *  charset=utf-8` for `.js`, …); application/octet-stream for an unknown one. */
std::string_view web_content_type(std::string_view path);

}  // namespace hark::api
