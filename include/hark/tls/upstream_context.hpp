#pragma once
// Client-side TLS for Hark's connections to origins: trust, hostname checks, ALPN offer.

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace hark::tls {

class keylog_file;

struct upstream_options {
  bool verify = true;  ///< false: --ssl-insecure, any upstream certificate is accepted
  std::vector<std::filesystem::path>
      extra_ca_files;             ///< --upstream-ca, PEM, trusted besides the system store
  keylog_file* keylog = nullptr;  ///< not owned; must outlive the context
};

/** A client SSL_CTX shared by every upstream connection: TLS 1.2 minimum (1.3 included), the
 *  system trust store plus each extra CA file, SSL_VERIFY_PEER when `verify`, and
 *  X509_V_FLAG_PARTIAL_CHAIN so that an extra CA file may hold an intermediate or the origin's
 *  own certificate (pinning a self-signed origin). Hostnames are set per connection by
 *  prepare_upstream_ssl(). Throws std::runtime_error naming the file when an extra CA file is
 *  missing or holds no certificate, and on any OpenSSL failure. */
std::shared_ptr<SSL_CTX> make_upstream_context(const upstream_options& options);

/** Prepares a new client `ssl` (from make_upstream_context) before its handshake:
 *  - `host` (a DNS name, an IPv4 or an IPv6 literal, brackets allowed) is sent as SNI unless it
 *    is an IP literal (RFC 6066 §3), and checked against the certificate when `verify`
 *    (SSL_set1_host, no partial wildcards; X509_VERIFY_PARAM_set1_ip_asc for literals);
 *  - `alpn` is offered restricted to `h2` and `http/1.1` in the given order, duplicates dropped;
 *    nothing is offered when none remains;
 *  - `verify` false turns verification off for this connection only.
 *  Throws std::invalid_argument for an empty host, std::runtime_error on OpenSSL failure. */
void prepare_upstream_ssl(SSL* ssl, const std::string& host, const std::vector<std::string>& alpn,
                          bool verify);

/** Why the upstream certificate was rejected: X509_verify_cert_error_string of
 *  SSL_get_verify_result (e.g. "self-signed certificate", "hostname mismatch",
 *  "certificate has expired"), for the 502 `hark: certificate of HOST is not trusted: REASON`.
 *  Meaningful after a failed handshake; "ok" when verification did not fail. */
std::string verify_failure_reason(const SSL* ssl);

}  // namespace hark::tls
