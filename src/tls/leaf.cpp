#include "hark/tls/leaf.hpp"

#include "openssl_util.hpp"

#include "hark/tls/ca.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace hark::tls {

using detail::set_random_serial;
using detail::throw_openssl;
namespace {

template <auto Free>
struct openssl_deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using ext_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_deleter<GENERAL_NAMES_free>>;
using general_name_ptr = std::unique_ptr<GENERAL_NAME, openssl_deleter<GENERAL_NAME_free>>;
using octet_string_ptr =
    std::unique_ptr<ASN1_OCTET_STRING, openssl_deleter<ASN1_OCTET_STRING_free>>;
using ia5_string_ptr = std::unique_ptr<ASN1_IA5STRING, openssl_deleter<ASN1_IA5STRING_free>>;

// X.520 ub-common-name.
constexpr std::size_t max_common_name_length = 64;
// RFC 1035 §2.3.4: 255 octets on the wire, 253 characters in text form.
constexpr std::size_t max_dns_name_length = 253;

/** The network-order bytes of an IP literal: 4 for IPv4, 16 for IPv6. */
struct ip_address {
  std::array<unsigned char, 16> bytes{};
  int family = AF_INET;
  int size() const noexcept { return family == AF_INET ? 4 : 16; }
};

std::optional<ip_address> parse_ip(std::string_view name) {
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  // INET6_ADDRSTRLEN covers the longest IPv4-mapped form; longer input is not an address.
  if (name.empty() || name.size() >= INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  const std::string text(name);
  ip_address ip;
  if (inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) {
    return ip;
  }
  ip.family = AF_INET6;
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
    return ip;
  }
  return std::nullopt;
}

std::string ip_text(const ip_address& ip) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(ip.family, ip.bytes.data(), text.data(), text.size()) == nullptr) {
    throw std::invalid_argument("cannot format an IP address");
  }
  return text.data();
}

/** ASCII only, whatever the process locale: IDNs arrive as A-labels (RFC 5890). */
bool is_dns_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '*';
}

bool is_dns_name(std::string_view name) noexcept {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  return !name.empty() && name.size() <= max_dns_name_length &&
         std::all_of(name.begin(), name.end(), is_dns_char);
}

std::string normalize_dns_name(const std::string& name) {
  if (!is_dns_name(name)) {
    throw std::invalid_argument("not a DNS name or IP address: '" + name + "'");
  }
  std::string out = name;
  if (out.back() == '.') {
    out.pop_back();
  }
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

void set_validity(X509* cert, X509* ca_cert, std::chrono::seconds lifetime) {
  std::time_t now = std::time(nullptr);
  const ASN1_TIME* ca_not_after = X509_get0_notAfter(ca_cert);
  if (X509_cmp_time(ca_not_after, &now) <= 0) {
    throw std::runtime_error("the CA certificate has expired: create a new CA to intercept TLS");
  }
  const std::time_t not_before = now - leaf_issuer::backdate.count();
  std::time_t not_after = not_before + lifetime.count();
  if (ASN1_TIME_set(X509_getm_notBefore(cert), not_before) == nullptr) {
    throw_openssl("cannot set a leaf validity");
  }
  // A leaf outliving its issuer would be rejected by clients anyway: end with the CA.
  if (X509_cmp_time(ca_not_after, &not_after) < 0) {
    if (X509_set1_notAfter(cert, ca_not_after) != 1) {
      throw_openssl("cannot set a leaf validity");
    }
  } else if (ASN1_TIME_set(X509_getm_notAfter(cert), not_after) == nullptr) {
    throw_openssl("cannot set a leaf validity");
  }
}

void set_subject(X509* cert, const std::string& first_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  const auto add = [name](const char* field, std::string_view value) {
    if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      throw_openssl(std::string("cannot set a leaf subject ") + field);
    }
  };
  add("O", "Hark");
  add("CN", std::string_view(first_name).substr(0, max_common_name_length));
}

general_name_ptr make_general_name(const std::string& name) {
  general_name_ptr general(GENERAL_NAME_new());
  if (!general) {
    throw_openssl("cannot allocate a subject alternative name");
  }
  if (const auto ip = parse_ip(name)) {
    octet_string_ptr value(ASN1_OCTET_STRING_new());
    if (!value || ASN1_OCTET_STRING_set(value.get(), ip->bytes.data(), ip->size()) != 1) {
      throw_openssl("cannot encode the IP address " + name);
    }
    GENERAL_NAME_set0_value(general.get(), GEN_IPADD, value.release());
  } else {
    ia5_string_ptr value(ASN1_IA5STRING_new());
    if (!value || ASN1_STRING_set(value.get(), name.data(), static_cast<int>(name.size())) != 1) {
      throw_openssl("cannot encode the DNS name " + name);
    }
    GENERAL_NAME_set0_value(general.get(), GEN_DNS, value.release());
  }
  return general;
}

void add_subject_alt_names(X509* cert, const std::vector<std::string>& names) {
  general_names_ptr general_names(sk_GENERAL_NAME_new_null());
  if (!general_names) {
    throw_openssl("cannot allocate the subject alternative names");
  }
  for (const std::string& name : names) {
    general_name_ptr general = make_general_name(name);
    if (sk_GENERAL_NAME_push(general_names.get(), general.get()) <= 0) {
      throw_openssl("cannot add a subject alternative name");
    }
    static_cast<void>(general.release());  // now owned by the stack
  }
  // Not critical: the subject is not empty (RFC 5280 §4.2.1.6).
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, general_names.get(), 0, X509V3_ADD_DEFAULT) !=
      1) {
    throw_openssl("cannot add the subject alternative names");
  }
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ext_ptr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    throw_openssl(std::string("cannot add the leaf extension ") + OBJ_nid2sn(nid));
  }
}

void add_extensions(X509* cert, X509* ca_cert) {
  X509V3_CTX ctx{};
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca_cert, cert, nullptr, nullptr, 0);
  add_extension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE");
  // An ECDSA key signs (ECDHE); keyEncipherment is an RSA key-transport bit (RFC 5480 §3).
  add_extension(cert, &ctx, NID_key_usage, "critical,digitalSignature");
  add_extension(cert, &ctx, NID_ext_key_usage, "serverAuth");
  add_extension(cert, &ctx, NID_subject_key_identifier, "hash");
  // A bring-your-own CA may lack an SKI: then identify it by issuer name and serial instead.
  const bool ca_has_ski = X509_get0_subject_key_id(ca_cert) != nullptr;
  add_extension(cert, &ctx, NID_authority_key_identifier,
                ca_has_ski ? "keyid:always" : "issuer:always");
}

}  // namespace

std::vector<std::string> normalize_names(const std::vector<std::string>& names) {
  if (names.empty()) {
    throw std::invalid_argument("a leaf certificate needs at least one name");
  }
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    const auto ip = parse_ip(name);
    std::string normal = ip ? ip_text(*ip) : normalize_dns_name(name);
    if (std::find(out.begin(), out.end(), normal) == out.end()) {
      out.push_back(std::move(normal));
    }
  }
  return out;
}

bool is_certificate_name(const std::string& name) noexcept {
  try {
    return parse_ip(name).has_value() || is_dns_name(name);
  } catch (...) {
    return false;  // std::string allocation in parse_ip
  }
}

bool is_ip_literal(const std::string& name) {
  return parse_ip(name).has_value();
}

leaf_issuer::leaf_issuer(const certificate_authority& ca, std::chrono::seconds lifetime)
    : lifetime_(std::clamp(lifetime, std::chrono::seconds(backdate + std::chrono::minutes(1)),
                           max_lifetime)) {
  if (ca.cert() == nullptr || ca.key() == nullptr) {
    throw std::invalid_argument("leaf_issuer needs a loaded certificate authority");
  }
  if (X509_up_ref(ca.cert()) != 1 || EVP_PKEY_up_ref(ca.key()) != 1) {
    throw_openssl("cannot reference the CA");
  }
  ca_cert_.reset(ca.cert());
  ca_key_.reset(ca.key());
  key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key_) {
    throw_openssl("cannot generate the leaf key pair");
  }
}

x509_ptr leaf_issuer::issue(const std::vector<std::string>& names) const {
  const std::vector<std::string> normal = normalize_names(names);
  x509_ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    throw_openssl("cannot create a leaf certificate");
  }
  set_random_serial(cert.get(), "a leaf");
  set_validity(cert.get(), ca_cert_.get(), lifetime_);
  set_subject(cert.get(), normal.front());
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert_.get())) != 1 ||
      X509_set_pubkey(cert.get(), key_.get()) != 1) {
    throw_openssl("cannot set the leaf issuer and key");
  }
  add_subject_alt_names(cert.get(), normal);
  add_extensions(cert.get(), ca_cert_.get());
  if (X509_sign(cert.get(), ca_key_.get(), EVP_sha256()) <= 0) {
    throw_openssl("cannot sign a leaf certificate for " + normal.front());
  }
  return cert;
}

}  // namespace hark::tls
