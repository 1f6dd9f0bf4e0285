// Decoding of logged TLS messages: alerts, hellos, encrypted extensions and certificate chains
// (RFC 8446 §4.1.3, §4.3.1, §4.4.2, §6; RFC 5246 §7.4.1.3, §7.4.2).
//
//   (content type, bytes) ──alert──► level + description
//                          └handshake─► header (type, u24 length) ─► body by type
#include "hark/tls/handshake_log.hpp"

#include "hark/tls/client_hello.hpp"
#include "hark/tls/fingerprint.hpp"
#include "hark/tls/names.hpp"

#include "wire.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <memory>

namespace hark::tls {
namespace {

using detail::printable;
using detail::reader;
using detail::to_hex;
using json = nlohmann::json;

constexpr std::uint16_t ext_server_name = 0x0000;
constexpr std::uint16_t ext_supported_groups = 0x000a;
constexpr std::uint16_t ext_ec_point_formats = 0x000b;
constexpr std::uint16_t ext_alpn = 0x0010;
constexpr std::uint16_t ext_supported_versions = 0x002b;
constexpr std::uint16_t ext_key_share = 0x0033;

/** RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest. */
constexpr std::array<unsigned char, 32> hello_retry_random = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

/** Thrown inside this file when a message does not decode; becomes `error`. */
struct malformed {
  std::string why;
};

void require(bool ok, const char* why) {
  if (!ok) {
    throw malformed{why};
  }
}

std::uint16_t read_u16(reader& r, const char* what) {
  std::uint16_t value = 0;
  require(r.read_u16(value), what);
  return value;
}

std::string_view read_vector(reader& r, std::size_t prefix, const char* what) {
  std::string_view out;
  require(r.read_vector(prefix, out), what);
  return out;
}

/** The fields of one extension of a ServerHello, HelloRetryRequest or EncryptedExtensions. */
void describe_server_extension(std::uint16_t type, std::string_view data, bool retry, json& out) {
  reader r(data);
  switch (type) {
    case ext_supported_versions: {
      const auto version = read_u16(r, "supported_versions is not one version");
      out["version"] = named(version, version_name(version));
      break;
    }
    case ext_key_share: {
      const auto group = read_u16(r, "key_share has no group");
      out["group"] = named(group, group_name(group));
      if (!retry) {
        out["keyExchangeLength"] = read_vector(r, 2, "key_share key overruns").size();
      }
      break;
    }
    case ext_alpn: {
      reader names(read_vector(r, 2, "ALPN list overruns the extension"));
      json protocols = json::array();
      while (!names.empty()) {
        protocols.push_back(printable(read_vector(names, 1, "ALPN name overruns the list")));
      }
      out["protocols"] = std::move(protocols);
      break;
    }
    case ext_ec_point_formats: {
      json formats = json::array();
      for (const char c : read_vector(r, 1, "ec_point_formats overruns the extension")) {
        const auto format = static_cast<std::uint8_t>(c);
        formats.push_back(named(format, ec_point_format_name(format)));
      }
      out["formats"] = std::move(formats);
      break;
    }
    case ext_supported_groups: {
      reader groups(read_vector(r, 2, "supported_groups overruns the extension"));
      json list = json::array();
      while (!groups.empty()) {
        const auto group = read_u16(groups, "odd supported_groups length");
        list.push_back(named(group, group_name(group)));
      }
      out["groups"] = std::move(list);
      break;
    }
    case ext_server_name:  // empty in a server's answer (RFC 6066 §3)
    default:
      out["data"] = to_hex(data);
      return;
  }
  require(r.empty(), "bytes after an extension's data");
}

json describe_extensions(reader& r, bool retry) {
  reader list(read_vector(r, 2, "extensions overrun the message"));
  json out = json::array();
  while (!list.empty()) {
    const auto type = read_u16(list, "extension header overruns the list");
    const auto data = read_vector(list, 2, "extension data overruns the list");
    json ext = {{"type", named(type, extension_name(type))}};
    describe_server_extension(type, data, retry, ext);
    out.push_back(std::move(ext));
  }
  return out;
}

void describe_server_hello(std::string_view body, json& out) {
  reader r(body);
  const auto version = read_u16(r, "no version");
  std::string_view random;
  require(r.read_bytes(32, random), "no random");
  const bool retry =
      std::equal(random.begin(), random.end(), hello_retry_random.begin(),
                 [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; });
  const auto session_id = read_vector(r, 1, "session id overruns the message");
  const auto cipher = read_u16(r, "no cipher suite");
  std::uint8_t compression = 0;
  require(r.read_u8(compression), "no compression method");
  if (retry) {
    out["type"] = "hello_retry_request";
  }
  out["version"] = named(version, version_name(version));
  out["random"] = to_hex(random);
  out["sessionId"] = to_hex(session_id);
  out["cipherSuite"] = named(cipher, cipher_suite_name(cipher));
  out["compressionMethod"] = named(compression, compression_method_name(compression));
  out["extensions"] = r.empty() ? json::array() : describe_extensions(r, retry);
  require(r.empty(), "bytes after the extensions");
}

std::string asn1_time_iso(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return {};
  }
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string name_text(const X509_NAME* name) {
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    return {};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return printable(std::string_view(data, static_cast<std::size_t>(length)));
}

std::string pem_text(X509* cert) {
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return {};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(length)};
}

/** An iPAddress SAN (4 or 16 bytes) as text; anything else as hex. */
std::string ip_text(std::string_view bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = bytes.size() == 4 ? AF_INET : bytes.size() == 16 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, bytes.data(), text, sizeof text) == nullptr) {
    return to_hex(bytes);
  }
  return text;
}

json subject_alt_names(X509* cert) {
  json out = json::array();
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) {
    return out;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    const ASN1_STRING* s = nullptr;
    const char* kind = nullptr;
    if (name->type == GEN_DNS) {
      s = name->d.dNSName;
      kind = "dns";
    } else if (name->type == GEN_IPADD) {
      s = name->d.iPAddress;
      kind = "ip";
    } else {
      continue;
    }
    const std::string_view bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<std::size_t>(ASN1_STRING_length(s)));
    out.push_back({{"type", kind}, {"value", kind[0] == 'd' ? printable(bytes) : ip_text(bytes)}});
  }
  GENERAL_NAMES_free(names);
  return out;
}

json describe_certificate(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const std::unique_ptr<X509, decltype(&X509_free)> cert(
      d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  if (!cert) {
    return {{"error", "not a DER X.509 certificate"}, {"data", to_hex(der)}};
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  X509_digest(cert.get(), EVP_sha256(), digest, &digest_length);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  return {
      {"subject", name_text(X509_get_subject_name(cert.get()))},
      {"issuer", name_text(X509_get_issuer_name(cert.get()))},
      {"serialNumber", to_hex(std::string_view(reinterpret_cast<const char*>(serial->data),
                                               static_cast<std::size_t>(serial->length)))},
      {"notBefore", asn1_time_iso(X509_get0_notBefore(cert.get()))},
      {"notAfter", asn1_time_iso(X509_get0_notAfter(cert.get()))},
      {"subjectAltNames", subject_alt_names(cert.get())},
      {"sha256", to_hex(std::string_view(reinterpret_cast<const char*>(digest), digest_length))},
      {"pem", pem_text(cert.get())},
  };
}

void describe_certificate_message(std::string_view body, bool tls13, json& out) {
  reader r(body);
  if (tls13) {
    out["requestContext"] = to_hex(read_vector(r, 1, "request context overruns the message"));
  }
  reader list(read_vector(r, 3, "certificate list overruns the message"));
  require(r.empty(), "bytes after the certificate list");
  json chain = json::array();
  while (!list.empty()) {
    chain.push_back(describe_certificate(read_vector(list, 3, "certificate overruns the list")));
    if (tls13) {
      read_vector(list, 2, "certificate extensions overrun the list");
    }
  }
  out["certificates"] = std::move(chain);
}

void describe_client_hello(std::string_view message, json& out) {
  // parse_client_hello reads records: give it the message in one synthetic record.
  std::string record = {'\x16', '\x03', '\x01', static_cast<char>(message.size() >> 8),
                        static_cast<char>(message.size() & 0xff)};
  record.append(message);
  auto result = parse_client_hello(record);
  if (result.status != parse_status::complete) {
    throw malformed{result.error.empty() ? "truncated ClientHello" : result.error};
  }
  out.update(describe(*result.hello));
}

void describe_alert(std::string_view bytes, json& out) {
  require(bytes.size() == 2, "an alert is 2 bytes");
  const auto level = static_cast<std::uint8_t>(bytes[0]);
  const auto description = static_cast<std::uint8_t>(bytes[1]);
  const char* level_name = level == 1 ? "warning" : level == 2 ? "fatal" : "unknown";
  out["level"] = named(level, level_name);
  out["description"] = named(description, alert_name(description));
}

void describe_handshake(std::string_view message, bool tls13, json& out) {
  reader r(message);
  std::uint8_t type = 0;
  require(r.read_u8(type), "empty handshake message");
  out["type"] = handshake_type_name(type);
  std::uint32_t length = 0;
  std::string_view body;
  require(r.read_u24(length) && r.read_bytes(length, body) && r.empty(),
          "handshake length does not match the message");
  switch (type) {
    case 1:
      describe_client_hello(message, out);
      return;
    case 2:
      describe_server_hello(body, out);
      return;
    case 8: {
      reader e(body);
      out["extensions"] = describe_extensions(e, false);
      require(e.empty(), "bytes after the extensions");
      return;
    }
    case 11:
      describe_certificate_message(body, tls13, out);
      return;
    default:
      out["data"] = to_hex(body);
      return;
  }
}

}  // namespace

std::string handshake_type_name(std::uint8_t type) {
  switch (type) {
    case 0:
      return "hello_request";
    case 1:
      return "client_hello";
    case 2:
      return "server_hello";
    case 4:
      return "new_session_ticket";
    case 5:
      return "end_of_early_data";
    case 8:
      return "encrypted_extensions";
    case 11:
      return "certificate";
    case 12:
      return "server_key_exchange";
    case 13:
      return "certificate_request";
    case 14:
      return "server_hello_done";
    case 15:
      return "certificate_verify";
    case 16:
      return "client_key_exchange";
    case 20:
      return "finished";
    case 24:
      return "key_update";
    case 254:
      return "message_hash";
    default: {
      char text[16];
      std::snprintf(text, sizeof text, "unknown_0x%02x", static_cast<unsigned>(type));
      return text;
    }
  }
}

nlohmann::json describe_tls_message(std::uint8_t content_type, std::string_view bytes, bool tls13) {
  json out = json::object();
  try {
    if (content_type == content_type_alert) {
      out["type"] = "alert";
      describe_alert(bytes, out);
    } else if (content_type == content_type_handshake) {
      describe_handshake(bytes, tls13, out);
    } else {
      out["type"] = "record_" + std::to_string(content_type);
      out["data"] = to_hex(bytes);
    }
  } catch (const malformed& m) {
    const json type = out.value("type", json("unknown"));
    out = {{"type", type}, {"error", m.why}, {"data", to_hex(bytes)}};
  }
  return out;
}

}  // namespace hark::tls
