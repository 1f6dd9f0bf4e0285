#include "hark/tls/context_cache.hpp"

#include "openssl_util.hpp"

#include "hark/tls/keylog.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <utility>

namespace hark::tls {

using detail::throw_openssl;
namespace {

using clock_type = std::chrono::system_clock;
constexpr long server_session_cache_size = 128;

/** CRYPTO_EX_free for the ALPN slot: OpenSSL calls it from SSL_free with the stored string. */
void free_alpn_choice(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/,
                      long /*argl*/, void* /*argp*/) noexcept {
  delete static_cast<std::string*>(ptr);
}

/** The SSL ex_data slot holding the chosen protocol (std::string*, null = no ALPN). Allocated
 *  once per process, on first use. */
int alpn_index() noexcept {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_alpn_choice);
  return index;
}

/** SSL_CTX_set_alpn_select_cb target: selects exactly the protocol stored by set_alpn_choice.
 *  `in` is the client's protocol list in wire format (length-prefixed), already validated by
 *  OpenSSL; `*out` may point into it. */
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* /*arg*/) noexcept {
  const int index = alpn_index();
  const auto* choice =
      index < 0 ? nullptr : static_cast<const std::string*>(SSL_get_ex_data(ssl, index));
  if (choice == nullptr) {
    // RFC 7301 §3.2: the server may ignore the extension; the connection goes on without ALPN.
    return SSL_TLSEXT_ERR_NOACK;
  }
  unsigned int i = 0;
  while (i < inlen) {
    const unsigned int length = in[i];
    if (length == 0 || i + 1 + length > inlen) {
      break;
    }
    if (length == choice->size() && std::memcmp(in + i + 1, choice->data(), length) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(length);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + length;
  }
  // The origin chose a protocol this client did not offer: no_application_protocol alert.
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

clock_type::time_point not_after_of(X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
    throw_openssl("cannot read a leaf validity");
  }
  return clock_type::from_time_t(timegm(&tm));
}

void configure_server_context(SSL_CTX* ctx, X509* leaf, const leaf_issuer& issuer) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    throw_openssl("cannot set the minimum TLS version");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, issuer.key()) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    throw_openssl("cannot install the leaf certificate and key");
  }
  // Clients that trust the CA do not need it sent; sending it lets a client that was given only
  // the leaf to inspect see the whole chain, and costs one certificate.
  if (SSL_CTX_add1_chain_cert(ctx, issuer.ca_cert()) != 1) {
    throw_openssl("cannot add the CA certificate to the chain");
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, server_session_cache_size);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
}

}  // namespace

struct context_cache::lookup {
  std::shared_ptr<SSL_CTX> ready;                                 ///< use right away
  std::optional<context_future> wait;                             ///< another caller mints
  std::uint64_t mint_id = 0;                                      ///< this caller mints
  std::optional<std::promise<std::shared_ptr<SSL_CTX>>> promise;  ///< when this caller mints
};

context_cache::context_cache(const leaf_issuer& issuer, context_cache_options options)
    : issuer_(issuer), options_(std::move(options)) {
  if (options_.capacity == 0) {
    throw std::invalid_argument("the TLS context cache needs a capacity of at least 1");
  }
}

std::string context_cache::key_of(const std::vector<std::string>& names) {
  std::vector<std::string> sorted = normalize_names(names);
  std::sort(sorted.begin(), sorted.end());
  std::string key;
  for (const std::string& name : sorted) {
    if (!key.empty()) {
      key += ',';
    }
    key += name;
  }
  return key;
}

std::size_t context_cache::size() const {
  const std::lock_guard lock(mutex_);
  return lru_.size();
}

std::shared_ptr<SSL_CTX> context_cache::get(const std::vector<std::string>& names) {
  const std::string key = key_of(names);
  lookup found = find_or_start(key);
  if (found.ready) {
    return found.ready;
  }
  if (found.wait) {
    return found.wait->get();
  }
  return mint_and_publish(names, key, found.mint_id, *found.promise);
}

context_cache::lookup context_cache::find_or_start(const std::string& key) {
  const std::lock_guard lock(mutex_);
  lookup result;
  entry* slot = nullptr;
  if (const auto it = index_.find(key); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    slot = &*it->second;
    if (!slot->ready) {
      result.wait = slot->pending;  // the first mint is running
      return result;
    }
    const auto time = now();
    if (slot->not_after - time >= options_.refresh_margin) {
      result.ready = slot->ready;
      return result;
    }
    if (slot->refreshing) {
      // Someone else re-mints; the old leaf serves meanwhile unless it has really expired.
      if (time < slot->not_after) {
        result.ready = slot->ready;
      } else {
        result.wait = slot->pending;
      }
      return result;
    }
    slot->refreshing = true;
  } else {
    lru_.push_front(entry{key});
    index_.emplace(key, lru_.begin());
    slot = &lru_.front();
    while (lru_.size() > options_.capacity) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
  }
  result.promise.emplace();
  result.mint_id = ++next_mint_id_;
  slot->mint_id = result.mint_id;
  slot->pending = result.promise->get_future().share();
  return result;
}

std::shared_ptr<SSL_CTX> context_cache::mint_and_publish(
    const std::vector<std::string>& names, const std::string& key, std::uint64_t mint_id,
    std::promise<std::shared_ptr<SSL_CTX>>& promise) {
  try {
    clock_type::time_point not_after;
    std::shared_ptr<SSL_CTX> ctx = mint(names, not_after);
    mints_.fetch_add(1, std::memory_order_relaxed);
    publish(key, mint_id, ctx, not_after);
    promise.set_value(ctx);
    return ctx;
  } catch (...) {
    forget_failed(key, mint_id);
    promise.set_exception(std::current_exception());
    throw;
  }
}

void context_cache::publish(const std::string& key, std::uint64_t mint_id,
                            const std::shared_ptr<SSL_CTX>& ctx, clock_type::time_point not_after) {
  const std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  // Evicted meanwhile, or superseded: the waiters still get `ctx` through the promise.
  if (it == index_.end() || it->second->mint_id != mint_id) {
    return;
  }
  entry& slot = *it->second;
  slot.ready = ctx;
  slot.not_after = not_after;
  slot.refreshing = false;
}

void context_cache::forget_failed(const std::string& key, std::uint64_t mint_id) {
  const std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end() || it->second->mint_id != mint_id) {
    return;
  }
  if (it->second->ready) {
    it->second->refreshing = false;  // keep serving the old context; the next get() retries
    return;
  }
  lru_.erase(it->second);
  index_.erase(it);
}

std::shared_ptr<SSL_CTX> context_cache::mint(const std::vector<std::string>& names,
                                             clock_type::time_point& not_after) const {
  const x509_ptr leaf = issuer_.issue(names);
  not_after = not_after_of(leaf.get());
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) {
    throw_openssl("cannot create a server TLS context");
  }
  std::shared_ptr<SSL_CTX> ctx(raw, SSL_CTX_free);
  configure_server_context(ctx.get(), leaf.get(), issuer_);
  if (options_.keylog != nullptr) {
    attach_keylog(ctx.get(), options_.keylog);
  }
  return ctx;
}

clock_type::time_point context_cache::now() const {
  return options_.clock ? options_.clock() : clock_type::now();
}

void set_alpn_choice(SSL* ssl, std::optional<std::string> protocol) {
  // RFC 7301 §3.1: a protocol name is 1 to 255 bytes.
  if (protocol && (protocol->empty() || protocol->size() > 255)) {
    throw std::invalid_argument("an ALPN protocol name has 1 to 255 bytes");
  }
  const int index = alpn_index();
  if (index < 0) {
    throw_openssl("cannot allocate the ALPN slot");
  }
  std::unique_ptr<std::string> next;
  if (protocol) {
    next = std::make_unique<std::string>(std::move(*protocol));
  }
  auto* previous = static_cast<std::string*>(SSL_get_ex_data(ssl, index));
  if (SSL_set_ex_data(ssl, index, next.get()) != 1) {
    throw_openssl("cannot store the ALPN choice");
  }
  delete previous;
  static_cast<void>(next.release());  // now owned by `ssl`, freed by free_alpn_choice
}

}  // namespace hark::tls
