#include "hark/tls/upstream_context.hpp"

#include "openssl_util.hpp"

#include "hark/tls/keylog.hpp"
#include "hark/tls/leaf.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <system_error>

namespace hark::tls {

using detail::throw_openssl;
namespace {

void load_extra_ca_file(SSL_CTX* ctx, const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw std::runtime_error("cannot read the upstream CA file " + file.string() + ": " +
                             (ec ? ec.message() : std::string("not a regular file")));
  }
  if (SSL_CTX_load_verify_locations(ctx, file.c_str(), nullptr) != 1) {
    throw_openssl("cannot load a PEM certificate from the upstream CA file " + file.string());
  }
}

/** The ALPN wire format (length-prefixed names) of the protocols Hark can relay. */
std::string alpn_wire(const std::vector<std::string>& alpn) {
  std::vector<std::string> kept;
  for (const std::string& protocol : alpn) {
    if ((protocol == "h2" || protocol == "http/1.1") &&
        std::find(kept.begin(), kept.end(), protocol) == kept.end()) {
      kept.push_back(protocol);
    }
  }
  std::string wire;
  for (const std::string& protocol : kept) {
    wire += static_cast<char>(protocol.size());
    wire += protocol;
  }
  return wire;
}

std::string strip_host(const std::string& host) {
  std::string out = host;
  if (out.size() >= 2 && out.front() == '[' && out.back() == ']') {
    out = out.substr(1, out.size() - 2);
  } else if (!out.empty() && out.back() == '.') {
    out.pop_back();  // RFC 6066 §3: no trailing dot in SNI
  }
  return out;
}

}  // namespace

std::shared_ptr<SSL_CTX> make_upstream_context(const upstream_options& options) {
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (raw == nullptr) {
    throw_openssl("cannot create the upstream TLS context");
  }
  std::shared_ptr<SSL_CTX> ctx(raw, SSL_CTX_free);
  if (SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION) != 1) {
    throw_openssl("cannot set the minimum TLS version");
  }
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_default_verify_paths(raw) != 1) {
    throw_openssl("cannot load the system trust store");
  }
  for (const std::filesystem::path& file : options.extra_ca_files) {
    load_extra_ca_file(raw, file);
  }
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(raw), X509_V_FLAG_PARTIAL_CHAIN);
  SSL_CTX_set_verify(raw, options.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (options.keylog != nullptr) {
    attach_keylog(raw, options.keylog);
  }
  return ctx;
}

void prepare_upstream_ssl(SSL* ssl, const std::string& host, const std::vector<std::string>& alpn,
                          bool verify) {
  const std::string name = strip_host(host);
  if (name.empty()) {
    throw std::invalid_argument("an upstream TLS connection needs a host name");
  }
  SSL_set_verify(ssl, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (is_ip_literal(name)) {
    if (verify && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1) {
      throw_openssl("cannot set the upstream IP address " + name);
    }
  } else {
    if (SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
      throw_openssl("cannot set the upstream server name " + name);
    }
    if (verify) {
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host(ssl, name.c_str()) != 1) {
        throw_openssl("cannot set the upstream host name " + name);
      }
    }
  }
  const std::string wire = alpn_wire(alpn);
  // SSL_set_alpn_protos returns 0 on success, unlike most of OpenSSL.
  if (!wire.empty() && SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                                           static_cast<unsigned int>(wire.size())) != 0) {
    throw_openssl("cannot set the upstream ALPN list");
  }
}

std::string verify_failure_reason(const SSL* ssl) {
  return X509_verify_cert_error_string(SSL_get_verify_result(ssl));
}

}  // namespace hark::tls
