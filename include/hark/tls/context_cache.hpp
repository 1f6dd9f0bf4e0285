#pragma once
// Ready-to-use server-side TLS contexts for intercepted connections, one per name set.

#include "hark/tls/leaf.hpp"

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace hark::tls {

class keylog_file;

struct context_cache_options {
  std::size_t capacity = 1024;  ///< name sets kept; the least recently used is dropped beyond
  /** A context whose leaf has less than this left is re-minted on its next get(). */
  std::chrono::seconds refresh_margin{std::chrono::hours(24 * 7)};
  /** The wall clock compared with leaf notAfter; empty means std::chrono::system_clock::now.
   *  Tests inject one to move time forward. */
  std::function<std::chrono::system_clock::time_point()> clock;
  keylog_file* keylog = nullptr;  ///< not owned; attached to every context when set
};

/** A thread-safe bounded LRU of server SSL_CTX, keyed by the sorted, normalized name set.
 *
 *  Each context holds a leaf from the issuer (chain: leaf + CA certificate), the issuer's key,
 *  TLS 1.2 minimum (1.3 included), no renegotiation, and the ALPN callback that answers with
 *  the protocol set by set_alpn_choice(). Session resumption: OpenSSL's internal server cache
 *  (128 sessions) and stateless tickets, both per context, so a resumed session never crosses
 *  name sets, and a re-minted context starts with fresh ticket keys.
 *
 *  Single flight: concurrent get() for the same name set wait for one mint. A context near
 *  expiry is re-minted by the first caller that notices; others keep getting the old one (still
 *  valid for days) meanwhile. A failed mint is rethrown to everyone waiting for it and
 *  forgotten, so the next get() tries again.
 *
 *  Contexts are shared: a connection keeps its shared_ptr for its lifetime, eviction only
 *  drops the cache's reference. The issuer (and keylog file) must outlive the cache and every
 *  context it returned. */
class context_cache {
 public:
  /** Throws std::invalid_argument for a capacity of 0. */
  explicit context_cache(const leaf_issuer& issuer, context_cache_options options = {});
  context_cache(const context_cache&) = delete;
  context_cache& operator=(const context_cache&) = delete;

  /** The context for `names` (the first is the leaf's CN when this call mints). Blocks while
   *  another thread mints the same name set; mints (signs one certificate, no key generation)
   *  when absent or near expiry. Throws std::invalid_argument for bad names (see
   *  normalize_names), std::runtime_error when minting fails. Never returns nullptr. */
  std::shared_ptr<SSL_CTX> get(const std::vector<std::string>& names);

  /** Contexts minted successfully so far (first mints and refreshes). */
  std::uint64_t mints() const noexcept { return mints_.load(std::memory_order_relaxed); }
  /** Name sets currently cached (including ones being minted). */
  std::size_t size() const;

  /** The cache key of `names`: normalized, sorted, joined with ','. */
  static std::string key_of(const std::vector<std::string>& names);

 private:
  using context_future = std::shared_future<std::shared_ptr<SSL_CTX>>;
  struct entry {
    std::string key;
    std::uint64_t mint_id = 0;       ///< identifies the latest mint started for this key
    context_future pending;          ///< the latest mint (possibly still running)
    std::shared_ptr<SSL_CTX> ready;  ///< the latest finished context, or null
    std::chrono::system_clock::time_point not_after;  ///< of `ready`'s leaf
    bool refreshing = false;
  };
  struct lookup;

  lookup find_or_start(const std::string& key);
  std::shared_ptr<SSL_CTX> mint_and_publish(const std::vector<std::string>& names,
                                            const std::string& key, std::uint64_t mint_id,
                                            std::promise<std::shared_ptr<SSL_CTX>>& promise);
  void publish(const std::string& key, std::uint64_t mint_id, const std::shared_ptr<SSL_CTX>& ctx,
               std::chrono::system_clock::time_point not_after);
  void forget_failed(const std::string& key, std::uint64_t mint_id);
  std::shared_ptr<SSL_CTX> mint(const std::vector<std::string>& names,
                                std::chrono::system_clock::time_point& not_after) const;
  std::chrono::system_clock::time_point now() const;

  const leaf_issuer& issuer_;
  context_cache_options options_;
  mutable std::mutex mutex_;
  std::list<entry> lru_;  ///< most recently used first
  std::unordered_map<std::string, std::list<entry>::iterator> index_;
  std::uint64_t next_mint_id_ = 0;
  std::atomic<std::uint64_t> mints_{0};
};

/** Sets the ALPN protocol the server side of `ssl` selects (made from a context_cache context):
 *  exactly `protocol`, or no ALPN at all when nullopt. Call before the handshake reads the
 *  ClientHello; may be called again to replace the choice. The string is owned by `ssl` (freed
 *  with it). During the handshake, a client that did not offer `protocol` gets a fatal
 *  no_application_protocol alert (RFC 7301 §3.2). Throws std::runtime_error when the ex_data
 *  slot cannot be set. */
void set_alpn_choice(SSL* ssl, std::optional<std::string> protocol);

}  // namespace hark::tls
