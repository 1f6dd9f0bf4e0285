#pragma once
// Helpers shared by the TLS sources (private to src/tls).

#include <openssl/x509.h>

#include <string>

namespace hark::tls::detail {

/** Throws std::runtime_error with `what` followed by the most specific queued OpenSSL reason,
 *  and clears OpenSSL's error queue. */
[[noreturn]] void throw_openssl(std::string what);

/** Sets a random positive serial of 128 bits (RFC 5280 §4.1.2.2: at most 20 octets).
 *  `whose` names the certificate in error messages ("the CA", "a leaf"). */
void set_random_serial(X509* cert, const std::string& whose);

}  // namespace hark::tls::detail
