// TLS connection logs at rest: CBOR rows in tls_connections (migration 2).
#include "tls_log_store.hpp"

#include "hark/store/catalog.hpp"

#include "body_codec.hpp"
#include "statement.hpp"

#include <nlohmann/json.hpp>

namespace hark::store {
namespace {

using json = nlohmann::json;
using clock = std::chrono::system_clock;

std::int64_t unix_us(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

clock::time_point from_unix_us(std::int64_t us) {
  return clock::time_point(
      std::chrono::duration_cast<clock::duration>(std::chrono::microseconds(us)));
}

template <class T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json named_json(const std::optional<capture::named_u16>& value) {
  return value ? json{{"v", value->value}, {"n", value->name}} : json(nullptr);
}

std::optional<capture::named_u16> named_from(const json& j) {
  if (j.is_null()) {
    return std::nullopt;
  }
  return capture::named_u16{j.at("v").get<std::uint16_t>(), j.at("n").get<std::string>()};
}

std::optional<std::string> string_from(const json& j) {
  return j.is_null() ? std::nullopt : std::optional<std::string>(j.get<std::string>());
}

json message_json(const capture::tls_message& m) {
  return {{"t", unix_us(m.at)},
          {"l", static_cast<int>(m.leg)},
          {"s", static_cast<int>(m.side)},
          {"c", m.content_type},
          {"v", m.version},
          {"b", json::binary(std::vector<std::uint8_t>(m.bytes.begin(), m.bytes.end()))}};
}

capture::tls_message message_from(const json& j) {
  capture::tls_message m;
  m.at = from_unix_us(j.at("t").get<std::int64_t>());
  m.leg = j.at("l").get<int>() == 0 ? capture::tls_leg::client : capture::tls_leg::upstream;
  m.side = j.at("s").get<int>() == 0 ? capture::tls_side::client : capture::tls_side::server;
  m.content_type = j.at("c").get<std::uint8_t>();
  m.version = j.at("v").get<std::uint16_t>();
  const auto& bytes = j.at("b").get_binary();
  m.bytes.assign(bytes.begin(), bytes.end());
  return m;
}

}  // namespace

std::string encode_tls_log(const capture::tls_connection_log& log) {
  const auto& d = log.details;
  json messages = json::array();
  for (const auto& m : log.messages) {
    messages.push_back(message_json(m));
  }
  json client = nullptr;
  if (log.client_addr) {
    client = {{"ip", log.client_addr->ip}, {"port", optional_json(log.client_addr->port)}};
  }
  const json doc = {
      {"id", log.connection_id},
      {"at", unix_us(log.at)},
      {"client", std::move(client)},
      {"sni", optional_json(log.sni)},
      {"alpn", optional_json(log.alpn)},
      {"version", named_json(d.tls_version)},
      {"cipher", named_json(d.cipher_suite)},
      {"ja3", d.ja3 ? json{{"s", d.ja3->string}, {"h", d.ja3->hash}} : json(nullptr)},
      {"ja4", d.ja4 ? json{{"r", d.ja4->raw}, {"h", d.ja4->hashed}} : json(nullptr)},
      {"failure", optional_json(log.failure)},
      {"messages", std::move(messages)},
  };
  const auto bytes = json::to_cbor(doc);
  return {bytes.begin(), bytes.end()};
}

capture::tls_connection_log decode_tls_log(std::string_view cbor) {
  try {
    const auto doc = json::from_cbor(cbor.begin(), cbor.end());
    capture::tls_connection_log log;
    log.connection_id = doc.at("id").get<std::string>();
    log.at = from_unix_us(doc.at("at").get<std::int64_t>());
    if (const auto& c = doc.at("client"); !c.is_null()) {
      log.client_addr = capture::net_address{c.at("ip").get<std::string>(), std::nullopt};
      if (!c.at("port").is_null()) {
        log.client_addr->port = c.at("port").get<std::uint16_t>();
      }
    }
    log.sni = string_from(doc.at("sni"));
    log.alpn = string_from(doc.at("alpn"));
    auto& d = log.details;
    d.connection_id = log.connection_id;
    d.tls_version = named_from(doc.at("version"));
    d.cipher_suite = named_from(doc.at("cipher"));
    if (const auto& j = doc.at("ja3"); !j.is_null()) {
      d.ja3 = capture::ja3_fingerprint{j.at("s").get<std::string>(), j.at("h").get<std::string>()};
    }
    if (const auto& j = doc.at("ja4"); !j.is_null()) {
      d.ja4 = capture::ja4_fingerprint{j.at("r").get<std::string>(), j.at("h").get<std::string>()};
    }
    log.failure = string_from(doc.at("failure"));
    for (const auto& m : doc.at("messages")) {
      log.messages.push_back(message_from(m));
    }
    return log;
  } catch (const json::exception& e) {
    throw store_error(std::string("corrupt TLS connection log: ") + e.what());
  }
}

void insert_tls_log(database& db, const capture::tls_connection_log& log,
                    std::size_t compress_threshold) {
  auto cbor = encode_tls_log(log);
  const auto size = static_cast<std::int64_t>(cbor.size());
  const auto stored = encode_body(std::move(cbor), compress_threshold);
  auto st = statement::cached(
      db,
      "INSERT OR REPLACE INTO tls_connections (id, session_id, started_us, codec, size, data) "
      "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?2)");
  st.bind(1, log.connection_id)
      .bind(2, log.session_id)
      .bind(3, unix_us(log.at))
      .bind(4, static_cast<int>(stored.codec))
      .bind(5, size)
      .bind_blob_static(6, stored.data)
      .run();
}

std::optional<capture::tls_connection_log> load_tls_log(database& db, const std::string& id) {
  auto st = statement::cached(
      db, "SELECT session_id, codec, size, data FROM tls_connections WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) {
    return std::nullopt;
  }
  const auto codec = static_cast<body_codec>(st.column_int64(1));
  auto log = decode_tls_log(
      decode_body(codec, st.column_string(3), static_cast<std::size_t>(st.column_int64(2))));
  log.session_id = st.column_string(0);
  return log;
}

std::optional<capture::tls_connection_log> catalog::get_tls_connection(const std::string& id) {
  return load_tls_log(db_, id);
}

}  // namespace hark::store
