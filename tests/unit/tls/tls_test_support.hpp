#pragma once
// Shared by the leaf, context cache, upstream context and keylog tests: temporary directories,
// test certificates, and an in-memory TLS handshake between two SSL objects over a BIO pair.

#include "hark/tls/leaf.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace hark::tls::test {

namespace fs = std::filesystem;

struct ssl_deleter {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
struct ssl_ctx_deleter {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, ssl_ctx_deleter>;

/** A fresh directory under the system temp dir, removed with everything in it. */
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "hark-tls-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_cert_pem(const fs::path& file, X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new_file(file.c_str(), "w"), BIO_free_all);
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    throw std::runtime_error("cannot write " + file.string());
  }
}

inline void write_key_pem(const fs::path& file, EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new_file(file.c_str(), "w"), BIO_free_all);
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("cannot write " + file.string());
  }
}

inline pkey_ptr make_ec_key() {
  pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    throw std::runtime_error("cannot generate a key");
  }
  return key;
}

/** What make_cert builds. Extensions are OpenSSL config strings; empty ones are left out. */
struct cert_spec {
  std::string common_name = "test";
  std::string subject_alt_names;  ///< e.g. "DNS:localhost,IP:127.0.0.1"
  std::string basic_constraints;  ///< e.g. "critical,CA:TRUE"
  std::string key_usage;
  bool subject_key_id = false;
  std::chrono::seconds not_before_offset{-3600};  ///< relative to now
  std::chrono::seconds not_after_offset{3600 * 24 * 30};
};

/** A certificate for `key`, signed by `issuer_key` with `issuer` as issuer (both null: self-
 *  signed). */
inline x509_ptr make_cert(const cert_spec& spec, EVP_PKEY* key, X509* issuer = nullptr,
                          EVP_PKEY* issuer_key = nullptr) {
  x509_ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), std::time(nullptr));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before_offset.count());
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after_offset.count());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx{};
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  const auto add = [&](int nid, const std::string& value) {
    if (value.empty()) {
      return;
    }
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) {
      throw std::runtime_error("bad extension " + value);
    }
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, spec.basic_constraints);
  add(NID_key_usage, spec.key_usage);
  add(NID_subject_alt_name, spec.subject_alt_names);
  if (spec.subject_key_id) {
    add(NID_subject_key_identifier, "hash");
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) <= 0) {
    throw std::runtime_error("cannot sign a test certificate");
  }
  return cert;
}

/** Writes a bring-your-own CA (ca.pem, ca-key.pem) into `dir`, for certificate_authority to load:
 *  valid from a day ago for `lifetime`, with or without an SKI. */
inline void write_custom_ca(const fs::path& dir, std::chrono::seconds lifetime, bool with_ski) {
  fs::create_directories(dir);
  const pkey_ptr key = make_ec_key();
  cert_spec spec;
  spec.common_name = "Custom Test CA";
  spec.basic_constraints = "critical,CA:TRUE";
  spec.key_usage = "critical,keyCertSign,cRLSign";
  spec.subject_key_id = with_ski;
  spec.not_before_offset = std::chrono::seconds(-24 * 3600);
  spec.not_after_offset = lifetime;
  const x509_ptr cert = make_cert(spec, key.get());
  write_cert_pem(dir / "ca.pem", cert.get());
  write_key_pem(dir / "ca-key.pem", key.get());
}

/** A client context that trusts exactly `anchor` and verifies the peer. */
inline ssl_ctx_ptr make_trusting_client(X509* anchor) {
  ssl_ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), anchor);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

/** The ALPN wire form of `protocols`. */
inline std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& protocol : protocols) {
    wire += static_cast<char>(protocol.size());
    wire += protocol;
  }
  return wire;
}

/** A client and a server SSL joined by an in-memory BIO pair; no sockets, no threads. */
class tls_pair {
 public:
  tls_pair(SSL_CTX* client_ctx, SSL_CTX* server_ctx)
      : client_(SSL_new(client_ctx)), server_(SSL_new(server_ctx)) {
    BIO* client_bio = nullptr;
    BIO* server_bio = nullptr;
    if (!client_ || !server_ || BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) != 1) {
      throw std::runtime_error("cannot create the TLS pair");
    }
    SSL_set_bio(client_.get(), client_bio, client_bio);
    SSL_set_bio(server_.get(), server_bio, server_bio);
    SSL_set_connect_state(client_.get());
    SSL_set_accept_state(server_.get());
  }

  SSL* client() const { return client_.get(); }
  SSL* server() const { return server_.get(); }

  /** Steps both handshakes in turn until each has finished or failed. True when both finished;
   *  the failing side's alert has reached the other side either way. */
  bool handshake() {
    for (int round = 0; round < 64 && (client_state_ == 0 || server_state_ == 0); ++round) {
      step(client_.get(), client_state_);
      step(server_.get(), server_state_);
    }
    return client_state_ == 1 && server_state_ == 1;
  }

  bool client_ok() const { return client_state_ == 1; }
  bool server_ok() const { return server_state_ == 1; }

  /** The protocol the client sees selected, "" for none. */
  std::string client_alpn() const {
    const unsigned char* data = nullptr;
    unsigned int size = 0;
    SSL_get0_alpn_selected(client_.get(), &data, &size);
    return std::string(reinterpret_cast<const char*>(data), size);
  }

 private:
  /** 0 = in progress, 1 = done, -1 = failed. */
  static void step(SSL* ssl, int& state) {
    if (state != 0) {
      return;
    }
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
      state = 1;
      return;
    }
    const int error = SSL_get_error(ssl, rc);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      state = -1;
    }
  }

  ssl_ptr client_;
  ssl_ptr server_;
  int client_state_ = 0;
  int server_state_ = 0;
};

}  // namespace hark::tls::test
