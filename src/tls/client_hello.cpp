// ClientHello reader: record reassembly (RFC 8446 §5.1), then the handshake body (§4.1.2) and
// the extensions Hark decodes. Written by hand: see client_hello.hpp for why.
//
//   input ──► record headers ──► handshake fragments ──► message (4 + length bytes)
//              (type 22, 0x03xx,      (reassembled until          │
//               1..18432 bytes)        the length is reached)     ▼
//                                                     body: version, random, session_id,
//                                                     cipher_suites, compression, extensions
#include "hark/tls/client_hello.hpp"

#include "hark/tls/names.hpp"

#include "wire.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace hark::tls {
namespace {

using detail::byte_at;
using detail::reader;

constexpr std::uint8_t content_type_handshake = 22;
constexpr std::uint8_t handshake_client_hello = 1;
constexpr std::size_t record_header_length = 5;
constexpr std::size_t handshake_header_length = 4;
constexpr std::size_t random_length = 32;
constexpr std::size_t max_session_id_length = 32;

// Extension types decoded into client_hello's conveniences.
constexpr std::uint16_t ext_server_name = 0;
constexpr std::uint16_t ext_supported_groups = 10;
constexpr std::uint16_t ext_ec_point_formats = 11;
constexpr std::uint16_t ext_signature_algorithms = 13;
constexpr std::uint16_t ext_alpn = 16;
constexpr std::uint16_t ext_supported_versions = 43;
constexpr std::uint16_t ext_psk_key_exchange_modes = 45;
constexpr std::uint16_t ext_key_share = 51;

std::string hex_u8(std::uint8_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", static_cast<unsigned>(value));
  return text;
}

std::string hex_u16(std::uint16_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%04x", static_cast<unsigned>(value));
  return text;
}

/** Reads `data` (an extension's data) as exactly one vector with a `prefix_bytes` length.
 *  Returns an error text, empty on success. */
std::string read_whole_vector(std::string_view data, std::size_t prefix_bytes,
                              std::string_view& list) {
  reader r(data);
  if (!r.read_vector(prefix_bytes, list)) {
    return "list length overruns the extension";
  }
  if (!r.empty()) {
    return std::to_string(r.remaining()) + " bytes after the list";
  }
  return {};
}

/** Reads `data` as exactly one vector of 16-bit values with a `prefix_bytes` length. Returns
 *  an error text, empty on success. */
std::string read_u16_list(std::string_view data, std::size_t prefix_bytes,
                          std::vector<std::uint16_t>& out) {
  std::string_view list;
  if (std::string error = read_whole_vector(data, prefix_bytes, list); !error.empty()) {
    return error;
  }
  if (list.size() % 2 != 0) {
    return "odd list length " + std::to_string(list.size());
  }
  for (std::size_t i = 0; i < list.size(); i += 2) {
    out.push_back(static_cast<std::uint16_t>(byte_at(list, i) << 8 | byte_at(list, i + 1)));
  }
  return {};
}

/** Reads `data` as exactly one vector of bytes with a 1-byte length. */
std::string read_u8_list(std::string_view data, std::vector<std::uint8_t>& out) {
  std::string_view list;
  if (std::string error = read_whole_vector(data, 1, list); !error.empty()) {
    return error;
  }
  out.assign(list.begin(), list.end());
  return {};
}

/** ServerNameList of RFC 6066 §3. Keeps host_name (0) entries; other name types are skipped
 *  (every NameType defined so far uses the same 2-byte length). */
std::string read_server_names(std::string_view data, std::vector<std::string>& out) {
  std::string_view list;
  if (std::string error = read_whole_vector(data, 2, list); !error.empty()) {
    return error;
  }
  reader entries(list);
  while (!entries.empty()) {
    std::uint8_t name_type = 0;
    std::string_view name;
    if (!entries.read_u8(name_type) || !entries.read_vector(2, name)) {
      return "server name entry overruns the list";
    }
    if (name_type == 0) {
      out.emplace_back(name);
    }
  }
  return {};
}

/** ProtocolNameList of RFC 7301 §3.1. Empty names are kept (JA4 has a rule for them). */
std::string read_alpn(std::string_view data, std::vector<std::string>& out) {
  std::string_view list;
  if (std::string error = read_whole_vector(data, 2, list); !error.empty()) {
    return error;
  }
  reader names(list);
  while (!names.empty()) {
    std::string_view name;
    if (!names.read_vector(1, name)) {
      return "protocol name overruns the list";
    }
    out.emplace_back(name);
  }
  return {};
}

/** KeyShareClientHello of RFC 8446 §4.2.8. */
std::string read_key_shares(std::string_view data, std::vector<key_share_entry>& out) {
  std::string_view list;
  if (std::string error = read_whole_vector(data, 2, list); !error.empty()) {
    return error;
  }
  reader shares(list);
  while (!shares.empty()) {
    key_share_entry entry;
    std::string_view key_exchange;
    if (!shares.read_u16(entry.group) || !shares.read_vector(2, key_exchange)) {
      return "key share entry overruns the list";
    }
    entry.key_exchange_length = key_exchange.size();
    out.push_back(entry);
  }
  return {};
}

/** Decodes the extensions Hark understands into `hello`'s conveniences. Others are kept raw. */
std::string decode_extension(const tls_extension& ext, client_hello& hello) {
  switch (ext.type) {
    case ext_server_name: {
      std::string error = read_server_names(ext.data, hello.server_names);
      if (error.empty() && !hello.server_names.empty()) {
        hello.sni = hello.server_names.front();
      }
      return error;
    }
    case ext_supported_groups:
      return read_u16_list(ext.data, 2, hello.supported_groups);
    case ext_ec_point_formats:
      return read_u8_list(ext.data, hello.ec_point_formats);
    case ext_signature_algorithms:
      return read_u16_list(ext.data, 2, hello.signature_algorithms);
    case ext_alpn:
      return read_alpn(ext.data, hello.alpn);
    case ext_supported_versions:
      return read_u16_list(ext.data, 1, hello.supported_versions);
    case ext_psk_key_exchange_modes:
      return read_u8_list(ext.data, hello.psk_key_exchange_modes);
    case ext_key_share:
      return read_key_shares(ext.data, hello.key_shares);
    default:
      return {};
  }
}

/** The extensions block after compression_methods: type, data; each type at most once
 *  (RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type"). */
std::string read_extensions(std::string_view block, client_hello& hello) {
  std::vector<bool> seen(65536, false);
  reader r(block);
  while (!r.empty()) {
    tls_extension ext;
    std::string_view data;
    if (!r.read_u16(ext.type)) {
      return "extension type truncated at the end of the extensions block";
    }
    if (!r.read_vector(2, data)) {
      return "extension " + hex_u16(ext.type) + " (" + extension_name(ext.type) +
             "): length overruns the extensions block";
    }
    if (seen[ext.type]) {
      return "duplicate extension " + hex_u16(ext.type) + " (" + extension_name(ext.type) + ")";
    }
    seen[ext.type] = true;
    ext.data.assign(data);
    if (std::string error = decode_extension(ext, hello); !error.empty()) {
      return "extension " + hex_u16(ext.type) + " (" + extension_name(ext.type) + "): " + error;
    }
    hello.extensions.push_back(std::move(ext));
  }
  return {};
}

/** The ClientHello body (after the 4-byte handshake header), RFC 8446 §4.1.2. */
std::string read_body(std::string_view body, client_hello& hello) {
  reader r(body);
  std::string_view random;
  std::string_view session_id;
  std::string_view suites;
  std::string_view compression;
  if (!r.read_u16(hello.legacy_version)) {
    return "ClientHello truncated in legacy_version";
  }
  if (!r.read_bytes(random_length, random)) {
    return "ClientHello truncated in random";
  }
  if (!r.read_vector(1, session_id)) {
    return "legacy_session_id length overruns the ClientHello";
  }
  if (session_id.size() > max_session_id_length) {
    return "legacy_session_id of " + std::to_string(session_id.size()) + " bytes (at most 32)";
  }
  if (!r.read_vector(2, suites)) {
    return "cipher_suites length overruns the ClientHello";
  }
  if (suites.size() % 2 != 0) {
    return "odd cipher_suites length " + std::to_string(suites.size());
  }
  if (!r.read_vector(1, compression)) {
    return "legacy_compression_methods length overruns the ClientHello";
  }
  hello.random.assign(random);
  hello.session_id.assign(session_id);
  for (std::size_t i = 0; i < suites.size(); i += 2) {
    hello.cipher_suites.push_back(
        static_cast<std::uint16_t>(byte_at(suites, i) << 8 | byte_at(suites, i + 1)));
  }
  hello.compression_methods.assign(compression.begin(), compression.end());
  if (r.empty()) {
    return {};  // no extensions block at all: legal before TLS 1.3 (RFC 5246 §7.4.1.2)
  }
  std::string_view extensions;
  if (!r.read_vector(2, extensions)) {
    return "extensions length overruns the ClientHello";
  }
  if (!r.empty()) {
    return std::to_string(r.remaining()) + " bytes of trailing data after the extensions";
  }
  return read_extensions(extensions, hello);
}

parse_result fail(parse_status status, std::string error) {
  parse_result result;
  result.status = status;
  result.error = std::move(error);
  return result;
}

/** Checks the bytes available of a record header (1 to 5 of them). The first record decides
 *  whether this is TLS at all; a later one that is not a handshake record is malformed
 *  (RFC 8446 §5.1: handshake messages MUST NOT be interleaved with other record types). */
std::optional<parse_result> check_record_header(std::string_view header, int index) {
  const std::string where = "record " + std::to_string(index) + ": ";
  const parse_status bad = index == 1 ? parse_status::not_tls : parse_status::malformed;
  if (byte_at(header, 0) != content_type_handshake) {
    return fail(bad, where + "content type " + std::to_string(byte_at(header, 0)) +
                         " is not handshake (22)");
  }
  if ((header.size() >= 2 && byte_at(header, 1) != 0x03) ||
      (header.size() >= 3 && byte_at(header, 2) > 0x04)) {
    const std::size_t n = std::min<std::size_t>(header.size(), 3);
    std::string version = "0x";
    for (std::size_t i = 1; i < n; ++i) {
      version += hex_u8(byte_at(header, i)).substr(2);
    }
    return fail(bad, where + "record version " + version + " is not 0x0300..0x0304");
  }
  if (header.size() < record_header_length) {
    return std::nullopt;
  }
  const std::size_t length = static_cast<std::size_t>(byte_at(header, 3)) << 8 | byte_at(header, 4);
  if (length == 0) {
    return fail(parse_status::malformed, where + "empty handshake record");
  }
  if (length > max_record_length) {
    return fail(parse_status::malformed, where + "length " + std::to_string(length) + " exceeds " +
                                             std::to_string(max_record_length));
  }
  return std::nullopt;
}

/** Checks the bytes available of the handshake header (1 to 4 of them); on success with all
 *  4, sets `message_length` to the whole message's length (header included). */
std::optional<parse_result> check_handshake_header(std::string_view header,
                                                   std::size_t& message_length) {
  if (byte_at(header, 0) != handshake_client_hello) {
    return fail(parse_status::malformed,
                "handshake type " + std::to_string(byte_at(header, 0)) + " is not ClientHello (1)");
  }
  if (header.size() < handshake_header_length) {
    return std::nullopt;
  }
  const std::size_t length = static_cast<std::size_t>(byte_at(header, 1)) << 16 |
                             static_cast<std::size_t>(byte_at(header, 2)) << 8 | byte_at(header, 3);
  if (length > max_client_hello_length) {
    return fail(parse_status::malformed, "ClientHello length " + std::to_string(length) +
                                             " exceeds " + std::to_string(max_client_hello_length));
  }
  message_length = handshake_header_length + length;
  return std::nullopt;
}

/** Parses the reassembled message; `consumed` is the end of the record that completed it. */
parse_result finish(std::string&& message, std::size_t consumed) {
  client_hello hello;
  const std::string_view body = std::string_view(message).substr(handshake_header_length);
  if (std::string error = read_body(body, hello); !error.empty()) {
    return fail(parse_status::malformed, std::move(error));
  }
  hello.raw = std::move(message);
  parse_result result;
  result.status = parse_status::complete;
  result.consumed = consumed;
  result.hello = std::move(hello);
  return result;
}

}  // namespace

const tls_extension* client_hello::find_extension(std::uint16_t type) const noexcept {
  const auto it = std::find_if(extensions.begin(), extensions.end(),
                               [type](const tls_extension& ext) { return ext.type == type; });
  return it == extensions.end() ? nullptr : &*it;
}

parse_result parse_client_hello(std::string_view input) {
  std::string message;             // handshake bytes reassembled so far
  std::size_t message_length = 0;  // header + body, once the handshake header is complete
  std::size_t pos = 0;
  for (int index = 1; pos < input.size(); ++index) {
    const std::string_view header = input.substr(pos, record_header_length);
    if (auto failed = check_record_header(header, index)) {
      return *std::move(failed);
    }
    if (header.size() < record_header_length) {
      break;
    }
    const std::size_t length =
        static_cast<std::size_t>(byte_at(header, 3)) << 8 | byte_at(header, 4);
    const std::size_t before = message.size();
    message.append(input.substr(pos + record_header_length, length));
    if (message_length == 0 && !message.empty()) {
      if (auto failed =
              check_handshake_header(std::string_view(message).substr(0, 4), message_length)) {
        return *std::move(failed);
      }
    }
    if (message_length != 0 && before + length >= message_length) {
      // This record carries the end of the ClientHello; nothing else may share it, since a
      // client sends no other handshake message before the server answers.
      if (before + length > message_length) {
        return fail(parse_status::malformed,
                    "record " + std::to_string(index) + ": " +
                        std::to_string(before + length - message_length) +
                        " bytes follow the ClientHello in its last record");
      }
      if (message.size() < message_length) {
        break;
      }
      return finish(std::move(message), pos + record_header_length + length);
    }
    pos += record_header_length + length;
  }
  return parse_result{};  // need_more
}

}  // namespace hark::tls
