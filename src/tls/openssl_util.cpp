#include "openssl_util.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace hark::tls::detail {

void throw_openssl(std::string what) {
  if (const unsigned long code = ERR_peek_last_error(); code != 0) {
    std::array<char, 256> reason{};
    ERR_error_string_n(code, reason.data(), reason.size());
    what += " (";
    what += reason.data();
    what += ")";
  }
  ERR_clear_error();
  throw std::runtime_error(what);
}

void set_random_serial(X509* cert, const std::string& whose) {
  struct bn_free {
    void operator()(BIGNUM* b) const noexcept { BN_free(b); }
  };
  std::array<unsigned char, 16> bytes{};
  std::unique_ptr<BIGNUM, bn_free> serial;
  do {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      throw_openssl("cannot get random bytes for the serial number of " + whose);
    }
    serial.reset(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
    if (!serial) {
      throw_openssl("cannot make the serial number of " + whose);
    }
  } while (BN_is_zero(serial.get()));
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    throw_openssl("cannot set the serial number of " + whose);
  }
}

}  // namespace hark::tls::detail
