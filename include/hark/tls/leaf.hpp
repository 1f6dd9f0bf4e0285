#pragma once
// Forged leaf certificates: what Hark presents to a client in place of the origin's certificate.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace hark::tls {

class certificate_authority;

struct x509_deleter {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct pkey_deleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

/** The canonical form of a list of certificate names, in the order given, without duplicates.
 *  An IP literal (`127.0.0.1`, `::1`, `[::1]`) becomes its canonical text (`0:0::1` → `::1`);
 *  anything else is a DNS name (wildcards such as `*.example.com` included): lowercased, one
 *  trailing dot removed. Throws std::invalid_argument for an empty list, an empty name, or a
 *  DNS name longer than 253 characters or with characters other than letters, digits, `-`, `_`,
 *  `.` and `*`. */
std::vector<std::string> normalize_names(const std::vector<std::string>& names);

/** True when normalize_names accepts `name`. Callers merging names from an untrusted source
 *  (the SANs of an origin's certificate) drop the others instead of failing the whole set. */
bool is_certificate_name(const std::string& name) noexcept;

/** True when `name` (brackets allowed around IPv6) is an IPv4 or IPv6 literal. */
bool is_ip_literal(const std::string& name);

/** Issues leaf certificates signed by the local CA, all carrying the same key pair.
 *
 *  One ECDSA P-256 key pair is generated at construction and reused for every leaf of the
 *  process (as mitmproxy does): key generation is the expensive part of forging a certificate,
 *  and the key never leaves memory. The issuer holds its own references to the CA certificate
 *  and key, so it stays valid after the certificate_authority object is gone.
 *
 *  Thread-safe: issue() may be called from any number of threads at once. */
class leaf_issuer {
 public:
  /** How far notBefore is backdated, so that clients with a slightly wrong clock accept a leaf. */
  static constexpr std::chrono::seconds backdate{std::chrono::hours(24)};
  /** The longest total lifetime (notBefore to notAfter) of a leaf. */
  static constexpr std::chrono::seconds max_lifetime{std::chrono::hours(24 * 45)};

  /** `lifetime` is the total validity of each leaf, counted from the backdated notBefore; it is
   *  clamped to [backdate + 1 minute, max_lifetime]. Tests pass a short one. Throws
   * std::runtime_error when the key pair cannot be generated. */
  explicit leaf_issuer(const certificate_authority& ca,
                       std::chrono::seconds lifetime = max_lifetime);

  /** A new leaf for `names` (see normalize_names): SAN DNS:/IP: entries in that order, subject
   *  `O=Hark, CN=<first name, at most 64 characters>`, issuer = the CA's subject, AKI = the CA's
   *  SKI, its own SKI, CA:FALSE, keyUsage digitalSignature (critical), EKU serverAuth, a random
   *  128-bit serial, notBefore = now − backdate, notAfter = notBefore + lifetime but never later
   *  than the CA's notAfter; signed by the CA key with SHA-256.
   *  Throws std::invalid_argument for bad names, std::runtime_error when the CA has expired or
   *  OpenSSL fails. */
  x509_ptr issue(const std::vector<std::string>& names) const;

  /** The private key of every leaf (owned by the issuer; valid as long as it is). */
  EVP_PKEY* key() const noexcept { return key_.get(); }
  /** The CA certificate that signs the leaves (owned by the issuer). */
  X509* ca_cert() const noexcept { return ca_cert_.get(); }
  std::chrono::seconds lifetime() const noexcept { return lifetime_; }

 private:
  x509_ptr ca_cert_;
  pkey_ptr ca_key_;
  pkey_ptr key_;
  std::chrono::seconds lifetime_;
};

}  // namespace hark::tls
