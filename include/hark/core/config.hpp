#pragma once
// The daemon's settings: filled from defaults, then the TOML file, then the command line.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hark {

/** A listen address as given on the command line (`127.0.0.1:8888`, `[::1]:0`). */
struct endpoint_spec {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
};

struct config {
  endpoint_spec proxy_listen{"127.0.0.1", 8888};
  endpoint_spec api_listen{"127.0.0.1", 8889};
  std::filesystem::path data_dir;  ///< resolved: --data-dir, $HARK_DATA_DIR, XDG, ~/.local/share
  std::filesystem::path ca_dir;    ///< default <data_dir>/ca
  std::string ca_key_type = "ecdsa";
  std::vector<std::filesystem::path> upstream_ca;  ///< extra trust anchors for upstream TLS
  bool ssl_insecure = false;
  std::vector<std::string> passthrough;
  std::optional<std::filesystem::path> keylog;
  std::uint64_t max_body_capture = 16ull << 20;  ///< per body; the relay itself has no limit
  /** When the capture log is fsynced: `batch` (at most every 100 ms), `always`, `never`. */
  std::string capture_fsync = "batch";
  /** Bytes of capture log on disk beyond which recording pauses (SPEC §7). */
  std::uint64_t capture_log_max = 2ull << 30;
  std::chrono::seconds header_timeout{30};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds upstream_timeout{60};
  std::string api_token;  ///< empty: no token (loopback only)
  /** GET /api/events: silence after which a `: keep-alive` comment is sent (SPEC §6.6). */
  std::chrono::seconds events_keepalive{15};
  /** GET /api/events: events a client may fall behind before it is dropped. */
  std::size_t events_queue = 8192;
  std::string log_level = "info";
  std::optional<std::filesystem::path> log_file;
  unsigned workers = 0;  ///< 0: one per hardware thread
  /** Client connections open at once before new ones are refused; 0: derived from the
   *  descriptor limit at start (SPEC §2, "Resources"). */
  std::size_t max_connections = 0;

  std::filesystem::path database_path() const { return data_dir / "hark.db"; }
};

/** Parses `HOST:PORT` (`[v6]:PORT` for IPv6). Throws std::invalid_argument with a message. */
endpoint_spec parse_endpoint(const std::string& text);

/** The data directory when none is given: $HARK_DATA_DIR, $XDG_DATA_HOME/hark,
 *  ~/.local/share/hark. */
std::filesystem::path default_data_dir();

}  // namespace hark
