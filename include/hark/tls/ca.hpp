#pragma once
// The local certificate authority that signs Hark's forged leaf certificates.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>

namespace hark::tls {

struct ca_options {
  std::filesystem::path dir;       ///< holds ca.pem and ca-key.pem
  std::string key_type = "ecdsa";  ///< `ecdsa` (P-256) or `rsa` (2048) for a new CA
};

class certificate_authority {
 public:
  /** Loads `<dir>/ca.pem` and `<dir>/ca-key.pem`; creates both (directory 0700, key 0600)
   *  when neither exists. Throws std::runtime_error with a user-facing message when only one
   *  exists, when they do not match, when the certificate is not a CA, or on any OpenSSL failure.
   *
   *  A new CA has a random 128-bit serial, a `Hark CA (<hostname> <random id>)` subject (so every
   *  install is distinguishable in a trust store), 10 years of validity starting a day ago, and
   *  is signed with SHA-256. Files are written to a temporary name and renamed into place, under
   *  an flock on the directory so two processes starting at once cannot mix key and cert.
   *
   *  Bring your own CA: put its PEM certificate as `ca.pem` and its unencrypted PEM private key
   *  (PKCS#8 or traditional) as `ca-key.pem` in the directory; they are loaded as they are.
   *  `options.key_type` is still validated, and only used when a CA is created. */
  static certificate_authority load_or_create(const ca_options& options);

  const std::filesystem::path& cert_path() const noexcept { return cert_path_; }
  const std::string& cert_pem() const noexcept { return cert_pem_; }
  std::string cert_der() const;
  /** A few human-readable lines: subject, key type, validity, SHA-256 fingerprint. */
  std::string describe() const;

  X509* cert() const noexcept { return cert_.get(); }
  EVP_PKEY* key() const noexcept { return key_.get(); }

 private:
  struct x509_free {
    void operator()(X509* x) const noexcept { X509_free(x); }
  };
  struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
  };
  std::filesystem::path cert_path_;
  std::string cert_pem_;
  std::unique_ptr<X509, x509_free> cert_;
  std::unique_ptr<EVP_PKEY, pkey_free> key_;
};

}  // namespace hark::tls
